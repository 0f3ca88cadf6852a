"""Sweeps: `rlrun train -m ...` runs one trial per combination (or per search step) and ends
with a summary table. See docs/sweeps.md."""
