"""RLlib's tuned-example YAML files (the format of the removed `rllib train file x.yaml`).

`parse` reads and checks a file, `mapping` holds the RLlib-key -> rlrun-key table with its value
transforms, `convert` turns one experiment into rlrun keys and `emit` into Hydra overrides or
rlrun experiment YAML, `defaults` fills what a file leaves out with RLlib's defaults (of the API
stack the file was written for), `actions` is RLlib's normalize_actions as a module-to-env piece,
and `commands` is what `rlrun train file=...` and `rlrun convert` run. Nothing here imports torch
or Ray (a PPO file's env is made once, to read its action bounds). The user's side, with the key
table and the defaults table: docs/rllib_yaml.md.
"""
