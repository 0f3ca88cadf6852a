"""The `rlrun` command: help, `train` and `evaluate`, and the one place user errors become exit code 2.

Help and every config error must come back fast and without torch or Ray, so this module imports
only the standard library and rlrun's light modules at the top; Hydra is imported when a config is
composed, torch only inside rlrun.run once everything has been checked.
"""

from __future__ import annotations

import difflib
import os
import sys
from pathlib import Path
from typing import Any

from rlrun.errors import ConfigError, RLRunError

COMMANDS = {
    "train": "train an algorithm:  rlrun train [group=option ...] [key=value ...]",
    "evaluate": "run a checkpoint's policy:  rlrun evaluate checkpoint=PATH [episodes=N] ...",
    "compare": "plot and tabulate trials:  rlrun compare DIR [DIR ...] [--metric KEY]",
    "convert": "an RLlib tuned-example YAML as rlrun experiment YAML:  rlrun convert file=x.yaml",
    "help": "this text; `rlrun <command> --help` says more",
}

EXAMPLES = """\
  rlrun train                                        # PPO on CartPole-v1, the defaults
  rlrun train algo=ppo env=CartPole-v1 seed=1
  rlrun train experiment=cartpole_ppo                # a tuned example
  rlrun train experiment=cartpole_dqn                # DQN (Rainbow options), docs/off_policy.md
  rlrun train algo=sac env=Pendulum-v1               # SAC
  rlrun train experiment=cartpole_appo               # APPO / IMPALA (V-trace), docs/impala_appo.md
  rlrun train experiment=stateless_cartpole_ppo_lstm # an LSTM policy (docs/models.md)
  rlrun train experiment=multi_agent_cartpole_ppo    # multi-agent: a module per agent (docs/multi_agent.md)
  rlrun train experiment=tictactoe_selfplay_ppo      # PettingZoo, action masks, self-play
  rlrun train env=ALE/Pong-v5                        # Atari: Gymnasium's DeepMind wrappers, a CNN
  rlrun train env=MountainCar-v0 algo.lr=1e-3 stop.timesteps=200000
  rlrun train env=my_pkg.envs:MyEnv env.env_config.size=8
  rlrun train env_runner=ray                         # sample in 2 Ray actors (docs/ray.md)
  rlrun train env_runner=ray ray.address=auto        # ... on a running Ray cluster
  rlrun train --cfg algo.gamma=0.95                  # print the composed config, train nothing
  rlrun evaluate checkpoint=~/ray_results/<experiment>/<trial>/checkpoint_000010 episodes=20
  rlrun evaluate checkpoint=... episodes=20 output=/data/expert   # record episodes (docs/offline.md)
  rlrun train experiment=cartpole_bc                 # BC (algo=marwil: MARWIL) from recorded episodes
  rlrun train experiment=pendulum_cql                # CQL (on SAC, Box actions) from recorded episodes
  rlrun train resume=~/ray_results/<experiment>/<trial>/checkpoint_000010
  rlrun train resume=~/ray_results/<experiment>/<trial>   # its newest complete checkpoint
  rlrun train -m algo.lr=1e-3,3e-4 seed=0,1,2        # a sweep: 6 trials in turn, then a table
  rlrun train -m hydra/launcher=ray seed=range(0,4)  # ... in parallel on Ray (docs/sweeps.md)
  rlrun compare ~/ray_results/PPO_CartPole-v1        # learning curves + table, docs/compare.md
  rlrun train file=cartpole-ppo.yaml seed=3          # an RLlib tuned-example file (docs/rllib_yaml.md)
  rlrun convert file=cartpole-ppo.yaml --out conf/experiment   # ... as rlrun experiment files"""

TRAIN_HELP = """\
usage: rlrun train [-m [--resume]] [--cfg] [-v | -vv] [group=option ...] [key=value ...]

Composes conf/config.yaml with your overrides (Hydra's syntax), checks every value against the
schema, then trains in this process (plus the Ray actors asked for: remote env runners, learners
or evaluation runners), writing results and checkpoints under <results_dir>/<name>/<trial>/.
Training stops at the first stop criterion met.

options:
  --cfg        print the composed config as YAML and exit (nothing is trained); shows every key
  --resume     with -m: re-running the same sweep skips the trials that finished and resumes
               the interrupted ones from their newest checkpoint (docs/sweeps.md)
  -m, --multirun  a sweep: one trial per combination of comma-separated values, range() or
               choice() (docs/sweeps.md); hydra/launcher=ray runs trials in parallel on Ray,
               hydra/sweeper=optuna searches (interval(), hydra.sweeper.n_trials=N). Ends with a
               table of trials, best first, and <results_dir>/<name>/sweep_summary.csv/.json
  -v, -vv      log at INFO (-v) or DEBUG (-vv) rather than WARN; beside log_level=, the more
               verbose of the two wins
  -h, --help   this text

RLlib files:
  file=PATH    run the experiments of an RLlib tuned-example YAML file (`rllib train file ...`),
               one after the other; overrides given here apply on top (docs/rllib_yaml.md)
  strict=true  with file=: keys that rlrun has no equivalent for are an error, not a warning

groups (group=option):
{groups}

keys (a few of them; `rlrun train --cfg` lists all with their values):
  algo.*        algo.lr=3e-4  algo.lr=[[0,1e-3],[100000,1e-4]]  algo.gamma=0.99  algo.lambda_=0.95
                algo.train_batch_size_per_learner=4000  algo.minibatch_size=256  algo.num_epochs=10
                algo.entropy_coeff=0.01  algo.grad_clip=0.5  algo.model.fcnet_hiddens=[256,256]
  env.*         env.id=CartPole-v1  env.max_episode_steps=500  env.env_config.size=8  env.env_config={{size:8}}
  env_runner.*  env_runner.num_envs_per_env_runner=8  env_runner.observation_filter=MeanStdFilter
                env_runner.num_env_runners=4 (Ray actors)  env_runner.num_cpus_per_env_runner=0.5
  learner.*     learner.num_learners=2 (data-parallel Ray actors)  learner.num_gpus_per_learner=1
  evaluation.*  evaluation.interval=5  evaluation.duration=10  evaluation.num_env_runners=1
                evaluation.parallel_to_training=true  evaluation.env_config={{size:16}}
  fault_tolerance.*  fault_tolerance.restart_failed_env_runners=true
                fault_tolerance.restart_failed_sub_environments=true
  ray.*         ray.address=auto  ray.num_cpus=4  ray.dashboard_host=127.0.0.1
  multi_agent.* multi_agent.policies=[p0,p1]  multi_agent.policy_mapping_fn=pkg.mod:fn
                multi_agent.policies_to_train=[p0]  multi_agent.policies={{p0:{{config:{{lr:0.01}}}}}}
  stop.*        stop.reward=475  stop.reward=null  stop.timesteps=200000  stop.iterations=50  stop.time_s=600
  checkpoint.*  checkpoint.frequency=10  checkpoint.num_to_keep=3  checkpoint.at_end=true
                checkpoint.score_attribute=evaluation/env_runners/episode_return_mean
  top level     seed=0  name=my_run  results_dir=~/ray_results  log_level=INFO  console=plain  resume=PATH
                output=DIR (write the sampled episodes as JSON lines)  output_format=parquet
                callbacks=[pkg.mod:Class] (docs/callbacks.md)  env.task_fn=pkg.mod:fn (a curriculum)

syntax: key=value sets a key; key=[1,2] is a list, key={{a:1}} a mapping; key=null unsets; quote
values with spaces or commas: key='a,b'. Only the free-form env.env_config, evaluation.env_config,
algo.model.custom, ray.runtime_env and multi_agent.policies take new keys.

examples:
{examples}"""

EVALUATE_HELP = """\
usage: rlrun evaluate checkpoint=PATH [episodes=N] [render=true] [video=DIR] [seed=S] [explore=false]
                      [output=DIR] [output_format=json|parquet] [-v | -vv]

Runs the checkpoint's policy (deterministic unless explore=true), prints a table of the episode
returns and writes evaluation.json beside the checkpoint.

  checkpoint=PATH  a checkpoint_NNNNNN/ folder (holds rlrun_checkpoint.json); required
  episodes=N       episodes to run (default {episodes})
  render=BOOL      show the env on screen (default false)
  video=DIR        record episodes as videos into DIR (default: none)
  seed=S           seed of the evaluation envs (default: none, fresh randomness)
  explore=BOOL     sample stochastic actions instead of the deterministic ones (default false)
  output=DIR       also write the episodes to DIR/<name>_evaluation/, as `rlrun train output=DIR`
                   does: data for offline algorithms (BC, MARWIL, CQL; docs/offline.md)
  output_format=F  json (JSON lines, the default) or parquet (needs pyarrow)
  -v, -vv          log at INFO (-v) or DEBUG (-vv) rather than WARN"""

# name -> (default, parser); parsers raise ConfigError naming the key.
_EVAL_DEFAULT_EPISODES = 10


def main(argv: list[str] | None = None) -> int:
    """Entry point of the `rlrun` console script; returns the process exit code."""
    args = list(sys.argv[1:] if argv is None else argv)
    try:
        return _dispatch(args)
    except RLRunError as e:
        _print_error(str(e))
        return e.exit_code
    except KeyboardInterrupt:
        print("rlrun: interrupted", file=sys.stderr)
        return 130
    except BrokenPipeError:
        # `rlrun --help | head` closed our stdout; that is not an error worth a traceback.
        sys.stderr.close()
        return 0


def entry() -> None:
    """The `rlrun` console script and `python -m rlrun`: main(), then a fast exit.

    Once torch is loaded, the interpreter's own teardown of its modules takes ~0.45 s on a
    2-core machine, a tenth of a CartPole run. Every file rlrun writes is closed before main()
    returns, so after flushing the streams and running the atexit handlers (user code's
    included) nothing is lost by skipping that teardown.
    """
    code = main()
    if "torch" not in sys.modules:
        sys.exit(code)
    import atexit
    import contextlib
    import logging

    logging.shutdown()
    atexit._run_exitfuncs()
    for stream in (sys.stdout, sys.stderr):
        with contextlib.suppress(OSError, ValueError):  # closed or broken: nothing to flush
            stream.flush()
    os._exit(code)


def _dispatch(args: list[str]) -> int:
    if not args or args[0] in ("-h", "--help"):
        print(main_help())
        return 0
    command, rest = args[0], args[1:]
    if command == "help":
        if rest and rest[0] in ("train", "evaluate", "compare", "convert"):
            return _dispatch([rest[0], "--help"])
        print(main_help())
        return 0
    if command in ("-V", "--version"):
        print(f"rlrun {_version()}")
        return 0
    if command == "train":
        return train_command(rest)
    if command == "evaluate":
        return evaluate_command(rest)
    if command == "compare":
        from rlrun.compare import compare_command

        return compare_command(rest)
    if command == "convert":
        from rlrun.rllib_yaml.commands import convert_command

        return convert_command(rest)
    if "=" in command:
        raise RLRunError(
            f"'{command}' is an override, but no command was given: try `rlrun train {' '.join(args)}`."
        )
    close = difflib.get_close_matches(command, list(COMMANDS), n=1, cutoff=0.5)
    hint = f" Did you mean '{close[0]}'?" if close else ""
    raise RLRunError(
        f"unknown command '{command}'.{hint} Commands: {', '.join(COMMANDS)} (see `rlrun --help`)."
    )


# --- train ---------------------------------------------------------------------------------------


def train_command(args: list[str]) -> int:
    if any(a.partition("=")[0] in ("file", "strict") for a in args):
        # An RLlib tuned-example file: each experiment becomes overrides (docs/rllib_yaml.md).
        from rlrun.rllib_yaml.commands import train_file

        return train_file(args)
    print_cfg = False
    multirun = False
    resume_sweep = False
    verbose = 0
    overrides: list[str] = []
    it = iter(args)
    for arg in it:
        if arg in ("-h", "--help"):
            print(train_help())
            return 0
        if arg == "--cfg":
            print_cfg = True
        elif arg in ("-m", "--multirun"):
            multirun = True
        elif arg == "--resume":
            resume_sweep = True
        elif n := verbosity(arg):
            verbose += n
        elif arg.startswith("-"):
            raise ConfigError(
                None,
                None,
                f"unknown option '{arg}' for `rlrun train`. Options: -m, --resume (with -m), "
                "--cfg, -v, --help.",
            )
        else:
            overrides.append(arg)

    if resume_sweep and not multirun:
        raise ConfigError(
            None, None, "--resume continues a sweep (-m); a single run resumes with "
            "resume=PATH (a checkpoint or trial folder)",
        )  # fmt: skip
    if multirun:
        return _run_multirun(overrides, print_cfg, verbose, resume_sweep)

    from rlrun.config.checkpoint_path import check_checkpoint
    from rlrun.config.compose import compose
    from rlrun.config.validate import check_env_id, validate

    cfg = compose(_with_checkpoint_algo(overrides))
    validate(cfg)
    overrides = apply_verbosity(cfg, overrides, verbose)
    if cfg.resume:
        # Checked now so a bad path fails in a second, before torch is even imported.
        cfg.resume = str(check_checkpoint(cfg.resume, key="resume"))
    if print_cfg:
        from omegaconf import OmegaConf

        print(OmegaConf.to_yaml(cfg), end="")
        return 0
    check_env_id(cfg)
    from rlrun.callbacks.hooks import check_user_code

    check_user_code(cfg)  # callbacks= and env.task_fn import, before torch does

    from rlrun.run import train

    return int(train(cfg, overrides))


def _with_checkpoint_algo(overrides: list[str]) -> list[str]:
    """With resume=PATH the checkpoint fixes the algorithm: compose with its group, so that
    overrides of its own keys (algo.autotune_alpha for SAC) are checked against its schema
    rather than the default algorithm's. A bad path fails here, before any override is read."""
    keys = [o.lstrip("+~").split("=", 1) for o in overrides]
    resume = [kv[1] for kv in keys if kv[0] == "resume" and len(kv) == 2]
    if not resume or any(kv[0] == "algo" for kv in keys):
        return overrides
    import yaml

    from rlrun.algorithms.registry import ALGORITHMS
    from rlrun.config.checkpoint_path import check_checkpoint

    folder = check_checkpoint(resume[-1], key="resume")
    try:
        config = yaml.safe_load((folder / "config.yaml").read_text())
        name = str(config["algo"]["name"]).upper()
    except (OSError, yaml.YAMLError, TypeError, KeyError):
        return overrides  # an unreadable config.yaml: resolve_config reports it
    return [f"algo={name.lower()}", *overrides] if name in ALGORITHMS else overrides


_LEVELS = {"DEBUG": 10, "INFO": 20, "WARN": 30, "WARNING": 30, "ERROR": 40}


def verbosity(arg: str) -> int:
    """How many -v an argument says: -v 1, -vv 2, --verbose 1; 0 for anything else."""
    if arg == "--verbose":
        return 1
    return len(arg) - 1 if len(arg) > 1 and arg == "-" + "v" * (len(arg) - 1) else 0


def verbose_level(count: int) -> str:
    return "INFO" if count == 1 else "DEBUG"


def _run_multirun(overrides: list[str], print_cfg: bool, verbose: int, resume: bool = False) -> int:
    """`rlrun train -m`: one trial per combination of the sweep (rlrun.sweep)."""
    if print_cfg:
        raise ConfigError(
            None, None, "--cfg prints one config; drop -m, or pick one value of each sweep."
        )
    if any(o.lstrip("+").split("=", 1)[0] == "resume" for o in overrides):
        raise ConfigError(
            "resume", None, "cannot be swept: resume one trial at a time, without -m."
        )
    if verbose:
        # As for one run: the more verbose of -v and a log_level= override wins.
        given = [o for o in overrides if o.lstrip("+").split("=", 1)[0] == "log_level"]
        wanted = verbose_level(verbose)
        user = given[-1].split("=", 1)[1].upper() if given else "WARN"
        if _LEVELS[wanted] < _LEVELS.get(user, 30):
            overrides = [o for o in overrides if o not in given] + [f"log_level={wanted}"]
    from rlrun.sweep.multirun import run_multirun

    return run_multirun(overrides, resume=resume)


def apply_verbosity(cfg: Any, overrides: list[str], count: int) -> list[str]:
    """-v / -vv beside `log_level` (from the command line or a config file): the more verbose
    wins. Returns the overrides, ending in the log_level used when -v changed it, so a resumed
    run (whose config comes from its checkpoint) and .hydra/overrides.yaml get it too."""
    if not count:
        return overrides
    wanted = verbose_level(count)
    if _LEVELS[wanted] >= _LEVELS[str(cfg.log_level)]:
        return overrides
    cfg.log_level = wanted
    kept = [o for o in overrides if o.lstrip("+~").split("=", 1)[0] != "log_level"]
    return [*kept, f"log_level={wanted}"]


# --- evaluate ------------------------------------------------------------------------------------


def evaluate_command(args: list[str]) -> int:
    opts = parse_evaluate_args(args)
    if opts is None:
        print(EVALUATE_HELP.format(episodes=_EVAL_DEFAULT_EPISODES))
        return 0

    from rlrun.run import evaluate

    return int(evaluate(**opts))


def parse_evaluate_args(args: list[str]) -> dict[str, Any] | None:
    """key=value arguments of `rlrun evaluate` -> keyword arguments of rlrun.run.evaluate.

    Returns None when help was asked for.
    """
    from rlrun.config.checkpoint_path import check_checkpoint

    raw: dict[str, str] = {}
    verbose = 0
    for arg in args:
        if arg in ("-h", "--help"):
            return None
        if n := verbosity(arg):
            verbose += n
            continue
        if arg.startswith("-"):
            raise ConfigError(
                None,
                None,
                f"unknown option '{arg}' for `rlrun evaluate`; it takes key=value arguments (see `rlrun evaluate --help`).",
            )
        key, sep, value = arg.partition("=")
        if not sep:
            hint = f" Did you mean checkpoint={arg}?" if Path(arg).expanduser().exists() else ""
            raise ConfigError(None, None, f"'{arg}' is not a key=value argument.{hint}")
        if key not in _EVAL_PARSERS:
            close = difflib.get_close_matches(key, list(_EVAL_PARSERS), n=1, cutoff=0.5)
            hint = f" Did you mean '{close[0]}'?" if close else ""
            raise ConfigError(
                key,
                value,
                f"unknown argument of `rlrun evaluate`.{hint}",
                allowed=", ".join(_EVAL_PARSERS),
            )
        raw[key] = value
    if not raw.get("checkpoint"):
        raise ConfigError(
            None,
            None,
            "checkpoint=PATH is required: it names a checkpoint_NNNNNN/ folder to evaluate "
            "(see `rlrun evaluate --help`).",
        )
    opts: dict[str, Any] = {
        "episodes": _EVAL_DEFAULT_EPISODES,
        "render": False,
        "video": None,
        "seed": None,
        "explore": False,
    }
    if verbose:
        opts["log_level"] = verbose_level(verbose)
    for key, value in raw.items():
        opts[key] = _EVAL_PARSERS[key](key, value)
    opts["checkpoint"] = check_checkpoint(opts["checkpoint"], key="checkpoint")
    return opts


def _parse_int(key: str, value: str, *, lo: int, nullable: bool) -> int | None:
    if nullable and value.lower() in ("null", "none", ""):
        return None
    try:
        number = int(value)
    except ValueError:
        number = None
    if number is None or number < lo:
        allowed = f"an integer >= {lo}" + (", or null" if nullable else "")
        raise ConfigError(key, value, "invalid value.", allowed=allowed)
    return number


def _parse_bool(key: str, value: str) -> bool:
    lowered = value.lower()
    if lowered in ("true", "yes", "on", "1"):
        return True
    if lowered in ("false", "no", "off", "0"):
        return False
    raise ConfigError(key, value, "invalid value.", allowed="true or false")


def _parse_path(key: str, value: str) -> str | None:
    if value.lower() in ("null", "none", ""):
        return None
    return os.path.expanduser(value)


_EVAL_PARSERS: dict[str, Any] = {
    "checkpoint": lambda k, v: v,
    "episodes": lambda k, v: _parse_int(k, v, lo=1, nullable=False),
    "render": _parse_bool,
    "video": _parse_path,
    "seed": lambda k, v: _parse_int(k, v, lo=0, nullable=True),
    "explore": _parse_bool,
    "output": _parse_path,
    "output_format": lambda k, v: _parse_choice(k, v, ("json", "parquet")),
}


def _parse_choice(key: str, value: str, choices: tuple[str, ...]) -> str:
    if value not in choices:
        raise ConfigError(key, value, "not a valid choice.", allowed=", ".join(choices))
    return value


# --- help ----------------------------------------------------------------------------------------


def main_help() -> str:
    from rlrun.algorithms.registry import ALGORITHMS
    from rlrun.config.paths import experiments

    width = max(len(c) for c in COMMANDS) + 3
    commands = "\n".join(f"  {name.ljust(width)}{text}" for name, text in COMMANDS.items())
    algos = ", ".join(f"{name} (algo={name.lower()})" for name in ALGORITHMS)
    # RLlib's old-stack names for DQN with other settings (conf/algo/simple_q.yaml, apex.yaml).
    algos += "; DQN presets: SimpleQ (algo=simple_q), APEX (algo=apex env_runner=ray)"
    found = experiments()
    if found:
        w = max(len(n) for n, _ in found) + 3
        tuned = "\n".join(f"  {name.ljust(w)}{desc}".rstrip() for name, desc in found)
    else:
        tuned = "  (none yet)"
    return f"""\
usage: rlrun <command> [args ...]

Reinforcement-learning experiments from the command line: RLlib's new API stack, small and fast.

commands:
{commands}

algorithms: {algos}

config groups (group=option):
{_groups_text()}

tuned examples (rlrun train experiment=NAME):
{tuned}

examples:
{EXAMPLES}"""


def train_help() -> str:
    return TRAIN_HELP.format(groups=_groups_text(), examples=EXAMPLES)


def _groups_text() -> str:
    from rlrun.config.paths import EXPERIMENT_GROUP, config_groups, group_options

    rows: list[tuple[str, str]] = []
    for group in config_groups():
        options = group_options(group)
        if group == "env":
            shown = ", ".join(o for o in options if o != "gym")
            text = f"{shown}, or any Gymnasium id (env=MountainCar-v0), or env=pkg.module:Class"
        else:
            text = ", ".join(options)
        rows.append((group, text))
    rows.append((EXPERIMENT_GROUP, "a tuned example, listed by `rlrun --help`"))
    width = max(len(g) for g, _ in rows) + 3
    return "\n".join(f"  {g.ljust(width)}{t}" for g, t in rows)


def _version() -> str:
    from importlib.metadata import PackageNotFoundError, version

    try:
        return version("rlrun")
    except PackageNotFoundError:
        # Running from a source checkout that is not installed: the version is in pyproject.toml.
        import tomllib

        pyproject = Path(__file__).resolve().parents[1] / "pyproject.toml"
        try:
            return str(tomllib.loads(pyproject.read_text(encoding="utf-8"))["project"]["version"])
        except (OSError, KeyError, ValueError):
            return "unknown"


def _print_error(message: str) -> None:
    # Plain ANSI rather than rich: it costs nothing to import and does the same for one line.
    color = sys.stderr.isatty() and "NO_COLOR" not in os.environ
    prefix = "\033[1;31mrlrun: error:\033[0m" if color else "rlrun: error:"
    print(f"{prefix} {message}", file=sys.stderr)
