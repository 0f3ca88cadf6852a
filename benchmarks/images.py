"""Image throughput of PPO on a CPU: env frames per second through whole training iterations
(sampling + update, as the training loop runs them), rlrun against Stable-Baselines3's PPO with
a CnnPolicy, measured side by side in the same process, plus the raw sampling limit.

Both sides use rl-zoo3's Atari PPO settings: 8 envs, 128 steps per env per iteration (a 1,024-step
batch), minibatches of 256, 4 epochs, lr 2.5e-4, clip 0.1, entropy 0.01, value loss 0.5, one
network for policy and value with a 512-unit dense layer, one torch thread (the zoo's linear lr
and clip schedules are constants here: the same work per step).

  rlrun: rlrun.build([env.id=..., algo.train_batch_size_per_learner=1024, algo.minibatch_size=256,
         algo.num_epochs=4, algo.lr=2.5e-4, algo.clip_param=0.1, algo.entropy_coeff=0.01,
         algo.model.vf_share_layers=true, algo.model.fcnet_hiddens=[512],
         env_runner.num_envs_per_env_runner=8]); one iteration is Algorithm.train().
  SB3:   PPO("CnnPolicy", DummyVecEnv of 8 envs, the settings above); one iteration is
         model.learn(1024, reset_num_timesteps=False): one rollout and one train().
  raw:   the limit of sampling: rlrun's vector env (make_vector_env, 8 envs) and rlrun's module
         (the runner's current weights, copied in before each raw iteration), one batched
         forward_exploration + action sampling per step, no learning.

Envs (each sub-env built by rlrun.env.make_env.make_single_env for both tools, so both see
identical frames):
  minatar: MinAtar/Breakout-v1, obs Box bool (10, 10, 4) HWC, 1 frame per step. rlrun's default
           CNN for sides 8-17 is [[16,3,1],[32,3,1]] -> dense 512. SB3's NatureCNN refuses a
           10x10 image (its 8x8 stride-4 kernel needs sides >= 36), so SB3 gets the same small
           CNN as a custom features_extractor, and the frames as uint8 0/255 (SB3's CnnPolicy
           wants uint8 images; it divides by 255, so its network sees rlrun's 0/1 values).
  pong:    ALE/Pong-v5 with Gymnasium's AtariPreprocessing (frame skip 4, 84x84 grey) and
           FrameStackObservation(4): obs uint8 (4, 84, 84), 4 emulator frames per agent step.
           Both use the Nature CNN ([[32,8,4],[64,4,2],[64,3,1]] -> dense 512).

Protocol: one warm-up iteration per side, then `--repeats` repetitions of `--iters` iterations
per side, the sides taking turns iteration by iteration (the order rotating), so load from
elsewhere on the machine hits all alike; medians over repetitions. Agent steps are real env
steps: rlrun's num_env_steps_sampled (its NEXT_STEP autoreset rows, which only reset, do not
count), SB3's num_timesteps, and the raw loop's steps that were not autoreset rows.

    .venv/bin/python benchmarks/images.py                       # both envs, ~5 min
    .venv/bin/python benchmarks/images.py --envs minatar --repeats 1 --iters 1 --no-sb3
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

from _measure import median, print_report, table  # noqa: E402

ENVS: dict[str, dict[str, Any]] = {
    "minatar": {"id": "MinAtar/Breakout-v1", "frames_per_step": 1, "small_cnn": True},
    "pong": {"id": "ALE/Pong-v5", "frames_per_step": 4, "small_cnn": False},
}
# rl-zoo3 hyperparams/ppo.yml, atari (learning_rate lin_2.5e-4 and clip_range lin_0.1 as
# constants: a schedule changes the values, not the work).
ZOO = {
    "n_envs": 8,
    "n_steps": 128,
    "batch_size": 256,
    "n_epochs": 4,
    "learning_rate": 2.5e-4,
    "clip_range": 0.1,
    "ent_coef": 0.01,
    "vf_coef": 0.5,
}
RLRUN_OVERRIDES = [
    f"algo.train_batch_size_per_learner={ZOO['n_envs'] * ZOO['n_steps']}",
    f"algo.minibatch_size={ZOO['batch_size']}",
    f"algo.num_epochs={ZOO['n_epochs']}",
    f"algo.lr={ZOO['learning_rate']}",
    f"algo.clip_param={ZOO['clip_range']}",
    f"algo.entropy_coeff={ZOO['ent_coef']}",
    f"algo.vf_loss_coeff={ZOO['vf_coef']}",
    "algo.model.vf_share_layers=true",
    "algo.model.fcnet_hiddens=[512]",  # the CNN's dense layer: 512 like SB3's NatureCNN
    f"env_runner.num_envs_per_env_runner={ZOO['n_envs']}",
]
SMALL_CNN = [[16, 3, 1], [32, 3, 1]]  # rlrun's default for image sides 8-17 (models/spaces.py)
BF16 = "algo.model.conv_dtype=bfloat16"
TARGET_RATIO = 2.0  # the issue's aim on Pong: rlrun >= 2x SB3's frames/s


class RlrunSide:
    """rlrun's Algorithm: one PPO iteration per call, with its own sampling/update timers."""

    def __init__(self, env_id: str, seed: int, extra: tuple[str, ...] = ()) -> None:
        import rlrun

        self.overrides = [f"env.id={env_id}", *RLRUN_OVERRIDES, f"seed={seed}", *extra]
        self.algo = rlrun.build(self.overrides)

    def iteration(self) -> dict[str, float]:
        t0 = time.perf_counter()
        res = self.algo.train()
        dt = time.perf_counter() - t0
        timers = res["timers"]
        return {
            "s": dt,
            "steps": res["env_runners"]["num_env_steps_sampled"],
            "sample_s": timers.get("env_runner_sampling_timer", float("nan")),
            "update_s": timers.get("learner_update_timer", float("nan")),
        }

    def close(self) -> None:
        self.algo.stop()


class RawSide:
    """The sampling limit: rlrun's vector env and module in a bare loop (sampler_efficiency.py's
    raw loop, with image observations passed in their own dtype as the encoder expects)."""

    def __init__(self, algo: Any, seed: int) -> None:
        import torch

        from rlrun.core.columns import ACTION_DIST_INPUTS, OBS
        from rlrun.env.make_env import make_vector_env

        runner = self.runner = algo.env_runner_group.local_runner
        cfg = algo.config
        self.n, self.T = runner.num_envs, algo.fragment_length()
        self.env = make_vector_env(
            cfg["env"], self.n, cfg["env_runner"].get("vectorize_mode", "sync")
        )
        self.module = algo.module_spec.build()
        self.module.load_state_dict(runner.module.state_dict())
        self.module.eval()
        self.obs, _ = self.env.reset(seed=seed)
        self.done = None  # rows after a finished episode are autoreset rows, not env steps
        self._torch, self._OBS, self._ADI = torch, OBS, ACTION_DIST_INPUTS

    def iteration(self) -> dict[str, float]:
        import numpy as np

        torch, OBS, ADI = self._torch, self._OBS, self._ADI
        module, dist_cls, env = self.module, self.module.action_dist_cls, self.env
        # The runner's current weights, outside the clock: the env's cost per step depends on
        # the policy (episode lengths, resets), so the raw loop must act as the trained policy
        # does, not as the initial one.
        self.module.load_state_dict(self.runner.module.state_dict())
        obs, done, steps = self.obs, self.done, 0
        t0 = time.perf_counter()
        with torch.no_grad():
            for _ in range(self.T):
                out = module.forward_exploration({OBS: torch.from_numpy(np.asarray(obs))})
                actions = dist_cls(out[ADI]).sample().numpy()
                obs, _r, term, trunc, _info = env.step(actions)
                steps += self.n - (0 if done is None else int(done.sum()))
                done = term | trunc
        dt = time.perf_counter() - t0
        self.obs, self.done = obs, done
        return {"s": dt, "steps": steps}

    def close(self) -> None:
        self.env.close()


def _small_cnn_extractor() -> type:
    """SB3 features extractor with rlrun's small CNN: valid-padded convs SMALL_CNN with ReLU,
    flatten, one dense layer with ReLU (rlrun's CNNEncoder for a 10x10 image)."""
    import torch
    from stable_baselines3.common.torch_layers import BaseFeaturesExtractor
    from torch import nn

    class SmallCNN(BaseFeaturesExtractor):
        def __init__(self, observation_space: Any, features_dim: int = 512) -> None:
            super().__init__(observation_space, features_dim)
            layers: list[nn.Module] = []
            prev = observation_space.shape[0]  # channels first: SB3 transposed the HWC frames
            for channels, kernel, stride in SMALL_CNN:
                layers += [nn.Conv2d(prev, channels, kernel, stride), nn.ReLU()]
                prev = channels
            self.cnn = nn.Sequential(*layers, nn.Flatten())
            with torch.no_grad():
                n_flat = self.cnn(torch.zeros(1, *observation_space.shape)).shape[1]
            self.linear = nn.Sequential(nn.Linear(n_flat, features_dim), nn.ReLU())

        def forward(self, observations: torch.Tensor) -> torch.Tensor:
            return self.linear(self.cnn(observations))

    return SmallCNN


class Sb3Side:
    """SB3 PPO with a CnnPolicy on the same sub-envs, one learn() iteration per call, with its
    rollout and train() calls timed by wrapping them (as off_policy.py does)."""

    def __init__(self, env_cfg: dict[str, Any], small_cnn: bool, seed: int) -> None:
        import gymnasium as gym
        import numpy as np
        from stable_baselines3 import PPO
        from stable_baselines3.common.env_util import make_vec_env

        from rlrun.env.make_env import make_single_env

        class Uint8Frames(gym.ObservationWrapper):
            """bool frames -> uint8 0/255: the image dtype SB3's CnnPolicy accepts."""

            def __init__(self, env: gym.Env) -> None:
                super().__init__(env)
                self.observation_space = gym.spaces.Box(
                    0, 255, env.observation_space.shape, np.uint8
                )

            def observation(self, observation: Any) -> Any:
                return np.asarray(observation, np.uint8) * np.uint8(255)

        def make() -> gym.Env:
            env = make_single_env(env_cfg)
            return Uint8Frames(env) if small_cnn else env

        self.env = make_vec_env(make, n_envs=ZOO["n_envs"], seed=seed)  # DummyVecEnv + Monitor
        # net_arch=[]: the heads sit on the 512 features, as with NatureCNN (SB3 would add
        # 64x64 MLPs for a custom extractor), so both tools run the same network.
        policy_kwargs = (
            {"features_extractor_class": _small_cnn_extractor(), "net_arch": []}
            if small_cnn
            else {}  # NatureCNN, features_dim 512, net_arch []
        )
        self.model = PPO(
            "CnnPolicy",
            self.env,
            n_steps=ZOO["n_steps"],
            batch_size=ZOO["batch_size"],
            n_epochs=ZOO["n_epochs"],
            learning_rate=ZOO["learning_rate"],
            clip_range=ZOO["clip_range"],
            ent_coef=ZOO["ent_coef"],
            vf_coef=ZOO["vf_coef"],
            policy_kwargs=policy_kwargs,
            seed=seed,
            device="cpu",
            verbose=0,
        )
        self.started = False
        self.acc = {"sample_s": 0.0, "update_s": 0.0}
        collect, train = self.model.collect_rollouts, self.model.train

        def timed_collect(*a: Any, **k: Any) -> Any:
            t0 = time.perf_counter()
            out = collect(*a, **k)
            self.acc["sample_s"] += time.perf_counter() - t0
            return out

        def timed_train() -> None:
            t0 = time.perf_counter()
            train()
            self.acc["update_s"] += time.perf_counter() - t0

        self.model.collect_rollouts = timed_collect  # type: ignore[method-assign]
        self.model.train = timed_train  # type: ignore[method-assign]

    def iteration(self) -> dict[str, float]:
        m = self.model
        n0 = m.num_timesteps
        self.acc = {"sample_s": 0.0, "update_s": 0.0}
        t0 = time.perf_counter()
        # reset_num_timesteps=False after the first call: the envs and the episode in progress
        # carry on, as inside one long learn().
        m.learn(ZOO["n_envs"] * ZOO["n_steps"], reset_num_timesteps=not self.started)
        dt = time.perf_counter() - t0
        self.started = True
        return {"s": dt, "steps": m.num_timesteps - n0, **self.acc}

    def close(self) -> None:
        self.env.close()


def _sb3_available() -> bool:
    from importlib.util import find_spec

    return find_spec("stable_baselines3") is not None


def run_env(
    name: str,
    repeats: int,
    iters: int,
    with_sb3: bool,
    seed: int = 0,
    log: Any = print,
    bf16: bool = False,
) -> dict[str, Any]:
    import torch

    spec = ENVS[name]
    rl = RlrunSide(spec["id"], seed)
    torch.set_num_threads(1)  # rlrun's default; SB3 in this process gets the same
    sides: dict[str, Any] = {"rlrun": rl, "raw": RawSide(rl.algo, seed)}
    if bf16:  # the same run with the CNN in bfloat16 (algo.model.conv_dtype)
        sides["rlrun_bf16"] = RlrunSide(spec["id"], seed, (BF16,))
    if with_sb3:
        sides["sb3"] = Sb3Side(dict(rl.algo.config["env"]), spec["small_cnn"], seed)
    names = list(sides)
    for side in names:  # warm-up: first forward and backward passes, allocator, env caches
        sides[side].iteration()
    reps: dict[str, list[dict[str, float]]] = {s: [] for s in names}
    # Every measured round (one iteration per side), kept for ratios within a round: the sides
    # of one round ran seconds apart, so a burst of outside load skews them less than medians
    # of whole repetitions taken apart.
    rounds: list[dict[str, dict[str, float]]] = []
    for rep in range(repeats):
        sums = {s: {} for s in names}
        for k in range(iters):
            shift = (rep * iters + k) % len(names)
            rounds.append({})
            for side in names[shift:] + names[:shift]:  # rotate who goes first
                rounds[-1][side] = sides[side].iteration()
                for key, v in rounds[-1][side].items():
                    sums[side][key] = sums[side].get(key, 0.0) + v
        for side in names:
            reps[side].append(sums[side])
        log(
            f"  {name} rep {rep + 1}/{repeats}: "
            + ", ".join(
                f"{s} {reps[s][-1]['steps'] / reps[s][-1]['s']:,.0f} steps/s" for s in names
            )
        )
    for side in sides.values():
        side.close()
    return summarize(name, spec, reps, rounds, repeats, iters)


def summarize(
    name: str,
    spec: dict[str, Any],
    reps: dict[str, list[dict[str, float]]],
    rounds: list[dict[str, dict[str, float]]],
    repeats: int,
    iters: int,
) -> dict[str, Any]:
    fps = spec["frames_per_step"]
    out: dict[str, Any] = {
        "env": name,
        "env_id": spec["id"],
        "frames_per_step": fps,
        "repeats": repeats,
        "iters": iters,
        "reps": reps,
        "rounds": rounds,
    }
    for side, rs in reps.items():
        s: dict[str, Any] = {
            "steps_per_s": median([r["steps"] / r["s"] for r in rs]),
            "steps_per_iter": median([r["steps"] / iters for r in rs]),
            "s_per_iter": median([r["s"] / iters for r in rs]),
        }
        s["frames_per_s"] = s["steps_per_s"] * fps
        if "sample_s" in rs[0]:
            s["sampling_steps_per_s"] = median([r["steps"] / r["sample_s"] for r in rs])
            s["update_s_per_iter"] = median([r["update_s"] / iters for r in rs])
            s["sample_s_per_iter"] = median([r["sample_s"] / iters for r in rs])
        out[side] = s
    raw = out["raw"]["steps_per_s"]
    out["rlrun_sampler_share_of_raw"] = out["rlrun"]["sampling_steps_per_s"] / raw
    out["rlrun_iteration_share_of_raw"] = out["rlrun"]["steps_per_s"] / raw
    out["rlrun_sampler_share_paired"] = median(
        [_rate(r["rlrun"], "sample_s") / _rate(r["raw"], "s") for r in rounds]
    )
    if "sb3" in out:
        out["ratio_rlrun_sb3"] = out["rlrun"]["frames_per_s"] / out["sb3"]["frames_per_s"]
        out["ratio_rlrun_sb3_paired"] = median(
            [_rate(r["rlrun"], "s") / _rate(r["sb3"], "s") for r in rounds]
        )
        out["sb3_sampler_share_of_raw"] = out["sb3"]["sampling_steps_per_s"] / raw
        if "rlrun_bf16" in out:
            out["ratio_bf16_sb3"] = out["rlrun_bf16"]["frames_per_s"] / out["sb3"]["frames_per_s"]
            out["ratio_bf16_sb3_paired"] = median(
                [_rate(r["rlrun_bf16"], "s") / _rate(r["sb3"], "s") for r in rounds]
            )
    return out


def _rate(it: dict[str, float], clock: str) -> float:
    """Env steps per second of one iteration, over one of its clocks (s, sample_s)."""
    return it["steps"] / it[clock]


def _f(x: Any, digits: int = 0) -> str:
    return "-" if x is None or x != x else f"{x:,.{digits}f}"


def report(res: dict[str, Any]) -> str:
    head = [
        "env",
        "side",
        "agent steps/s",
        "env frames/s",
        "s per iteration",
        "of it sampling s",
        "of it update s",
        "sampling steps/s",
        "sampling / raw",
    ]
    rows = []
    labels = {
        "rlrun": "rlrun PPO",
        "rlrun_bf16": "rlrun PPO, bfloat16 CNN",
        "sb3": "SB3 PPO CnnPolicy",
        "raw": "raw limit (env + forward)",
    }
    for e in res["envs"]:
        raw = e["raw"]["steps_per_s"]
        for side in ("rlrun", "rlrun_bf16", "sb3", "raw"):
            if side not in e:
                continue
            s = e[side]
            rows.append(
                [
                    e["env_id"],
                    labels[side],
                    _f(s["steps_per_s"]),
                    _f(s["frames_per_s"]),
                    _f(s["s_per_iter"], 2),
                    _f(s.get("sample_s_per_iter"), 2),
                    _f(s.get("update_s_per_iter"), 2),
                    _f(s.get("sampling_steps_per_s", s["steps_per_s"])),
                    f"{s.get('sampling_steps_per_s', raw) / raw:.0%}",
                ]
            )
    lines = [table(head, rows), ""]
    summary = []
    for e in res["envs"]:
        ratio = e.get("ratio_rlrun_sb3")
        summary.append(
            [
                e["env_id"],
                "-" if ratio is None else f"{ratio:.2f}x",
                "-" if ratio is None else f"{e['ratio_rlrun_sb3_paired']:.2f}x",
                f"{e['rlrun_sampler_share_of_raw']:.0%}",
                f"{e['rlrun_sampler_share_paired']:.0%}",
                f"{e['rlrun_iteration_share_of_raw']:.0%}",
            ]
        )
    lines.append(
        table(
            [
                "env",
                "rlrun / SB3 frames/s (whole iterations)",
                "same, median of paired rounds",
                "rlrun sampler / raw limit",
                "same, median of paired rounds",
                "rlrun whole iteration / raw limit",
            ],
            summary,
        )
    )
    pong = next((e for e in res["envs"] if e["env"] == "pong"), None)
    if pong is not None and pong.get("ratio_rlrun_sb3") is not None:
        ok = pong["ratio_rlrun_sb3"] >= TARGET_RATIO
        lines += [
            "",
            f"Target: rlrun >= {TARGET_RATIO:g}x SB3's env frames/s on Pong: "
            f"{pong['ratio_rlrun_sb3']:.2f}x -> {'MET' if ok else 'MISSED'}",
        ]
        if pong.get("ratio_bf16_sb3") is not None:
            ok = pong["ratio_bf16_sb3"] >= TARGET_RATIO
            lines.append(
                f"  with algo.model.conv_dtype=bfloat16: {pong['ratio_bf16_sb3']:.2f}x "
                f"(paired {pong['ratio_bf16_sb3_paired']:.2f}x) -> {'MET' if ok else 'MISSED'}"
            )
    lines += [
        "",
        f"Medians of {res['repeats']} repetitions of {res['iters']} iterations per side "
        "(1,024 env rows per iteration: 8 envs x 128), after one warm-up iteration, the sides "
        "taking turns iteration by iteration; one torch thread. s per iteration: a whole "
        "training iteration (rlrun: Algorithm.train(); SB3: learn() of one rollout + train()); "
        "its sampling and update parts: rlrun's own timers, SB3's collect_rollouts and train() "
        "timed by wrappers. sampling / raw: the sampler's env steps/s over the raw limit's "
        "(rlrun's vector env + rlrun's module, one batched forward and action sampling per "
        "step, nothing else). frames: agent steps x the frame skip (Pong 4, MinAtar 1). "
        "'median of paired rounds': the ratio within each round (one iteration per side, "
        "run back to back), then the median over all rounds; it and the ratio of medians "
        "agree when the machine is quiet.",
    ]
    if any(e["env"] == "minatar" for e in res["envs"]):
        lines.append(
            "MinAtar: SB3's NatureCNN does not fit a 10x10 image, so SB3 runs rlrun's small CNN "
            f"({SMALL_CNN} -> 512) as a custom features_extractor, on the frames as uint8 0/255."
        )
    return "\n".join(lines)


def run(
    envs: list[str],
    repeats: int,
    iters: int,
    with_sb3: bool = True,
    log: Any = print,
    bf16: bool = False,
) -> dict[str, Any]:
    with_sb3 = with_sb3 and _sb3_available()
    out = {"repeats": repeats, "iters": iters, "with_sb3": with_sb3, "zoo": ZOO, "envs": []}
    out["rlrun_overrides"] = RLRUN_OVERRIDES
    for name in envs:
        out["envs"].append(run_env(name, repeats, iters, with_sb3, log=log, bf16=bf16))
    return out


def main(argv: list[str] | None = None) -> dict[str, Any]:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument(
        "--envs",
        type=lambda s: [x.strip() for x in s.split(",") if x.strip()],
        default=list(ENVS),
        help="comma-separated, of: " + ", ".join(ENVS),
    )
    ap.add_argument("--repeats", type=int, default=3, help="repetitions per side (medians)")
    ap.add_argument("--iters", type=int, default=4, help="PPO iterations per repetition")
    ap.add_argument("--no-sb3", action="store_true", help="measure rlrun and the raw limit only")
    ap.add_argument("--json", type=Path, help="also write the raw results here")
    ap.add_argument(
        "--bf16", action="store_true", help=f"also rlrun with {BF16} (needs AVX512-BF16 or AMX)"
    )
    args = ap.parse_args(argv)
    unknown = [e for e in args.envs if e not in ENVS]
    if unknown:
        ap.error(f"unknown env(s) {unknown}; choose from {list(ENVS)}")
    if not args.no_sb3 and not _sb3_available():
        print(
            "stable-baselines3 is not installed: the baseline is NOT measured "
            "(install it with: .venv/bin/pip install -e '.[bench]')",
            file=sys.stderr,
        )
    print(
        f"PPO image throughput ({', '.join(args.envs)}), {args.repeats} x {args.iters} "
        "iterations per side:",
        flush=True,
    )
    res = run(
        args.envs,
        args.repeats,
        args.iters,
        not args.no_sb3,
        log=lambda m: print(m, flush=True),
        bf16=args.bf16,
    )
    print_report(report(res), res, args.json)
    return res


if __name__ == "__main__":
    main()
