"""RLlib's tuned-example YAML files (the format of the removed `rllib train file x.yaml`).

`parse` reads and checks a file, `mapping` holds the RLlib-key -> rlrun-key table with its value
transforms, `convert` turns one experiment into Hydra overrides or rlrun experiment YAML, and
`commands` is what `rlrun train file=...` and `rlrun convert` run. Nothing here imports torch
or Ray. The user's side, with the key table: docs/rllib_yaml.md.
"""
