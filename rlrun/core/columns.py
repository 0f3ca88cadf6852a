"""Names of batch columns shared by env runners, connectors, modules and learners."""

OBS = "obs"
ACTIONS = "actions"
REWARDS = "rewards"
TERMINATEDS = "terminateds"
TRUNCATEDS = "truncateds"
# False on the step a NEXT_STEP-autoresetting vector env spends resetting a finished sub-env:
# its obs is the previous episode's final observation and its action was ignored.
VALID = "valid"
ACTION_DIST_INPUTS = "action_dist_inputs"
ACTION_LOGP = "action_logp"
VF_PREDS = "vf_preds"
ADVANTAGES = "advantages"
VALUE_TARGETS = "value_targets"

DEFAULT_MODULE_ID = "default_policy"
