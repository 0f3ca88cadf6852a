"""`python -m rlrun ...` is the same as the `rlrun` command."""

from rlrun.cli import entry

entry()
