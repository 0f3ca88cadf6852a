"""`python -m rlrun ...` is the same as the `rlrun` command."""

import sys

from rlrun.cli import main

sys.exit(main())
