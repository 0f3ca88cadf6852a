"""The default modules' building blocks: encoders picked by observation space (catalog.py),
the LSTM core (recurrent.py) and action masking (action_mask.py).

`catalog` and `spaces` import no torch at module level, so config checks can use them before
torch is loaded; `encoders`, `recurrent` and `action_mask` are torch modules.
"""
