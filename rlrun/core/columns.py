"""Names of batch columns shared by env runners, connectors, modules and learners."""

OBS = "obs"
ACTIONS = "actions"
REWARDS = "rewards"
TERMINATEDS = "terminateds"
TRUNCATEDS = "truncateds"
# [T, N] bool, False for rows that must not count: the step a NEXT_STEP-autoresetting vector
# env spends resetting a finished sub-env (its obs is the previous episode's final observation
# and its action was ignored) and, in sequence batches, padding. Losses take masked means.
MASK = "mask"
VALID = MASK  # the runner's name for the same column
ACTION_DIST_INPUTS = "action_dist_inputs"
ACTION_LOGP = "action_logp"
VF_PREDS = "vf_preds"
ADVANTAGES = "advantages"
VALUE_TARGETS = "value_targets"
# Recurrent modules: the state a forward pass starts from ([B, ...] tree: at each sequence start
# in training, per sub-env when acting) and the state it ends in.
STATE_IN = "state_in"
STATE_OUT = "state_out"
# Previous actions/rewards of the `prev_actions_prev_rewards` connector (Dict observation keys).
PREV_ACTIONS = "prev_n_actions"
PREV_REWARDS = "prev_n_rewards"

DEFAULT_MODULE_ID = "default_policy"
