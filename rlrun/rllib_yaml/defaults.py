"""RLlib's defaults for every setting an RLlib file leaves out.

A tuned-example file states only what it changes from RLlib's defaults, so file mode fills the
rest with RLlib's values, not rlrun's (those are tuned for wall-clock time on a CPU). The values
are RLlib 2.x's: the new API stack's (RLlib 2.60's AlgorithmConfig, PPOConfig, DQNConfig,
SACConfig) unless the file is an old-stack one (`detect_stack`); where the old stack's differ
(DQN's `hiddens` head, its EpsilonGreedy schedule and fragment of 4 steps, SAC's ReLU networks,
actor learning rate and fragment of 1 step) its values are used. docs/rllib_yaml.md holds the
same table ("Defaults that differ"); tests/config/test_rllib_yaml.py checks every entry.

Some defaults depend on what the file does set: RLlib's batch sizes count all learners, its
`rollout_fragment_length: auto` splits the train batch over all sub-envs, and a replay
algorithm's replay ratio follows from the batch, the fragment and the number of sub-envs
("natural" when `training_intensity` is not given). `apply` works those out from the
experiment's own values.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from rlrun.rllib_yaml.parse import Grid

if TYPE_CHECKING:
    from rlrun.rllib_yaml.convert import Converter

OLD, NEW = "old", "new"


@dataclass(frozen=True)
class Default:
    """RLlib's default for one rlrun key: the value (per stack where they differ), and the
    RLlib setting it comes from (as messages and the docs name it)."""

    key: str
    new: Any
    rllib: str
    old: Any = ...  # Ellipsis: as on the new stack

    def value(self, stack: str) -> Any:
        return self.new if stack == NEW or self.old is ... else self.old


# The same for every algorithm. RLlib's seed is None (a random one each run); rlrun keeps its
# seed 0: a run is one draw either way, and this one can be repeated.
COMMON: tuple[Default, ...] = (
    Default("env_runner.num_envs_per_env_runner", 1, "num_envs_per_env_runner"),
    Default("env_runner.sample_timeout_s", 60.0, "sample_timeout_s"),
    Default(
        "fault_tolerance.delay_between_env_runner_restarts_s",
        60.0,
        "delay_between_env_runner_restarts_s",
    ),
    Default("checkpoint.at_end", False, "checkpoint_at_end (Tune's)"),
)

PPO: tuple[Default, ...] = (
    Default("algo.lr", 5e-5, "lr"),
    Default("algo.num_epochs", 30, "num_epochs (num_sgd_iter)"),
    Default("algo.lambda_", 1.0, "lambda"),
    Default("algo.clip_param", 0.3, "clip_param"),
    # RLlib's value loss is (V - target)^2, rlrun's 0.5 (V - target)^2: the coefficient doubles.
    Default("algo.vf_loss_coeff", 2.0, "vf_loss_coeff (1.0)"),
    Default("algo.vf_loss_clip", 10.0, "vf_clip_param"),
    Default("algo.use_kl_loss", True, "use_kl_loss"),
    Default("algo.grad_clip", None, "grad_clip"),
    Default("algo.model.fcnet_hiddens", [256, 256], "model.fcnet_hiddens"),
    Default("algo.model.free_log_std", False, "model.free_log_std"),
    Default("algo.model.lstm_cell_size", 256, "model.lstm_cell_size"),
    Default("evaluation.explore", True, "evaluation_config.explore"),
)

DQN: tuple[Default, ...] = (
    Default("algo.lr", 5e-4, "lr"),
    Default("algo.grad_clip", 40.0, "grad_clip"),
    Default("algo.learning_starts", 1000, "num_steps_sampled_before_learning_starts"),
    Default("algo.n_step", 1, "n_step"),
    Default("algo.target_network_update_freq", 500, "target_network_update_freq"),
    Default(
        "algo.epsilon",
        [[0, 1.0], [10000, 0.05]],
        "epsilon (new stack), exploration_config (old)",
        old=[[0, 1.0], [10000, 0.02]],
    ),
    Default("algo.replay.prioritized", True, "replay_buffer_config.type"),
    Default("algo.model.fcnet_hiddens", [256, 256], "model.fcnet_hiddens"),
    Default("algo.model.fcnet_activation", "tanh", "model.fcnet_activation"),
    # The old stack's `hiddens: [256]`: a ReLU layer per head (advantage, value) on the encoder.
    Default("algo.model.head_fcnet_hiddens", [], "model.head_fcnet_hiddens / hiddens", old=[256]),
)

SAC: tuple[Default, ...] = (
    Default("algo.actor_lr", 3e-5, "actor_lr / optimization.actor_learning_rate", old=3e-4),
    Default("algo.learning_starts", 1500, "num_steps_sampled_before_learning_starts"),
    Default("algo.min_sample_timesteps_per_iteration", 100, "min_sample_timesteps_per_iteration"),
    Default("algo.replay.capacity", 1_000_000, "replay_buffer_config.capacity"),
    Default("algo.replay.prioritized", True, "replay_buffer_config.type"),
    Default("algo.model.fcnet_hiddens", [256, 256], "model_config / q_model_config"),
    Default(
        "algo.model.fcnet_activation",
        "tanh",
        "model_config (new stack), q_model_config / policy_model_config (old)",
        old="relu",
    ),
    Default("evaluation.explore", True, "evaluation_config.explore"),
)

TABLES: dict[str, tuple[Default, ...]] = {"PPO": PPO, "DQN": DQN, "SAC": SAC}

# RLlib's SimpleQ and Ape-X DQN (old stack only) are DQN with other defaults, applied over DQN's.
SIMPLE_Q: tuple[Default, ...] = (
    Default("algo.double_q", False, "SimpleQ (no double Q)"),
    Default("algo.dueling", False, "SimpleQ (no dueling heads)"),
    Default("algo.model.head_fcnet_hiddens", [], "SimpleQ (no hiddens head)"),
    Default("algo.replay.prioritized", False, "replay_buffer_config.type (MultiAgentReplayBuffer)"),
)
# Horgan et al. 2018 (https://arxiv.org/abs/1803.00933): many actors, 3-step returns, prioritized
# replay. Its per-runner epsilons (PerWorkerEpsilonGreedy) are not built: every runner follows
# the EpsilonGreedy schedule.
APEX: tuple[Default, ...] = (
    Default("algo.n_step", 3, "n_step"),
    Default("algo.learning_starts", 50_000, "num_steps_sampled_before_learning_starts"),
    Default("algo.replay.capacity", 2_000_000, "replay_buffer_config.capacity"),
    Default(
        "algo.min_sample_timesteps_per_iteration", 25_000, "min_sample_timesteps_per_iteration"
    ),
    Default("env_runner.num_env_runners", 32, "num_workers"),
)
PRESETS: dict[str, tuple[Default, ...]] = {"SimpleQ": SIMPLE_Q, "APEX": APEX}
PRESET_SUMMARY = {
    "SimpleQ": "no double Q, no dueling heads, no hiddens head, uniform replay",
    "APEX": "32 remote env runners, 3-step returns, prioritized replay of 2M, "
    "one replayed transition per sampled step; per-runner epsilons are not built",
}
# Ape-X counts target updates in trained samples (500k by default), rlrun in env steps sampled.
APEX_TARGET_UPDATE_TRAINED = 500_000

# Train batch, over all learners (RLlib's train_batch_size).
TRAIN_BATCH = {"PPO": 4000, "DQN": 32, "SAC": 256, "APEX": 512}
PPO_MINIBATCH = 128
PPO_ENV_RUNNERS = 2  # PPOConfig's num_env_runners
# Replay algorithms' rollout_fragment_length: "auto" (new stack) or the old stack's number.
OLD_FRAGMENT = {"DQN": 4, "SAC": 1, "APEX": 50}

# --- which stack a file was written for ------------------------------------------------------

# Switches that say it outright (True: the new stack).
_SWITCHES = (
    "enable_rl_module_and_learner",
    "enable_env_runner_and_connector_v2",
    "_enable_new_api_stack",
    "_enable_rl_module_api",
    "_enable_learner_api",
)
# Keys only the old API stack reads (or spells this way).
OLD_STACK_KEYS = frozenset(
    {
        "model",
        "exploration_config",
        "hiddens",
        "noisy",
        "sigma0",
        "Q_model",
        "policy_model",
        "q_model_config",
        "policy_model_config",
        "optimization",
        "no_done_at_end",
        "soft_horizon",
        "horizon",
        "_fake_gpus",
        "num_gpus",
        "observation_filter",
        "num_workers",
        "num_rollout_workers",
        "num_envs_per_worker",
        "sgd_minibatch_size",
        "num_sgd_iter",
        "buffer_size",
        "prioritized_replay",
        "learning_starts",
        "timesteps_per_iteration",
        "min_sample_timesteps_per_reporting",
        "lr_schedule",
        "entropy_coeff_schedule",
        "metrics_smoothing_episodes",
        "evaluation_num_workers",
        "enable_connectors",
        "remote_worker_envs",
    }
)
# Result keys of the old stack's metrics (the new one reports env_runners/...).
_OLD_METRICS = ("episode_reward_", "sampler_results/", "evaluation/episode_reward_")


def detect_stack(config: dict[str, Any], stop: Any, marked_old: bool) -> tuple[str, str]:
    """("old" | "new", why): the file's own switches first, then RLlib's `# @OldAPIStack`
    comment, then keys that only the old stack has; new otherwise."""
    api = config.get("api_stack")
    switches = {k: config[k] for k in _SWITCHES if k in config}
    if isinstance(api, dict):
        switches.update({k: api[k] for k in _SWITCHES if k in api})
    said = [v for v in switches.values() if isinstance(v, bool)]
    if said:
        stack = NEW if any(said) else OLD
        return stack, f"{next(iter(switches))}: {'true' if stack == NEW else 'false'}"
    if marked_old:
        return OLD, "its # @OldAPIStack comment"
    old_keys = [k for k in config if k in OLD_STACK_KEYS]
    replay = config.get("replay_buffer_config")
    kind = replay.get("type") if isinstance(replay, dict) else None
    if isinstance(kind, str) and "Episode" not in kind:
        old_keys.append(f"replay_buffer_config.type: {kind}")
    if isinstance(stop, dict):
        old_keys += [k for k in stop if isinstance(k, str) and k.startswith(_OLD_METRICS)]
    if old_keys:
        return OLD, ", ".join(old_keys[:3]) + (", ..." if len(old_keys) > 3 else "")
    return NEW, "no old-stack keys"


# --- applying them ---------------------------------------------------------------------------


def apply(c: Converter) -> None:
    """Set RLlib's default for every table key the experiment's file did not set, then the
    defaults that follow from the file's own values (batch sizes, fragments, replay ratio)."""
    exp = c.exp
    stack = exp.stack
    for d in (*COMMON, *TABLES[exp.algo], *PRESETS.get(exp.preset, ())):
        if d.key not in exp.values:
            c.default(d.key, d.value(stack), d.rllib)
    learners = _first(exp.values.get("learner.num_learners", 0)) or 0
    if "algo.train_batch_size_per_learner" not in exp.values:
        c.default(
            "algo.train_batch_size_per_learner",
            max(1, TRAIN_BATCH.get(exp.preset, TRAIN_BATCH[exp.algo]) // max(1, learners)),
            "train_batch_size",
        )
    if exp.algo == "PPO":
        _ppo(c)
        if c.normalize_actions is not False:
            _normalize_actions(c)
    elif exp.preset == "APEX":
        _apex(c)
    else:
        _replay(c, max(1, learners))


def _ppo(c: Converter) -> None:
    exp = c.exp
    batch = _first(c.value("algo.train_batch_size_per_learner"))
    if "algo.minibatch_size" not in exp.values:
        c.default("algo.minibatch_size", min(PPO_MINIBATCH, batch), "minibatch_size")
    if "env_runner.num_env_runners" not in exp.values:
        # RLlib's PPO samples with 2 remote env runners: rlrun samples the same env streams as
        # sub-envs of the runner in the driver (the same batches, without Ray actors).
        envs = exp.values.get("env_runner.num_envs_per_env_runner", 1)
        c.default("env_runner.num_env_runners", 0, "num_env_runners")
        c.default(
            "env_runner.num_envs_per_env_runner",
            _each(envs, lambda n: PPO_ENV_RUNNERS * n),
            f"num_env_runners ({PPO_ENV_RUNNERS}) x num_envs_per_env_runner",
            replace=True,
        )


def _normalize_actions(c: Converter) -> None:
    """RLlib's PPO acts in [-1, 1] on a bounded Box (`normalize_actions`, on by default): the
    rescaling piece, with the env's bounds, which it takes making the env once."""
    from rlrun.rllib_yaml.actions import PIECE, box_bounds

    exp = c.exp
    explicit = c.normalize_actions is True
    env_config = {
        k.removeprefix("env.env_config."): v
        for k, v in exp.values.items()
        if k.startswith("env.env_config.")
    }
    if len(exp.envs) > 1 or any(isinstance(v, Grid) for v in env_config.values()):
        if explicit:
            c.ignore("normalize_actions", "a grid_search over envs has no one set of bounds")
        return
    env_cfg = {
        "id": exp.env,
        "env_config": env_config,
        "max_episode_steps": None,
        "atari_preprocessing": exp.values.get("env.atari_preprocessing"),
    }
    try:
        bounds = box_bounds(env_cfg)
    except Exception as e:  # the env is checked (and reported) when training starts
        if explicit:
            c.ignore(
                "normalize_actions",
                f"the env could not be made here to read its bounds ({type(e).__name__})",
            )
        return
    if bounds is not None:
        low, high = bounds
        piece = {"name": PIECE, "low": low, "high": high}
        c.default("connectors.module_to_env", [piece], "normalize_actions")


def _replay(c: Converter, learners: int) -> None:
    """DQN and SAC: RLlib's fragment ("auto" is its own formula, not rlrun's) and the replay
    ratio RLlib's training step gives (calculate_rr_weights), in rlrun's terms: transitions
    replayed per env step sampled."""
    exp = c.exp
    key = "env_runner.rollout_fragment_length"
    inputs = [
        "algo.train_batch_size_per_learner",
        "env_runner.num_envs_per_env_runner",
        "env_runner.num_env_runners",
        key,
        "algo.training_intensity",
    ]
    if any(isinstance(exp.values.get(k), Grid) for k in inputs):
        c.note(
            "a grid_search over the batch size, sub-envs, runners, fragment or "
            "training_intensity: the replay ratio is worked out from the first values."
        )
    total = _first(c.value("algo.train_batch_size_per_learner")) * learners
    envs = _first(c.value("env_runner.num_envs_per_env_runner", 1))
    runners = _first(c.value("env_runner.num_env_runners", 0)) or 0
    frag = _first(exp.values.get(key, "auto"))
    if frag == "auto":
        auto = exp.stack == NEW or key in exp.values
        frag = rllib_auto_fragment(total, envs, runners) if auto else OLD_FRAGMENT[exp.algo]
        c.default(key, frag, "rollout_fragment_length", replace=True)
    given = _first(exp.values.get("algo.training_intensity"))
    ratio = replay_ratio(given, total, int(frag), envs, runners)
    if given is None:
        c.default("algo.training_intensity", ratio, "training_intensity (natural)", replace=True)
    elif abs(ratio - float(given)) > 1e-6 * max(1.0, ratio):
        c.note(
            f"training_intensity {given} -> algo.training_intensity={ratio:g}: the ratio RLlib "
            f"replays at with {runners} remote runner(s) and {frag}-step fragments "
            "(its ratio counts the driver's runner too, and whole update rounds)."
        )
        c.default("algo.training_intensity", ratio, "training_intensity", replace=True)


def _apex(c: Converter) -> None:
    """Ape-X replays `training_intensity` transitions per sampled one (1 unless the file says),
    its meaning in rlrun too, and moves the target after so many trained samples: rlrun's count
    of env steps between target updates is that divided by the replay ratio."""
    exp = c.exp
    key = "env_runner.rollout_fragment_length"
    if exp.values.get(key, "auto") == "auto":
        c.default(key, OLD_FRAGMENT["APEX"], "rollout_fragment_length", replace=True)
    ratio = float(_first(exp.values.get("algo.training_intensity")) or 1.0)
    c.default("algo.training_intensity", ratio, "training_intensity", replace=True)
    freq = _first(exp.values.get("algo.target_network_update_freq", APEX_TARGET_UPDATE_TRAINED))
    steps = max(1, round(int(freq) / ratio))
    if steps != freq:
        c.note(
            f"target_network_update_freq {freq} trained samples -> "
            f"algo.target_network_update_freq={steps} env steps (at {ratio:g} replayed per step)."
        )
    c.default("algo.target_network_update_freq", steps, "target_network_update_freq", replace=True)


def rllib_auto_fragment(total_batch: int, envs: int, runners: int) -> int:
    """RLlib's `rollout_fragment_length: auto`: the train batch split over every sub-env."""
    return max(1, int(total_batch / (envs * max(1, runners))))


def replay_ratio(
    intensity: float | None, total_batch: int, frag: int, envs: int, runners: int
) -> float:
    """Transitions RLlib replays per env step sampled (its DQN/SAC training step).

    Each round samples `frag` steps on every sub-env of every runner (the driver's when there
    are no remote ones) and, with `training_intensity` unset, takes one train batch: the
    "natural" ratio. A given intensity is turned into whole rounds of sampling and of updates
    against a ratio that counts the driver's runner besides the remote ones, as RLlib does.
    """
    per_round = frag * envs * max(1, runners)
    if not intensity:
        return total_batch / per_round
    native = total_batch / (frag * envs * max(runners + 1, 1))
    weight = float(intensity) / native
    sample_rounds, train_rounds = (round(1 / weight), 1) if weight < 1 else (1, round(weight))
    return train_rounds * total_batch / (max(1, sample_rounds) * per_round)


def _first(value: Any) -> Any:
    return value.values[0] if isinstance(value, Grid) else value


def _each(value: Any, fn: Callable[[Any], Any]) -> Any:
    return Grid(tuple(fn(v) for v in value.values)) if isinstance(value, Grid) else fn(value)
