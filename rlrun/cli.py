"""The `rlrun` command: help, `train` and `evaluate`, and the one place user errors become exit code 2.

Help and every config error must come back fast and without torch or Ray, so this module imports
only the standard library and rlrun's light modules at the top; Hydra is imported when a config is
composed, torch only inside rlrun.run once everything has been checked.
"""

from __future__ import annotations

import difflib
import os
import sys
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from rlrun.cli_help import (
    COMMANDS,
    EVALUATE_HELP,
    main_help,
    train_help,
    version_text,
)
from rlrun.errors import ConfigError, RLRunError

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
        print(f"rlrun {version_text()}")
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
    opts = _parse_train_args(args)
    if opts is None:
        print(train_help())
        return 0
    if opts.resume_sweep and not opts.multirun:
        raise ConfigError(
            None, None, "--resume continues a sweep (-m); a single run resumes with "
            "resume=PATH (a checkpoint or trial folder)",
        )  # fmt: skip
    if opts.multirun:
        return _run_multirun(opts.overrides, opts.print_cfg, opts.verbose, opts.resume_sweep)
    return _train_one(opts.overrides, opts.print_cfg, opts.verbose)


@dataclass
class _TrainArgs:
    """`rlrun train`'s command line: its options, and the overrides in their order."""

    print_cfg: bool = False
    multirun: bool = False
    resume_sweep: bool = False
    verbose: int = 0
    overrides: list[str] = field(default_factory=list)


def _parse_train_args(args: list[str]) -> _TrainArgs | None:
    """The options and overrides of `rlrun train`; None when help was asked for."""
    opts = _TrainArgs()
    for arg in args:
        if arg in ("-h", "--help"):
            return None
        if arg == "--cfg":
            opts.print_cfg = True
        elif arg in ("-m", "--multirun"):
            opts.multirun = True
        elif arg == "--resume":
            opts.resume_sweep = True
        elif n := verbosity(arg):
            opts.verbose += n
        elif arg.startswith("-"):
            raise ConfigError(
                None,
                None,
                f"unknown option '{arg}' for `rlrun train`. Options: -m, --resume (with -m), "
                "--cfg, -v, --help.",
            )
        else:
            opts.overrides.append(arg)
    return opts


def _train_one(overrides: list[str], print_cfg: bool, verbose: int) -> int:
    """`rlrun train` without -m: compose and check everything, then train one trial."""
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


def _print_error(message: str) -> None:
    # Plain ANSI rather than rich: it costs nothing to import and does the same for one line.
    color = sys.stderr.isatty() and "NO_COLOR" not in os.environ
    prefix = "\033[1;31mrlrun: error:\033[0m" if color else "rlrun: error:"
    print(f"{prefix} {message}", file=sys.stderr)
