"""The command line's overrides, parsed one by one and rewritten before Hydra composes them.

`env=<Gymnasium id>` becomes `env=gym env.id=<id>`, and settings inside free-form mappings become
`++` (set or add). Nothing here imports torch or Ray.
"""

from __future__ import annotations

import re
import typing
from pathlib import Path
from typing import Any

from hydra.core.override_parser.overrides_parser import OverridesParser
from hydra.core.override_parser.types import OverrideType
from hydra.errors import HydraException, OverrideParseException

from rlrun.config.compose_errors import first_line, sweep_error
from rlrun.config.keys import schema_keys
from rlrun.config.paths import conf_dir, group_options, has_option
from rlrun.errors import ConfigError

# The env group's catch-all: `env=<id without a yaml>` composes this with env.id=<id>.
GENERIC_ENV = "gym"

_SYNTAX = "Overrides look like key=value, +key=value (add), group=option or key=[1,2]."


def parse_overrides(overrides: list[str]) -> list[Any]:
    """Parse each override alone so a syntax error names the one that is wrong."""
    parser = OverridesParser.create()
    parsed = []
    for text in overrides:
        if text.startswith("~"):
            # Deleting a schema key would only fail later, far from its cause.
            raise ConfigError(
                None,
                None,
                f"'{text}': deleting keys is not supported; set the key to null instead "
                f"({text[1:].split('=', 1)[0]}=null).",
            )
        if "=" not in text:
            raise ConfigError(None, None, f"'{text}' is not an override: it has no '='. {_SYNTAX}")
        try:
            parsed.append(parser.parse_override(text))
        except (OverrideParseException, HydraException) as e:
            reason = first_line(e).removeprefix(f"Error parsing override '{text}'").strip() or str(
                e
            )
            raise ConfigError(
                None,
                None,
                f"cannot parse override '{text}' ({reason.splitlines()[0]}). {_SYNTAX} "
                "Quote values with spaces or special characters: key='a b'.",
            ) from None
    return parsed


def rewrite_env_overrides(
    overrides: list[str],
    root: Path | None = None,
    parsed: list[Any] | None = None,
    sweeps: bool = False,
) -> list[str]:
    """`env=X` with no conf/env/X.yaml becomes `env=gym env.id=X`, in place, so order is kept.

    Later overrides of env.id still win, exactly as if the user had typed the two halves.
    With `sweeps` (a multirun), `env=A,B` becomes `env=gym env.id=A,B` alike.
    """
    root = root or conf_dir()
    parsed = parsed if parsed is not None else parse_overrides(overrides)
    out: list[str] = []
    for text, ov in zip(overrides, parsed, strict=True):
        if ov.key_or_group != "env" or ov.package is not None or ov.type != OverrideType.CHANGE:
            out.append(text)
            continue
        if ov.is_sweep_override():
            if not sweeps:
                raise sweep_error(text)
            out += _rewrite_env_sweep(text, list(ov.sweep_string_iterator()), root)
            continue
        value = ov.value()
        if not isinstance(value, str):
            out.append(text)
            continue
        if value == "":
            raise ConfigError(
                "env",
                "",
                "needs an environment.",
                allowed=f"{', '.join(group_options('env', root))} or any Gymnasium id or pkg.module:Class",
            )
        if value == GENERIC_ENV and not any(o.split("=", 1)[0] == "env.id" for o in overrides):
            # gym.yaml's `id: ???` cannot say so itself: a `???` merged over the schema's default
            # id keeps the default, so `env=gym` alone would silently train on CartPole.
            raise ConfigError(
                "env", value, "is the generic env and needs an id: env=<Gymnasium id> does both."
            )
        if has_option("env", value, root):
            out.append(text)
        else:
            out += [f"env={GENERIC_ENV}", f"env.id={_quote(value)}"]
    return out


def _rewrite_env_sweep(text: str, values: list[str], root: Path) -> list[str]:
    have_yaml = [has_option("env", v, root) for v in values]
    if all(have_yaml):
        return [text]
    if not any(have_yaml):
        return [f"env={GENERIC_ENV}", f"env.id={','.join(_quote(v) for v in values)}"]
    raise ConfigError(
        "env",
        ",".join(values),
        "mixes envs with a conf/env yaml "
        f"({', '.join(v for v, y in zip(values, have_yaml, strict=True) if y)}) and without one; "
        "a sweep can switch yamls (env=A,B) or Gymnasium ids (env.id=A,B with env=gym), not both. "
        "Run one sweep per kind.",
    )


def open_free_form(overrides: list[str]) -> list[str]:
    """Setting inside a free-form mapping (env.env_config, ray.runtime_env, ...) may add keys.

    Hydra's struct mode would demand `+` for a new key and `=` for an existing one, and rejects
    `env.env_config={a:1}` outright; `++` (set or add) does what the user means in every case.
    """
    free = [k for k, tp in schema_keys().items() if tp is dict or typing.get_origin(tp) is dict]
    out = []
    for text in overrides:
        key = text.split("=", 1)[0]
        if not key.startswith(("+", "~")) and any(
            key == f or key.startswith(f"{f}.") for f in free
        ):
            text = f"++{text}"
        out.append(text)
    return out


def _quote(value: str) -> str:
    """Quote an env id for Hydra's override grammar unless it is plainly safe."""
    if re.fullmatch(r"[\w./:\-@]+", value):
        return value
    return "'" + value.replace("\\", "\\\\").replace("'", "\\'") + "'"
