"""The `config:` entries that need more than a one-to-one rename: batch sizes over learners,
the KL switch, free-form env_config, and the nested sections (replay_buffer_config,
optimization, evaluation_config, exploration_config, model and SAC's two model configs)."""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from rlrun.rllib_yaml import mapping as M
from rlrun.rllib_yaml.offline_async import HANDLERS as OFFLINE_ASYNC_HANDLERS
from rlrun.rllib_yaml.parse import Grid, file_error
from rlrun.rllib_yaml.values import each, show

if TYPE_CHECKING:
    from rlrun.rllib_yaml.convert import Converter


def train_batch_size(c: Converter, value: Any, config: dict[str, Any]) -> None:
    # RLlib's train_batch_size counts all learners together; rlrun's is per learner.
    learners = config.get("num_learners", config.get("num_learner_workers", 0)) or 0
    if isinstance(learners, Grid | bool) or not isinstance(learners, int):
        raise file_error(
            c.place, "num_learners", show(learners), "must be one integer when train_batch_size "
            "is given (it is divided among the learners).",
            allowed="an integer >= 0, or train_batch_size_per_learner instead",
        )  # fmt: skip
    divisor = max(1, learners)

    def per_learner(total: Any) -> int:
        total = c.integral("train_batch_size", total)
        if total < 1:
            raise file_error(
                c.place,
                "train_batch_size",
                total,
                "out of range.",
                allowed="an integer >= 1",
            )
        return max(1, total // divisor)

    converted = each(value, per_learner)
    if divisor > 1:
        c.note(
            f"train_batch_size counts all {divisor} learners: "
            f"algo.train_batch_size_per_learner={show(converted)}."
        )
    c.set("algo.train_batch_size_per_learner", converted, "train_batch_size")


def kl_coeff(c: Converter, value: Any, config: dict[str, Any]) -> None:
    # RLlib's PPO adds the KL term by default (its APPO does not); rlrun's only with use_kl_loss.
    # A kl_coeff of 0
    # stays 0 under the adaptive rule, so turning the term on keeps RLlib's meaning either way.
    c.map(M.CONFIG["kl_coeff"], value, "kl_coeff")
    if c.exp.algo == "PPO" and "use_kl_loss" not in config:
        c.set("algo.use_kl_loss", True, "kl_coeff")


def env_config(c: Converter, value: Any, config: dict[str, Any]) -> None:
    c.free_form(value, "env_config", "env.env_config")


def replay_buffer_config(c: Converter, value: Any, config: dict[str, Any]) -> None:
    section = c.section("replay_buffer_config", value)
    for sub, v in section.items():
        source = f"replay_buffer_config.{sub}"
        if sub == "type":
            _replay_type(c, v, source)
        elif sub in M.REPLAY:
            c.map(M.REPLAY[sub], v, source)
        elif sub in M.REPLAY_SAME_AS_RLRUN and v == M.REPLAY_SAME_AS_RLRUN[sub]:
            continue
        else:
            c.ignore(source)


def _replay_type(c: Converter, value: Any, source: str) -> None:
    names = value.values if isinstance(value, Grid) else (value,)
    known = [isinstance(n, str) and n.rpartition(".")[2] in M.REPLAY_TYPES for n in names]
    if not all(known):
        c.ignore(source, M.WHY_NOT["replay_buffer_config.type"])
        return
    c.set(
        "algo.replay.prioritized",
        each(value, lambda n: M.REPLAY_TYPES[n.rpartition(".")[2]]),
        source,
    )


def optimization(c: Converter, value: Any, config: dict[str, Any]) -> None:
    for sub, v in c.section("optimization", value).items():
        if sub in M.OPTIMIZATION:
            c.map(M.OPTIMIZATION[sub], v, f"optimization.{sub}")
        else:
            c.ignore(f"optimization.{sub}")


def evaluation_config(c: Converter, value: Any, config: dict[str, Any]) -> None:
    for sub, v in c.section("evaluation_config", value).items():
        source = f"evaluation_config.{sub}"
        if sub == "env_config":
            c.free_form(v, source, "evaluation.env_config")
        elif sub == "input" and v == "sampler":
            continue  # evaluation always samples the env
        elif sub in M.EVALUATION_CONFIG:
            c.map(M.EVALUATION_CONFIG[sub], v, source)
        else:
            c.ignore(source)


def exploration_config(c: Converter, value: Any, config: dict[str, Any]) -> None:
    section = c.section("exploration_config", value)
    kind = section.get("type", "EpsilonGreedy" if c.exp.algo == "DQN" else "StochasticSampling")
    if isinstance(kind, str):
        kind = kind.rpartition(".")[2]  # a class path names the same class
    if c.exp.algo != "DQN":
        if kind == "StochasticSampling":
            # What PPO and SAC do: sample the policy's distribution.
            for sub in section:
                if sub != "type":
                    c.ignore(f"exploration_config.{sub}", "rlrun samples the policy from the start")
        else:
            c.ignore(
                "exploration_config",
                f"rlrun's {c.exp.algo} explores by sampling its policy (RLlib's StochasticSampling), "
                f"not by {kind}",
            )
        return
    if kind != "EpsilonGreedy":
        schedule = _epsilon_schedule(c, {}, "exploration_config")
        c.ignore(
            "exploration_config",
            f"rlrun's DQN explores epsilon-greedily, not by {kind}: it follows RLlib's "
            f"EpsilonGreedy defaults instead (epsilon {schedule[0][1]} -> {schedule[-1][1]} over "
            f"{schedule[-1][0]} env steps)",
        )
        return
    nums: dict[str, Any] = {}
    for sub, v in section.items():
        if sub == "type":
            continue
        if sub not in EPSILON_GREEDY:
            c.ignore(f"exploration_config.{sub}")
            continue
        if isinstance(v, bool) or not isinstance(v, int | float):
            raise file_error(c.place, f"exploration_config.{sub}", v, "must be a number.")
        nums[sub] = v
    c.set("algo.epsilon", _epsilon_schedule(c, nums, "exploration_config"), "exploration_config")


# RLlib's EpsilonGreedy and its DQN defaults: initial until warmup_timesteps, then linear to
# final over epsilon_timesteps.
EPSILON_GREEDY: dict[str, Any] = {
    "initial_epsilon": 1.0,
    "final_epsilon": 0.02,
    "epsilon_timesteps": 10000,
    "warmup_timesteps": 0,
}


def _epsilon_schedule(c: Converter, nums: dict[str, Any], source: str) -> list[list[Any]]:
    n = {**EPSILON_GREEDY, **nums}
    warmup = c.integral(f"{source}.warmup_timesteps", n["warmup_timesteps"])
    span = c.integral(f"{source}.epsilon_timesteps", n["epsilon_timesteps"])
    schedule = [[0, n["initial_epsilon"]], [warmup + span, n["final_epsilon"]]]
    if warmup:
        schedule.insert(1, [warmup, n["initial_epsilon"]])
    return schedule


def hiddens(c: Converter, value: Any, config: dict[str, Any]) -> None:
    # The old stack's DQN: ReLU layers of each head (advantage and value) on top of the
    # encoder. rlrun's DQN heads are algo.model.head_fcnet_hiddens with a ReLU by default.
    if c.exp.algo != "DQN":
        c.ignore("hiddens", f"DQN's head layers; rlrun's {c.exp.algo} has no such setting")
        return
    c.set("algo.model.head_fcnet_hiddens", value, "hiddens")


def noisy(c: Converter, value: Any, config: dict[str, Any]) -> None:
    if value is False:
        return
    why = "rlrun has no noisy nets: exploration comes from epsilon alone"
    epsilons = _epsilon_values(config)
    if epsilons and max(epsilons) <= 0.01:
        why += (
            f"; this file sets epsilon to ~0 ({max(epsilons):g}), so the run will have no "
            "exploration: give exploration_config or epsilon a schedule that starts at 1.0"
        )
    c.ignore("noisy", why)


def _epsilon_values(config: dict[str, Any]) -> list[float]:
    out: list[float] = []
    section = config.get("exploration_config")
    if isinstance(section, dict):
        for sub in ("initial_epsilon", "final_epsilon"):
            v = section.get(sub)
            if isinstance(v, int | float) and not isinstance(v, bool):
                out.append(float(v))
    eps = config.get("epsilon")
    if isinstance(eps, int | float) and not isinstance(eps, bool):
        out.append(float(eps))
    elif isinstance(eps, list):
        out += [float(p[1]) for p in eps if isinstance(p, list | tuple) and len(p) == 2]
    return out


GPU_KEYS = (
    "num_gpus",
    "num_gpus_per_learner",
    "num_gpus_per_learner_worker",
    "num_gpus_per_worker",
    "num_gpus_per_env_runner",
)


def gpus(c: Converter, value: Any, config: dict[str, Any], key: str) -> None:
    if config.get("_fake_gpus") is True:
        return  # reported once by fake_gpus
    c.map(M.CONFIG[key], value, key)


def fake_gpus(c: Converter, value: Any, config: dict[str, Any]) -> None:
    # RLlib simulated the GPUs on CPU (a test of its multi-GPU code paths); rlrun runs on CPU.
    if value is not True:
        if value is not False:
            c.ignore("_fake_gpus")
        return
    given = [f"{k}: {config[k]}" for k in GPU_KEYS if k in config]
    unused = f"; {', '.join(given)} {'is' if len(given) == 1 else 'are'} not used" if given else ""
    c.note(f"_fake_gpus: true -> runs on CPU, as RLlib's simulated GPUs did{unused}.")


def normalize_actions(c: Converter, value: Any, config: dict[str, Any]) -> None:
    # SAC squashes into (-1, 1) and rescales to the bounds in both; DQN has no Box actions.
    # PPO: defaults.py adds the rescaling piece unless the file turns it off.
    if not isinstance(value, bool):
        c.ignore("normalize_actions")
    elif c.exp.algo == "PPO":
        c.normalize_actions = value


def clip_actions(c: Converter, value: Any, config: dict[str, Any]) -> None:
    # rlrun keeps every Box action within the bounds: PPO's are clipped, SAC's rescaled from a
    # squashed (-1, 1). RLlib's default (normalize_actions) ends within the bounds too.
    if not isinstance(value, bool):
        c.ignore("clip_actions")


def no_done_at_end(c: Converter, value: Any, config: dict[str, Any]) -> None:
    if value is True:
        c.note(
            "no_done_at_end: true -> rlrun bootstraps past every time-limit end (horizon, the "
            "env's TimeLimit), as RLlib did; an end the env itself reports (terminated) stays "
            "terminal."
        )
    elif value is not False:
        c.ignore("no_done_at_end")


def training_intensity(c: Converter, value: Any, config: dict[str, Any]) -> None:
    if value is None:
        return  # RLlib's "natural" ratio, which file mode works out (defaults.py)
    c.map(M.CONFIG["training_intensity"], value, "training_intensity")


def vf_clip_param(c: Converter, value: Any, config: dict[str, Any]) -> None:
    if isinstance(value, int | float) and not isinstance(value, bool) and value <= 0:
        raise file_error(c.place, "vf_clip_param", value, "out of range.", allowed="a number > 0")
    c.map(M.CONFIG["vf_clip_param"], value, "vf_clip_param")


def models(c: Converter, sections: dict[str, Any]) -> None:
    """model / model_config, and SAC's q_model_config and policy_model_config (or Q_model and
    policy_model): rlrun has one network shape per algorithm, so for SAC the policy's settings
    win over the Q network's."""
    chosen: dict[str, tuple[str, Any]] = {}
    unused = _unused_model_keys(c.exp.algo)
    for section, value in sections.items():
        own = M.MODEL_SECTION_ALIASES.get(section, section)
        if own in ("q_model_config", "policy_model_config") and c.exp.algo != "SAC":
            c.ignore(section, f"only SAC has it; rlrun's {c.exp.algo} uses model")
            continue
        for sub, v in c.section(section, value).items():
            source = f"{section}.{sub}"
            if sub == "lstm_use_prev_action_reward" and v is True:
                # The old single switch: both inputs.
                for both in ("lstm_use_prev_action", "lstm_use_prev_reward"):
                    chosen[both] = (source, True)
                continue
            if sub in M.MODEL_SAME_AS_RLRUN and v == M.MODEL_SAME_AS_RLRUN[sub]:
                continue
            if sub not in M.MODEL:
                c.ignore(source, M.WHY_NOT.get(f"model.{sub}", ""))
                continue
            if sub in unused:
                if not v:
                    continue  # off, as it is for this algorithm anyway
                c.ignore(source, unused[sub])
                continue
            earlier = chosen.get(sub)
            if earlier is not None and earlier[1] != v:
                why = f"{source} is used"
                if c.exp.algo == "SAC":
                    why = f"rlrun's SAC has one network shape for policy and Q; {why}"
                c.ignore(earlier[0], why)
            chosen[sub] = (source, v)
    for sub, (source, v) in chosen.items():
        c.map(M.MODEL[sub], v, source)


def _unused_model_keys(algo: str) -> dict[str, str]:
    from rlrun.algorithms.registry import config_class

    return dict(getattr(config_class(algo), "unused_model_keys", {}))


def _gpu_handler(key: str) -> Callable[[Converter, Any, dict[str, Any]], None]:
    return lambda c, value, config: gpus(c, value, config, key)


# config key -> its handler; every other key goes through mapping.CONFIG.
HANDLERS: dict[str, Callable[[Converter, Any, dict[str, Any]], None]] = {
    "train_batch_size": train_batch_size,
    "kl_coeff": kl_coeff,
    "env_config": env_config,
    "replay_buffer_config": replay_buffer_config,
    "optimization": optimization,
    "evaluation_config": evaluation_config,
    "exploration_config": exploration_config,
    "hiddens": hiddens,
    "noisy": noisy,
    "_fake_gpus": fake_gpus,
    "normalize_actions": normalize_actions,
    "clip_actions": clip_actions,
    "no_done_at_end": no_done_at_end,
    "training_intensity": training_intensity,
    "vf_clip_param": vf_clip_param,
    **{key: _gpu_handler(key) for key in GPU_KEYS},
    **OFFLINE_ASYNC_HANDLERS,
}
