"""`rlrun train file=x.yaml` and `rlrun convert file=x.yaml`: RLlib tuned-example files.

Each experiment of the file becomes Hydra overrides, followed by the user's own (the command line
wins). Every experiment is converted, composed and validated before the first one trains, so a
bad value in the last one costs no training time. They then run one after the other; the exit
code is the worst of theirs.
"""

from __future__ import annotations

import sys
from pathlib import Path
from typing import TYPE_CHECKING

from rlrun.cli import _parse_bool as parse_bool
from rlrun.errors import ConfigError, RLRunError

if TYPE_CHECKING:
    from rlrun.rllib_yaml.convert import Experiment

CONVERT_HELP = """\
usage: rlrun convert file=RLLIB.yaml [strict=true] [--out DIR]

Prints each experiment of an RLlib tuned-example YAML file (the format of `rllib train file ...`)
as an rlrun experiment file (`# @package _global_`, a defaults list choosing algo and env, then the
keys), separated by `---`. With --out DIR, writes one DIR/<experiment>.yaml per experiment
instead; put them in conf/experiment/ and run `rlrun train experiment=<experiment>`.

Settings the file leaves out take RLlib's defaults (written out too), not rlrun's. Keys with no
rlrun equivalent are listed as a warning (strict=true makes them an error, exit 2). The result
does not depend on this machine: a file written for a cluster converts anywhere (`rlrun train`
checks the resources). The key mapping and the defaults: docs/rllib_yaml.md.

options:
  --out DIR    write one file per experiment into DIR (created if missing)
  -h, --help   this text"""

_MULTIRUN = ("-m", "--multirun")


def train_file(args: list[str]) -> int:
    """`rlrun train file=x.yaml [strict=true] [options] [overrides]`."""
    from rlrun import cli
    from rlrun.rllib_yaml.convert import convert_file
    from rlrun.rllib_yaml.emit import hydra_value, to_overrides

    if any(a in ("-h", "--help") for a in args):
        return cli.train_command(["--help"])
    file, strict, rest = split_file_args(args, "train")
    options = [a for a in rest if a.startswith("-")]
    user = [a for a in rest if not a.startswith("-")]
    print_cfg = "--cfg" in options
    multirun = any(o in _MULTIRUN for o in options)
    plain_options = [o for o in options if o not in _MULTIRUN]
    # A later env= cannot undo the env.id that the file's env sets for an env without a yaml.
    user_env = any(o.split("=", 1)[0].lstrip("+") == "env" for o in user)

    experiments = convert_file(file)
    report(experiments, strict)
    for exp in experiments:
        first = [*to_overrides(exp, first_only=True, env=not user_env), *first_trial(user)]
        check(exp, first)
        if not user_env:
            for other in exp.envs[1:]:  # a grid_search over env: each one must be makeable
                check(exp, [*first, f"env.id={hydra_value(other)}"])

    codes: list[int] = []
    for i, exp in enumerate(experiments):
        overrides = [*to_overrides(exp, env=not user_env), *user]
        if len(experiments) > 1:
            print(
                f"rlrun: experiment '{exp.name}' ({i + 1} of {len(experiments)}) from {file}",
                file=sys.stderr,
            )
        try:
            if print_cfg:
                # The config of the first trial: a sweep's others differ only in the swept keys.
                first = [*to_overrides(exp, first_only=True, env=not user_env), *user]
                code = cli.train_command([*plain_options, *first])
            else:
                # A grid_search runs as `rlrun train -m` would run its comma-separated values.
                sweep = ["-m"] if exp.is_sweep or multirun else []
                code = cli.train_command([*sweep, *plain_options, *overrides])
        except ConfigError as e:
            # Raised once the run started (a GPU that torch does not see, actors Ray cannot
            # place): name the file's key behind it.
            e = ConfigError(None, None, f"{exp.place}{origin(exp, e)}: {e}")
            if len(experiments) == 1:
                raise e from None
            cli._print_error(f"experiment '{exp.name}': {e}")
            code = e.exit_code
        except RLRunError as e:
            if len(experiments) == 1:
                raise
            # One experiment failing does not stop the others; its message and code are kept.
            cli._print_error(f"experiment '{exp.name}': {e}")
            code = e.exit_code
        codes.append(code)
        if code >= 128:
            break  # interrupted (Ctrl-C, SIGTERM): the rest are not wanted either
    return max(codes)


def convert_command(args: list[str]) -> int:
    """`rlrun convert file=x.yaml [strict=true] [--out DIR]`."""
    from rlrun.rllib_yaml.convert import convert_file
    from rlrun.rllib_yaml.emit import option_name, to_overrides, to_yaml

    out_dir: str | None = None
    rest: list[str] = []
    it = iter(args)
    for arg in it:
        if arg in ("-h", "--help"):
            print(CONVERT_HELP)
            return 0
        if arg == "--out":
            out_dir = next(it, None)
            if not out_dir or out_dir.startswith("-"):
                raise ConfigError(None, None, "--out needs a directory: --out DIR.")
        elif arg.startswith("--out="):
            out_dir = arg.split("=", 1)[1]
        elif arg.startswith("-"):
            raise ConfigError(
                None, None, f"unknown option '{arg}' for `rlrun convert`. Options: --out, --help."
            )
        else:
            rest.append(arg)
    file, strict, extra = split_file_args(rest, "convert")
    if extra:
        raise ConfigError(
            None,
            None,
            f"`rlrun convert` takes file=, strict= and --out DIR only, not {' '.join(extra)}; "
            "apply overrides when you train: rlrun train experiment=NAME key=value.",
        )
    experiments = convert_file(file)
    report(experiments, strict)
    for exp in experiments:
        check(exp, to_overrides(exp, first_only=True), env=False, local=False)
    names = [option_name(exp) for exp in experiments]
    twice = sorted({n for n in names if names.count(n) > 1})
    if twice and out_dir is not None:
        raise ConfigError(
            "file", file, f"two experiments would both be written to {twice[0]}.yaml; rename one."
        )
    texts = [to_yaml(exp) for exp in experiments]
    if out_dir is None:
        print("\n---\n".join(texts), end="")
        return 0
    folder = Path(out_dir).expanduser()
    if folder.exists() and not folder.is_dir():
        raise ConfigError("--out", out_dir, "is a file, not a directory.")
    try:
        folder.mkdir(parents=True, exist_ok=True)
        for name, text in zip(names, texts, strict=True):
            path = folder / f"{name}.yaml"
            path.write_text(text, encoding="utf-8")
            print(f"wrote {path}")
    except OSError as e:
        raise ConfigError("--out", out_dir, f"cannot write there ({e}).") from None
    return 0


def split_file_args(args: list[str], command: str) -> tuple[str, bool, list[str]]:
    """Pull `file=` and `strict=` out of the arguments; the rest are returned in order."""
    file: str | None = None
    strict = False
    rest: list[str] = []
    for arg in args:
        key, sep, value = arg.partition("=")
        if sep and key == "file":
            if file is not None:
                raise ConfigError("file", value, "given twice; one file per command.")
            file = value
        elif sep and key == "strict":
            strict = parse_bool("strict", value)
        else:
            rest.append(arg)
    if file is None:
        raise ConfigError(
            None, None, f"`rlrun {command}` with strict= needs file=PATH, an RLlib YAML file."
        )
    return file, strict, rest


def report(experiments: list[Experiment], strict: bool) -> None:
    """Notes (one line each) and the keys with no rlrun home (one paragraph per experiment),
    on stderr; with strict=true those keys are one ConfigError instead."""
    if strict:
        lost = [f"{exp.place}: {_keys(exp.ignored)}" for exp in experiments if exp.ignored]
        if lost:
            raise ConfigError(
                None,
                None,
                f"strict=true, and these keys have no rlrun equivalent: {'; '.join(lost)}. "
                "Remove them, or drop strict=true to run without them "
                "(docs/rllib_yaml.md maps every key).",
            )
    for exp in experiments:
        for note in exp.notes:
            print(f"rlrun: note: {exp.place}: {note}", file=sys.stderr)
        if exp.ignored and not strict:
            n = len(exp.ignored)
            print(
                f"rlrun: warning: {exp.place}: {n} key{'s' if n > 1 else ''} with no rlrun "
                f"equivalent {'are' if n > 1 else 'is'} not used: {_keys(exp.ignored)}. "
                "strict=true makes this an error.",
                file=sys.stderr,
            )


def check(exp: Experiment, overrides: list[str], env: bool = True, local: bool = True) -> None:
    """Compose and validate one experiment now, naming the RLlib key behind a bad value.

    `local=False` (`rlrun convert`) skips what depends on this machine: whether its CPUs could
    hold the remote actors the file asks for. `train` checks that, and names the file's keys.
    """
    from rlrun.config.compose import compose
    from rlrun.config.validate import check_env_id, validate

    if not local:
        # A file written for a cluster converts anywhere: validation takes the actors as placed
        # on an existing cluster, where this machine's CPU count says nothing.
        overrides = [*overrides, "ray.address=auto"]
    try:
        cfg = compose(overrides)
        validate(cfg)
        if env:
            check_env_id(cfg)
    except ConfigError as e:
        raise ConfigError(None, None, f"{exp.place}{origin(exp, e)}: {e}") from None


def origin(exp: Experiment, error: ConfigError) -> str:
    """' (num_workers in the file)' for an error about a key the file set, ' (RLlib's default
    train_batch_size)' for one RLlib's defaults set, '' otherwise. A resource check names the
    file's keys that ask for the actors."""
    text = str(error)
    key = error.key or next(
        (k for k in exp.settings if text.startswith((f"{k}=", f"++{k}="))), None
    )
    if key in exp.sources:
        return f" ({exp.sources[key]} in the file)"
    if key in exp.default_sources:
        return f" (RLlib's default {exp.default_sources[key]}, not in the file)"
    if error.key is None and "ask Ray for" in text:
        kind = "gpus" if " GPUs " in text else "cpus"
        keys = [k for k in RESOURCE_KEYS if "_cpus_" not in k and "_gpus_" not in k]
        keys += [k for k in RESOURCE_KEYS if f"_{kind}_" in k]
        asked = [exp.sources[k] for k in keys if k in exp.sources]
        if asked:
            return f" (lower {' or '.join(dict.fromkeys(asked))} in the file)"
    return ""


# The keys that size the actors a run asks Ray for: counts, then CPUs or GPUs per actor.
RESOURCE_KEYS = (
    "env_runner.num_env_runners",
    "evaluation.num_env_runners",
    "learner.num_learners",
    "env_runner.num_cpus_per_env_runner",
    "evaluation.num_cpus_per_env_runner",
    "learner.num_cpus_per_learner",
    "env_runner.num_gpus_per_env_runner",
    "learner.num_gpus_per_learner",
)


def first_trial(overrides: list[str]) -> list[str]:
    """The user's `-m` sweeps (`seed=0,1,2`) cut to their first value, so that the check before
    training composes one trial; other sweeps (range(...)) are left to the sweep itself."""
    from hydra.core.override_parser.overrides_parser import OverridesParser
    from hydra.core.override_parser.types import ChoiceSweep

    from rlrun.rllib_yaml.emit import hydra_value

    parser = OverridesParser.create()
    out = []
    for text in overrides:
        try:
            ov = parser.parse_override(text)
        except Exception:  # compose() reports a malformed override with its own message
            out.append(text)
            continue
        if not ov.is_sweep_override():
            out.append(text)
        elif isinstance(ov.value(), ChoiceSweep) and ov.value().list:
            key = text.split("=", 1)[0]
            out.append(f"{key}={hydra_value(ov.value().list[0])}")
    return out


def _keys(ignored: dict[str, str]) -> str:
    return ", ".join(f"{k} ({why})" if why else k for k, why in ignored.items())
