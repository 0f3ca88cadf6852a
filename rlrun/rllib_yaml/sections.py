"""The `config:` entries that need more than a one-to-one rename: batch sizes over learners,
the KL switch, free-form env_config, and the nested sections (replay_buffer_config,
optimization, evaluation_config, exploration_config, model and SAC's two model configs)."""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from rlrun.rllib_yaml import mapping as M
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
    # RLlib's PPO adds the KL term by default; rlrun's only with use_kl_loss. A kl_coeff of 0
    # stays 0 under the adaptive rule, so turning the term on keeps RLlib's meaning either way.
    c.map(M.CONFIG["kl_coeff"], value, "kl_coeff")
    if "use_kl_loss" not in config and "use_kl_loss" in c.algo_keys:
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
        elif sub in M.EVALUATION_CONFIG:
            c.map(M.EVALUATION_CONFIG[sub], v, source)
        else:
            c.ignore(source)


def exploration_config(c: Converter, value: Any, config: dict[str, Any]) -> None:
    section = c.section("exploration_config", value)
    kind = section.get("type", "EpsilonGreedy" if c.exp.algo == "DQN" else None)
    if isinstance(kind, str):
        kind = kind.rpartition(".")[2]  # a class path names the same class
    if kind == "StochasticSampling" and c.exp.algo != "DQN" and len(section) == 1:
        return  # what PPO and SAC do anyway
    if kind != "EpsilonGreedy" or c.exp.algo != "DQN":
        c.ignore("exploration_config")
        return
    # RLlib's EpsilonGreedy: initial until warmup_timesteps, then linear to final over
    # epsilon_timesteps; the keys left out take RLlib's DQN defaults (1.0, 0.02, 10000, 0).
    nums: dict[str, Any] = {}
    defaults: dict[str, Any] = {
        "initial_epsilon": 1.0,
        "final_epsilon": 0.02,
        "epsilon_timesteps": 10000,
        "warmup_timesteps": 0,
    }
    for sub, v in section.items():
        if sub == "type":
            continue
        if sub not in defaults:
            c.ignore(f"exploration_config.{sub}")
            continue
        if isinstance(v, bool) or not isinstance(v, int | float):
            raise file_error(c.place, f"exploration_config.{sub}", v, "must be a number.")
        nums[sub] = v
    n = {**defaults, **nums}
    warmup = c.integral("exploration_config.warmup_timesteps", n["warmup_timesteps"])
    span = c.integral("exploration_config.epsilon_timesteps", n["epsilon_timesteps"])
    schedule = [[0, n["initial_epsilon"]], [warmup + span, n["final_epsilon"]]]
    if warmup:
        schedule.insert(1, [warmup, n["initial_epsilon"]])
    c.set("algo.epsilon", schedule, "exploration_config")


def models(c: Converter, sections: dict[str, Any]) -> None:
    """model / model_config, and SAC's q_model_config and policy_model_config: rlrun has one
    MLP shape per algorithm, so for SAC the policy's settings win over the Q network's."""
    chosen: dict[str, tuple[str, Any]] = {}
    for section, value in sections.items():
        if section in ("q_model_config", "policy_model_config") and c.exp.algo != "SAC":
            c.ignore(section, f"only SAC has it; rlrun's {c.exp.algo} uses model")
            continue
        for sub, v in c.section(section, value).items():
            source = f"{section}.{sub}"
            if sub not in M.MODEL:
                c.ignore(source, M.WHY_NOT.get(f"model.{sub}", ""))
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


# config key -> its handler; every other key goes through mapping.CONFIG.
HANDLERS: dict[str, Callable[[Converter, Any, dict[str, Any]], None]] = {
    "train_batch_size": train_batch_size,
    "kl_coeff": kl_coeff,
    "env_config": env_config,
    "replay_buffer_config": replay_buffer_config,
    "optimization": optimization,
    "evaluation_config": evaluation_config,
    "exploration_config": exploration_config,
}
