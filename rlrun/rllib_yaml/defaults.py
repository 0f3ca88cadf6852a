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
from typing import TYPE_CHECKING, Any

from rlrun.rllib_yaml.parse import Grid

if TYPE_CHECKING:
    from rlrun.rllib_yaml.convert import Converter

from rlrun.rllib_yaml.default_tables import (  # noqa: F401 - the tables, re-exported
    APEX,
    APEX_TARGET_UPDATE_TRAINED,
    COMMON,
    DQN,
    NEW,
    OLD,
    OLD_FRAGMENT,
    PPO,
    PPO_ENV_RUNNERS,
    PPO_MINIBATCH,
    PRESET_SUMMARY,
    PRESETS,
    SAC,
    SIMPLE_Q,
    TABLES,
    TRAIN_BATCH,
    Default,
)

# Algorithms that learn from recorded data only.
OFFLINE = ("MARWIL", "BC", "CQL")

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
    elif exp.algo in ("IMPALA", "APPO"):
        _runners_as_sub_envs(c)
    elif exp.algo in OFFLINE:
        _offline_budget(c, max(1, learners))  # nothing sampled: no fragments or replay ratio
    elif exp.preset == "APEX":
        _apex(c)
    else:
        _replay(c, max(1, learners))


def _ppo(c: Converter) -> None:
    exp = c.exp
    batch = _first(c.value("algo.train_batch_size_per_learner"))
    if "algo.minibatch_size" not in exp.values:
        c.default("algo.minibatch_size", min(PPO_MINIBATCH, batch), "minibatch_size")
    _runners_as_sub_envs(c)


def _runners_as_sub_envs(c: Converter) -> None:
    exp = c.exp
    if "env_runner.num_env_runners" not in exp.values:
        # RLlib's PPO (IMPALA, APPO) samples with 2 remote env runners: rlrun samples the same
        # env streams as sub-envs of the runner in the driver (the same batches, without Ray).
        envs = exp.values.get("env_runner.num_envs_per_env_runner", 1)
        c.default("env_runner.num_env_runners", 0, "num_env_runners")
        c.default(
            "env_runner.num_envs_per_env_runner",
            _each(envs, lambda n: PPO_ENV_RUNNERS * n),
            f"num_env_runners ({PPO_ENV_RUNNERS}) x num_envs_per_env_runner",
            replace=True,
        )


def _offline_budget(c: Converter, learners: int) -> None:
    """An offline run samples no env steps; RLlib's `timesteps_total` counts the recorded steps
    read, which rlrun's iterations fix (`train_batch_size x dataset_num_iters_per_learner`
    each): the budget becomes `stop.iterations`."""
    exp = c.exp
    steps = exp.values.pop("stop.timesteps", None)
    if steps is None:
        return
    source = exp.sources.pop("stop.timesteps", "stop")
    batch = _first(c.value("algo.train_batch_size_per_learner")) * learners
    per_iter = batch * int(_first(c.value("offline_data.dataset_num_iters_per_learner", 1)))
    iterations = max(1, -(-int(_first(steps)) // per_iter))
    if "stop.iterations" in exp.values:
        iterations = min(iterations, int(_first(exp.values["stop.iterations"])))
        exp.values.pop("stop.iterations")
    c.set("stop.iterations", iterations, source)
    c.note(
        f"{source}: {steps} recorded steps read -> stop.iterations={iterations} "
        f"({per_iter} steps an iteration): {exp.algo} samples no env steps."
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
