"""Ray scaling: what sampling in Ray actors buys and costs, against sampling in the driver,
measured side by side in the same run.

1. Sampling throughput on a CPU-heavy env: BurnCPUEnv over CartPole-v1 (each step first burns
   `burn_us` of thread CPU time, 1 ms by default, so the env dominates). The same vector env
   (`num_envs` sub-envs per runner) and the same weights (a module built from the spec, synced
   with group.sync_weights) in three configurations, after a warm-up call each:
     local:    EnvRunnerGroup.sample(T) in this process;
     remote 1: one remote call, `sample(T)` on runner 1 of a RemoteEnvRunnerGroup (submit +
               gather, the group's own calls), runner 2 idle;
     remote 2: RemoteEnvRunnerGroup.sample(T), both runners in parallel.
   Ray is started with num_cpus=2 (--ray-cpus) and each runner asks for 1 CPU. Each measurement
   is `rounds` calls; the configurations are interleaved within each repetition (the order
   rotates) and the medians compared. Target: remote 2 / remote 1 >= 1.6x on 2 cores.
2. The Ray path's fixed costs, CartPole PPO (`experiment=cartpole_ppo`, with and without
   `env_runner=ray`, 2 runners): train() iterations of both algorithms interleaved
   (time_this_iter_s and its timers), then per call, interleaved: get_weights, the weight
   broadcast (group.sync_weights: the call itself, and until every runner has applied it, i.e.
   sync + a ping answered by all), an empty remote call (ping) and a round of sample(1) (a remote
   call that returns a tiny fragment). Ray start-up, cold, in a fresh process per repetition:
   import ray, rlrun.cluster.init_ray, RemoteEnvRunnerGroup construction until the runners answer,
   the first and second sample rounds, shutdown; a local Algorithm's build in the same process
   (imports included) for scale.
3. Time to solve CartPole-v1: `rlrun train experiment=cartpole_ppo` with and without
   `env_runner=ray`, fresh processes timed from start to exit, seeds interleaved (as
   time_to_solve.py). On 2 cores the driver's learner competes with 2 runner processes.

    .venv/bin/python benchmarks/ray_scaling.py            # all three parts, ~5 min on 2 cores
    .venv/bin/python benchmarks/ray_scaling.py --quick    # a smoke run, ~2 min
    .venv/bin/python benchmarks/ray_scaling.py --parts 1 --reps 3
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

import time_to_solve  # noqa: E402
from _measure import median, print_report, run_measured, table  # noqa: E402

ROOT = HERE.parent
BURN_ENV = "rlrun.env.debug_envs:BurnCPUEnv"
TARGET_SCALING = 1.6  # remote 2 / remote 1 on a 2-core machine
CARTPOLE = ["experiment=cartpole_ppo"]
RAY = ["env_runner=ray"]
SOLVE_TIMEOUT_S = 600.0

# Sizes of a full run and of --quick; the CLI and run_all.py both start from these.
FULL = {
    "reps": 5,
    "num_envs": 4,
    "fragment": 250,
    "rounds": 3,
    "burn_us": 1000.0,
    "iters": 10,
    "calls": 20,
    "startup_reps": 3,
    "seeds": [0, 1, 2],
    "ray_cpus": 2,
}
QUICK = {
    **FULL,
    "reps": 1,
    "fragment": 50,
    "rounds": 1,
    "iters": 2,
    "calls": 3,
    "startup_reps": 1,
    "seeds": [0],
}


def sizes(quick: bool = False) -> dict[str, Any]:
    return dict(QUICK if quick else FULL)


def _plain(cfg: Any) -> dict[str, Any]:
    from omegaconf import OmegaConf

    return OmegaConf.to_container(cfg, resolve=True)  # type: ignore[return-value]


def _obs_space(env_cfg: dict[str, Any]) -> Any:
    from rlrun.env.make_env import make_single_env

    probe = make_single_env(env_cfg)
    try:
        return probe.observation_space
    finally:
        probe.close()


def _remote_group(algo: Any, num_runners: int) -> Any:
    """A RemoteEnvRunnerGroup with `algo`'s env, runner config and module spec."""
    from rlrun.env.remote_env_runner_group import RemoteEnvRunnerGroup

    cfg = algo.config
    return RemoteEnvRunnerGroup(
        cfg["env"],
        {**cfg["env_runner"], "num_env_runners": num_runners},
        cfg.get("fault_tolerance", {}),
        algo.module_spec,
        _obs_space(cfg["env"]),
        cfg.get("seed"),
        num_runners=num_runners,
        num_cpus_per_runner=1.0,
    )


def _ping_all(group: Any) -> None:
    group.gather(group.submit("ping"))


def _ms(xs: list[float]) -> float:
    return median(xs) * 1e3


# --- 1. sampling throughput ---------------------------------------------------------------------


def sampling(
    reps: int, num_envs: int, fragment: int, rounds: int, burn_us: float, ray_cpus: int, log: Any
) -> dict[str, Any]:
    import rlrun
    from rlrun.cluster import init_ray

    env_cfg = f"{{env: CartPole-v1, burn_us: {burn_us:g}}}"
    overrides = [
        f"env.id={BURN_ENV}",
        f"env.env_config={env_cfg}",
        f"env_runner.num_envs_per_env_runner={num_envs}",
        f"ray.num_cpus={ray_cpus}",
        "seed=0",
    ]
    algo = rlrun.build(overrides)  # local: its EnvRunnerGroup is the driver-side runner
    init_ray(algo.config["ray"])
    import ray

    local = algo.env_runner_group
    remote = _remote_group(algo, 2)
    try:
        weights = algo.module_spec.build().state_dict()
        local.sync_weights(weights)
        remote.sync_weights(weights)
        first = min(remote.runners)

        calls = {
            "local": lambda: local.sample(fragment),
            "remote 1": lambda: remote.gather(remote.submit("sample", {first: (fragment,)})),
            "remote 2": lambda: remote.sample(fragment),
        }
        names = list(calls)
        for name in names:  # warm-up: first forward passes, env resets, Ray's first transfers
            calls[name]()
        rates: dict[str, list[float]] = {n: [] for n in names}
        steps: dict[str, int] = {}
        for rep in range(reps):
            order = names[rep % len(names) :] + names[: rep % len(names)]
            for name in order:
                n = 0
                t0 = time.perf_counter()
                for _ in range(rounds):
                    n += sum(r.env_steps for r in calls[name]())
                dt = time.perf_counter() - t0
                rates[name].append(n / dt)
                steps[name] = n
            log(
                f"  rep {rep + 1}/{reps}: "
                + ", ".join(f"{n} {rates[n][-1]:,.0f} steps/s" for n in names)
                + f"  (2/1 {rates['remote 2'][-1] / rates['remote 1'][-1]:.2f}x)"
            )
        cluster_cpus = ray.cluster_resources().get("CPU")
    finally:
        remote.stop()
        algo.stop()
    med = {n: median(rates[n]) for n in names}
    return {
        "env": {"id": BURN_ENV, "env_config": {"env": "CartPole-v1", "burn_us": burn_us}},
        "num_envs": num_envs,
        "fragment": fragment,
        "rounds": rounds,
        "reps": reps,
        "ray_cluster_cpus": cluster_cpus,
        "env_steps_per_measurement": steps,
        "steps_per_s": rates,
        "median_steps_per_s": med,
        "scaling_2_over_1": med["remote 2"] / med["remote 1"],
        "scaling_2_over_1_median_of_pairs": median(
            [a / b for a, b in zip(rates["remote 2"], rates["remote 1"], strict=True)]
        ),
        "remote_1_over_local": med["remote 1"] / med["local"],
        "remote_2_over_local": med["remote 2"] / med["local"],
        "burn_cap_per_core": 1e6 / burn_us if burn_us > 0 else None,
    }


# --- 2. fixed costs of the Ray path -------------------------------------------------------------


def overhead(iters: int, calls: int, ray_cpus: int, log: Any) -> dict[str, Any]:
    import rlrun

    algos = {
        "local": rlrun.build([*CARTPOLE, "seed=0"]),
        "ray": rlrun.build([*CARTPOLE, *RAY, f"ray.num_cpus={ray_cpus}", "seed=0"]),
    }
    names = list(algos)
    try:
        for algo in algos.values():  # warm-up iteration
            algo.train()
        it: dict[str, list[dict[str, Any]]] = {n: [] for n in names}
        for i in range(iters):
            for name in names if i % 2 == 0 else names[::-1]:
                r = algos[name].train()
                it[name].append(
                    {
                        "time_this_iter_s": r["time_this_iter_s"],
                        "env_steps": r["env_runners"]["num_env_steps_sampled"],
                        "env_steps_per_s": r["env_runners"]["env_steps_per_s"],
                        **r["timers"],
                    }
                )
            log(
                f"  iteration {i + 1}/{iters}: "
                + ", ".join(f"{n} {it[n][-1]['time_this_iter_s'] * 1e3:,.0f} ms" for n in names)
            )

        keys = ("get_weights", "sync_call", "sync_applied", "ping", "sample1")
        micro: dict[str, dict[str, list[float]]] = {n: {k: [] for k in keys} for n in names}
        for k in range(calls):
            for name in names if k % 2 == 0 else names[::-1]:
                algo, m = algos[name], micro[name]
                group = algo.env_runner_group
                remote = name == "ray"
                if remote:
                    _ping_all(group)  # nothing of an earlier call still in flight
                t0 = time.perf_counter()
                w = algo.learner_group.get_weights()
                t1 = time.perf_counter()
                group.sync_weights(w)
                t2 = time.perf_counter()
                if remote:
                    _ping_all(group)  # answered once every runner has applied the weights
                t3 = time.perf_counter()
                m["get_weights"].append(t1 - t0)
                m["sync_call"].append(t2 - t1)
                m["sync_applied"].append(t3 - t1)
                if remote:
                    t0 = time.perf_counter()
                    _ping_all(group)
                    m["ping"].append(time.perf_counter() - t0)
                t0 = time.perf_counter()
                group.sample(1)
                m["sample1"].append(time.perf_counter() - t0)
        w = algos["ray"].learner_group.get_weights()
        weight_bytes = sum(t.numel() * t.element_size() for t in w.values())
        num_runners = len(algos["ray"].env_runner_group.runners)
        envs = {n: algos[n].env_runner_group.num_envs_total for n in names}
        frags = {n: algos[n].fragment_length() for n in names}
    finally:
        for algo in algos.values():
            algo.stop()

    def med_it(name: str, key: str) -> float:
        return median([x.get(key) for x in it[name]])

    it_keys = (
        "time_this_iter_s",
        "env_runner_sampling_timer",
        "learner_update_timer",
        "synch_weights",
        "env_steps_per_s",
    )
    return {
        "iters": iters,
        "calls": calls,
        "num_runners": num_runners,
        "num_envs_total": envs,
        "fragment": frags,
        "weight_bytes": weight_bytes,
        "iterations": it,
        "iteration_medians": {n: {k: med_it(n, k) for k in it_keys} for n in names},
        "calls_raw_s": micro,
        "calls_median_ms": {n: {k: _ms(v) for k, v in micro[n].items() if v} for n in names},
    }


def _startup_child(ray_cpus: int) -> None:
    """In a fresh process: build a local Algorithm (the imports), then time Ray's start-up."""
    t: dict[str, float] = {}
    t0 = time.perf_counter()
    import rlrun

    algo = rlrun.build([*CARTPOLE, "seed=0"])
    t["local_build_s"] = time.perf_counter() - t0

    t0 = time.perf_counter()
    import ray  # noqa: F401

    t["import_ray_s"] = time.perf_counter() - t0
    from rlrun import cluster

    t0 = time.perf_counter()
    cluster.init_ray({**algo.config.get("ray", {}), "num_cpus": ray_cpus})
    t["init_ray_s"] = time.perf_counter() - t0
    t0 = time.perf_counter()
    group = _remote_group(algo, 2)  # returns once every runner answered a ping
    t["runners_up_s"] = time.perf_counter() - t0
    group.sync_weights(algo.learner_group.get_weights())
    frag = max(1, algo.train_batch_size // group.num_envs_total)
    for key in ("first_sample_s", "second_sample_s"):
        t0 = time.perf_counter()
        group.sample(frag)
        t[key] = time.perf_counter() - t0
    t0 = time.perf_counter()
    group.stop()
    algo.stop()
    cluster.shutdown_ray()
    t["shutdown_s"] = time.perf_counter() - t0
    print(json.dumps(t), flush=True)


def startup(reps: int, ray_cpus: int, log: Any) -> dict[str, Any]:
    cmd = [sys.executable, str(Path(__file__).resolve()), "--_startup-child"]
    cmd += ["--ray-cpus", str(ray_cpus)]
    runs = []
    for i in range(reps):
        p = run_measured(cmd, cwd=str(ROOT), timeout_s=300)
        rec: dict[str, Any] = {"rc": p.returncode, "wall_s": p.wall_s, "peak_mb": p.peak_rss_mb}
        try:
            rec.update(json.loads(p.stdout.strip().splitlines()[-1]))
        except (IndexError, json.JSONDecodeError):
            rec["error"] = f"exit code {p.returncode}; stderr: {p.stderr[-600:].strip()}"
        runs.append(rec)
        log(
            f"  cold start {i + 1}/{reps}: process {rec['wall_s']:.1f} s, init_ray "
            f"{rec.get('init_ray_s', float('nan')):.2f} s, runners up "
            f"{rec.get('runners_up_s', float('nan')):.2f} s"
            + (f"  [{rec['error']}]" if rec.get("error") else "")
        )
    keys = [k for k in runs[0] if k.endswith("_s") or k == "peak_mb"] if runs else []
    return {
        "reps": reps,
        "runs": runs,
        "medians": {k: median([r.get(k) for r in runs]) for k in keys},
    }


# --- 3. time to solve -----------------------------------------------------------------------------


def solve(seeds: list[int], log: Any) -> dict[str, Any]:
    mark = time_to_solve.pass_mark()
    runs = []
    for seed in seeds:
        for label, extra in (("local", []), ("ray", RAY)):
            rec = time_to_solve.run_rlrun(seed, mark, extra, timeout_s=SOLVE_TIMEOUT_S)
            rec["tool"] = label
            runs.append(rec)
            log(time_to_solve.progress_line(label, seed, rec))
    summary = {}
    for label in ("local", "ray"):
        rs = [r for r in runs if r["tool"] == label]
        summary[label] = {
            "wall_s": median([r["wall_s"] for r in rs]),
            "in_run_s": median([r.get("in_run_s") for r in rs]),
            "env_steps": median([r.get("env_steps") for r in rs]),
            "iterations": median([r.get("iterations") for r in rs]),
            "peak_mb": median([r["peak_mb"] for r in rs]),
            "solved": sum(bool(r["reached"]) for r in rs),
            "n": len(rs),
        }
    return {"seeds": seeds, "mark": mark, "runs": runs, "summary": summary}


# --- all of it ------------------------------------------------------------------------------------


def run(
    reps: int = FULL["reps"],
    num_envs: int = FULL["num_envs"],
    fragment: int = FULL["fragment"],
    rounds: int = FULL["rounds"],
    burn_us: float = FULL["burn_us"],
    iters: int = FULL["iters"],
    calls: int = FULL["calls"],
    startup_reps: int = FULL["startup_reps"],
    seeds: list[int] | None = None,
    ray_cpus: int = FULL["ray_cpus"],
    parts: tuple[int, ...] = (1, 2, 3),
    log: Any = print,
) -> dict[str, Any]:
    from rlrun.cluster import shutdown_ray

    seeds = list(FULL["seeds"] if seeds is None else seeds)
    res: dict[str, Any] = {"parts": list(parts), "ray_cpus": ray_cpus}
    try:
        if 1 in parts:
            log(
                f"[ray 1/3] sampling throughput, BurnCPUEnv ({burn_us:g} us/step), {num_envs} "
                f"envs x {fragment} steps per call, {rounds} calls per measurement, {reps} reps"
            )
            res["sampling"] = sampling(reps, num_envs, fragment, rounds, burn_us, ray_cpus, log)
        if 2 in parts:
            log(f"[ray 2/3] Ray overhead, CartPole PPO: {iters} iterations, {calls} calls each")
            res["overhead"] = overhead(iters, calls, ray_cpus, log)
    finally:
        shutdown_ray()  # parts 2's cold starts and 3's runs start their own Ray
    if 2 in parts:
        log(f"  Ray cold start in a fresh process, {startup_reps} time(s)")
        res["startup"] = startup(startup_reps, ray_cpus, log)
    if 3 in parts and seeds:
        log(f"[ray 3/3] time to solve CartPole-v1, local vs env_runner=ray, seeds {seeds}")
        res["solve"] = solve(seeds, log)
    return res


# --- the report -----------------------------------------------------------------------------------


def _fmt(x: Any, digits: int = 1) -> str:
    if x is None or (isinstance(x, float) and x != x):
        return "-"
    return f"{x:,.{digits}f}"


def _x(a: Any, b: Any) -> str:
    try:
        return f"{a / b:.2f}x"
    except (TypeError, ZeroDivisionError):
        return "-"


def report(res: dict[str, Any]) -> str:
    out: list[str] = []
    s = res.get("sampling")
    if s:
        med, per = s["median_steps_per_s"], s["env_steps_per_measurement"]
        runners = {"local": 1, "remote 1": 1, "remote 2": 2}
        what = {
            "local": "EnvRunnerGroup.sample(T) in the driver",
            "remote 1": "one runner's sample(T) (submit + gather)",
            "remote 2": "RemoteEnvRunnerGroup.sample(T), 2 runners",
        }
        rows = [
            [
                n,
                what[n],
                f"{per[n]:,}",
                _fmt(med[n], 0),
                _fmt(med[n] / runners[n], 0),
                _x(med[n], med["local"]),
            ]
            for n in ("local", "remote 1", "remote 2")
        ]
        ok = s["scaling_2_over_1"] >= TARGET_SCALING
        cap = s["burn_cap_per_core"]
        out += [
            "### Sampling throughput, CPU-heavy env",
            "",
            table(
                [
                    "",
                    "what is timed",
                    "env steps per measurement",
                    "median env steps/s",
                    "per runner",
                    "vs local",
                ],
                rows,
            ),
            "",
            f"- scaling, 2 remote runners / 1: **{s['scaling_2_over_1']:.2f}x** (median of "
            f"paired ratios {s['scaling_2_over_1_median_of_pairs']:.2f}x); target >= "
            f"{TARGET_SCALING:g}x on 2 cores -> {'MET' if ok else 'MISSED'}",
            f"- 1 remote runner / local: {s['remote_1_over_local']:.2f}x; "
            f"2 remote runners / local: {s['remote_2_over_local']:.2f}x",
            "",
            f"BurnCPUEnv over CartPole-v1 burning {s['env']['env_config']['burn_us']:g} us of "
            f"thread CPU time per step"
            + (f" (alone, a cap of {cap:,.0f} steps/s per core)" if cap else "")
            + f"; {s['num_envs']} sub-envs per runner, T = {s['fragment']} steps per sub-env per "
            f"call, {s['rounds']} call(s) per measurement, medians of {s['reps']} interleaved "
            f"repetitions (order rotated), after a warm-up call each. Ray with "
            f"{_fmt(s['ray_cluster_cpus'], 0)} CPUs, 1 CPU per runner; same weights everywhere. "
            "remote 1 and remote 2 use the same two actors: remote 1 asks only runner 1.",
            "",
        ]
    o = res.get("overhead")
    if o:
        im, cm = o["iteration_medians"], o["calls_median_ms"]
        lo, ra = im["local"], im["ray"]

        def it_row(label: str, key: str, scale: float = 1e3, digits: int = 0) -> list[str]:
            a, b = lo.get(key), ra.get(key)
            return [
                label,
                _fmt(None if a is None else a * scale, digits),
                _fmt(None if b is None else b * scale, digits),
                _x(b, a),
            ]

        out += [
            "### Per-iteration cost of the Ray path, CartPole PPO",
            "",
            table(
                [
                    "median per iteration",
                    "local",
                    f"ray ({o['num_runners']} runners)",
                    "ray / local",
                ],
                [
                    it_row("time_this_iter_s (ms)", "time_this_iter_s"),
                    it_row("  sampling (ms)", "env_runner_sampling_timer"),
                    it_row("  learner update (ms)", "learner_update_timer"),
                    it_row("  weight sync (ms)", "synch_weights", digits=1),
                    it_row("env steps/s", "env_steps_per_s", scale=1.0),
                ],
            ),
            "",
            table(
                ["median per call (ms)", "local", "ray"],
                [
                    [
                        label,
                        _fmt(cm["local"].get(k), 2),
                        _fmt(cm["ray"].get(k), 2),
                    ]
                    for label, k in (
                        ("learner_group.get_weights()", "get_weights"),
                        ("group.sync_weights(w), the call", "sync_call"),
                        ("sync_weights until every runner applied it", "sync_applied"),
                        ("empty remote call to every runner (ping)", "ping"),
                        ("group.sample(1) round", "sample1"),
                    )
                ],
            ),
            "",
            f"`experiment=cartpole_ppo` (train batch 4096, {o['num_envs_total']['local']} envs "
            f"local, {o['num_envs_total']['ray']} over the runners; fragment "
            f"{o['fragment']['local']} / {o['fragment']['ray']} steps per env) against the same "
            f"with `env_runner=ray`, both built in this process; {o['iters']} train() iterations "
            f"each after a warm-up one, interleaved. Calls: {o['calls']} each, interleaved; the "
            f"weights are {o['weight_bytes'] / 1024:.0f} KiB. The Ray broadcast is asynchronous "
            "(one ray.put and a call per runner): 'the call' is what the driver waits for; "
            "'until applied' adds a ping answered by every runner (calls run in order). "
            "sample(1) is one step of every sub-env: the fixed cost of a sampling round.",
            "",
        ]
    st = res.get("startup")
    if st and st["medians"]:
        m = st["medians"]
        rows = [
            [label, _fmt(m.get(k), 2)]
            for label, k in (
                ("whole process, start to exit", "wall_s"),
                ("  local Algorithm build (imports torch, rlrun, ...)", "local_build_s"),
                ("  import ray", "import_ray_s"),
                ("  rlrun.cluster.init_ray (cold)", "init_ray_s"),
                ("  2 runners built and answering (group construction)", "runners_up_s"),
                ("  first sample round (4096 steps)", "first_sample_s"),
                ("  second sample round", "second_sample_s"),
                ("  stop runners + shutdown Ray", "shutdown_s"),
            )
        ]
        rows.append(["peak MB of the process tree", _fmt(m.get("peak_mb"), 0)])
        errors = [r["error"] for r in st["runs"] if r.get("error")]
        out += [
            "### Ray start-up, cold (a fresh process each time)",
            "",
            table(["median s", f"{st['reps']} run(s)"], rows),
            "",
            "Ray's added start-up is import ray + init_ray + group construction (the runners "
            "import torch and make their envs). Peak MB: a sum of RSS over the process tree, "
            "Ray's processes included, so shared pages count once per process.",
            *([f"Errors: {'; '.join(errors)}"] if errors else []),
            "",
        ]
    sv = res.get("solve")
    if sv:
        lo, ra = sv["summary"]["local"], sv["summary"]["ray"]
        keys = ("wall_s", "in_run_s", "env_steps", "iterations", "peak_mb")
        digits = {"env_steps": 0, "iterations": 0, "peak_mb": 0}

        def row(label: str, d: dict[str, Any]) -> list[str]:
            return [label, *(_fmt(d[k], digits.get(k, 1)) for k in keys), f"{d['solved']}/{d['n']}"]

        out += [
            "### Time to solve CartPole-v1, local vs Ray",
            "",
            table(
                [
                    "",
                    "median wall s (process start to exit)",
                    "median in-run s",
                    "median env steps",
                    "median iterations",
                    "median peak MB",
                    "solved",
                ],
                [
                    row(f"local: `experiment={sv['mark']['experiment']}`", lo),
                    row("ray: + `env_runner=ray` (2 runners)", ra),
                    ["ratio ray / local", *(_x(ra[k], lo[k]) for k in keys), ""],
                ],
            ),
            "",
            time_to_solve.per_run_table(sv["runs"], "path"),
            "",
            f"Seeds {' '.join(map(str, sv['seeds']))}, interleaved (local 0, ray 0, local 1, ...); "
            "each a fresh `rlrun train` process timed from start to exit (with Ray: its start-up "
            "and shutdown included), until `"
            f"{sv['mark']['metric']}` >= {sv['mark']['reach']}. Peak MB sums the whole process "
            "tree (Ray's own processes included; a sum of RSS, so pages the Ray processes share "
            "count once per process). in-run s: the run's own clock "
            "(time_total_s), which leaves out Ray's start-up. CartPole's env is cheap, and on 2 "
            "cores the 2 runners compete with the driver's learner for the cores.",
            "",
        ]
    return "\n".join(out).rstrip() + "\n"


def main(argv: list[str] | None = None) -> dict[str, Any] | None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--quick", action="store_true", help="a smoke run: 1 rep, tiny sizes, 1 seed")
    ap.add_argument(
        "--parts", type=int, nargs="+", choices=[1, 2, 3], default=[1, 2, 3], help="default: all"
    )
    ap.add_argument("--reps", type=int, help="part 1 repetitions (default 5)")
    ap.add_argument("--num-envs", type=int, help="part 1 sub-envs per runner (default 4)")
    ap.add_argument("--fragment", type=int, help="part 1 steps per sub-env per call (default 250)")
    ap.add_argument("--rounds", type=int, help="part 1 calls per measurement (default 3)")
    ap.add_argument("--burn-us", type=float, help="part 1 CPU microseconds per step (default 1000)")
    ap.add_argument("--iters", type=int, help="part 2 train() iterations per path (default 10)")
    ap.add_argument("--calls", type=int, help="part 2 calls per measurement kind (default 20)")
    ap.add_argument("--startup-reps", type=int, help="part 2 cold starts (default 3)")
    ap.add_argument("--seeds", type=int, nargs="*", help="part 3 seeds (default 0 1 2; none: skip)")
    ap.add_argument("--ray-cpus", type=int, help="num_cpus of the Ray started here (default 2)")
    ap.add_argument("--json", type=Path, help="also write the raw results here")
    ap.add_argument("--_startup-child", action="store_true", help=argparse.SUPPRESS)
    args = ap.parse_args(argv)
    opts = sizes(args.quick)
    for key in opts:
        if getattr(args, key, None) is not None:
            opts[key] = getattr(args, key)
    if args._startup_child:
        _startup_child(opts["ray_cpus"])
        return None
    print("Ray scaling" + (" (quick smoke run)" if args.quick else "") + ":", flush=True)
    res = run(**opts, parts=tuple(args.parts), log=lambda m: print(m, flush=True))
    res["sizes"] = opts
    print_report(report(res), res, args.json)
    return res


if __name__ == "__main__":
    main()
