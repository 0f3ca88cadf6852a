"""An Experiment -> Hydra override strings (`rlrun train file=`) or experiment YAML (`rlrun convert`).

Both say the same thing: composing the overrides, or `experiment=<the YAML>`, gives the same
config (tests/config/test_rllib_yaml.py checks it), apart from `name`, which the overrides set
to the RLlib experiment's name and the YAML leaves to its file name.
"""

from __future__ import annotations

import math
import re
import textwrap
from typing import Any

import yaml

from rlrun.config.overrides import GENERIC_ENV
from rlrun.config.paths import has_option
from rlrun.errors import ConfigError
from rlrun.rllib_yaml.convert import Experiment
from rlrun.rllib_yaml.parse import Grid

# Unquoted in Hydra's grammar and read back as this same string.
_PLAIN = re.compile(r"[A-Za-z_][\w\-./:@]*", re.ASCII)
_KEYWORDS = {"true", "false", "null", "none", "nan", "inf", "yes", "no", "on", "off"}
_SECTIONS = ("algo", "env", "env_runner", "learner", "evaluation", "fault_tolerance")
_SECTIONS += ("checkpoint", "stop")


def to_overrides(exp: Experiment, *, first_only: bool = False, env: bool = True) -> list[str]:
    """`algo=... env=... key=value ... name=...`: RLlib's defaults for what the file leaves out,
    then the file's own settings. A grid_search gives `key=a,b` (a sweep), or only its first
    value with `first_only`; one over `env` sweeps `env.id` (every trial on the generic env).
    `env=False` leaves the env to the caller's overrides (a later `env=` could not undo an
    `env.id` set for an env without a yaml)."""
    out = [f"algo={exp.algo.lower()}"]
    if env:
        if len(exp.envs) > 1 and not first_only:
            out += [f"env={GENERIC_ENV}", f"env.id={','.join(hydra_value(e) for e in exp.envs)}"]
        else:
            out.append(f"env={hydra_value(exp.env)}")
    for key, value in exp.settings.items():
        if isinstance(value, Grid):
            values = value.values[:1] if first_only else value.values
            out.append(f"{key}={','.join(hydra_value(v) for v in values)}")
        else:
            out.append(f"{key}={hydra_value(value)}")
    out.append(f"name={hydra_value(exp.name)}")
    return out


def sweep_overrides(exp: Experiment) -> list[str]:
    out = [f"{k}={','.join(hydra_value(v) for v in g.values)}" for k, g in exp.sweeps.items()]
    if len(exp.envs) > 1:
        out.insert(0, f"env.id={','.join(hydra_value(e) for e in exp.envs)}")
    return out


def option_name(exp: Experiment) -> str:
    """The experiment's file name in conf/experiment/ (without .yaml)."""
    return re.sub(r"[^\w.\-]", "_", exp.name).strip(".") or "experiment"


def to_yaml(exp: Experiment) -> str:
    """An rlrun experiment file (for conf/experiment/) equivalent to the RLlib experiment."""
    name = option_name(exp)
    header = [
        "# @package _global_",
        f"# {exp.name}: {exp.algo} on {exp.env}, converted from an RLlib tuned-example file.",
        *_comment(
            f"Made by `rlrun convert file={exp.file}`. The settings the RLlib file leaves out "
            f"are RLlib's defaults ({'old' if exp.stack == 'old' else 'new'} API stack), written "
            f"out below: {', '.join(k for k in exp.defaults if k not in exp.values)}. "
            "docs/rllib_yaml.md lists them."
        ),
    ]
    if exp.ignored:
        header += _comment(f"Not carried over (no rlrun equivalent): {', '.join(exp.ignored)}.")
    if exp.is_sweep:
        command = " ".join(["rlrun train -m", f"experiment={name}", *sweep_overrides(exp)])
        header += ["# A sweep in RLlib's file; the first values are set below. Run the sweep with:"]
        header += [f"#   {command}"]
    generic = not has_option("env", exp.env) or len(exp.envs) > 1
    body: dict[str, Any] = {
        "defaults": _Block(
            [
                {"override /algo": exp.algo.lower()},
                {"override /env": GENERIC_ENV if generic else exp.env},
            ]
        )
    }
    nested: dict[str, Any] = {"env": {"id": exp.env}} if generic else {}
    for key, value in exp.settings.items():
        if isinstance(value, Grid):
            value = value.values[0]
        node = nested
        *parents, leaf = key.split(".")
        for part in parents:
            node = node.setdefault(part, {})
        node[leaf] = value
    order = {s: i for i, s in enumerate(_SECTIONS)}
    for section in sorted(nested, key=lambda s: order.get(s, len(order))):
        body[section] = nested[section]
    text = yaml.dump(body, Dumper=_Dumper, sort_keys=False, width=100, allow_unicode=True)
    # A blank line between sections, as in the hand-written files.
    text = re.sub(r"\n(?=[A-Za-z_])", "\n\n", text)
    return "\n".join(header) + "\n" + text


def hydra_value(value: Any) -> str:
    """A value in Hydra's override grammar that parses back to the same Python value."""
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int):
        return str(value)
    if isinstance(value, float):
        if math.isnan(value):
            return "nan"
        return repr(value)  # shortest round trip; inf and -inf are Hydra's spelling too
    if isinstance(value, str):
        if _PLAIN.fullmatch(value) and value.lower() not in _KEYWORDS:
            return value
        # Hydra unescapes backslashes only before a quote or at the end of a quoted string.
        body = re.sub(
            r"(\\*)('|$)", lambda m: m.group(1) * 2 + ("\\'" if m.group(2) else ""), value
        )
        return f"'{body}'"
    if isinstance(value, list | tuple):
        return "[" + ",".join(hydra_value(v) for v in value) + "]"
    if isinstance(value, dict):
        items = []
        for k, v in value.items():
            if not re.fullmatch(r"[\w\-.]+", str(k)):
                raise ConfigError(
                    None, None, f"the mapping key '{k}' cannot be written as a Hydra override; "
                    "use `rlrun convert` and edit the YAML it prints.",
                )  # fmt: skip
            items.append(f"{k}:{hydra_value(v)}")
        return "{" + ",".join(items) + "}"
    raise ConfigError(None, None, f"cannot write {value!r} as a Hydra override value.")


def _comment(text: str) -> list[str]:
    return ["# " + line for line in textwrap.wrap(text, width=96, break_on_hyphens=False)]


class _Dumper(yaml.SafeDumper):
    """Mappings in block style, lists inline (fcnet_hiddens: [64, 64]), as conf/ writes them."""

    def increase_indent(self, flow: bool = False, indentless: bool = False) -> None:
        # Block lists indented under their key ("defaults:\n  - ..."), as in conf/.
        super().increase_indent(flow, False)


class _Block(list):  # type: ignore[type-arg]
    """A list written in block style: the defaults list."""


def _represent_list(dumper: yaml.SafeDumper, data: list[Any]) -> yaml.Node:
    return dumper.represent_sequence("tag:yaml.org,2002:seq", data, flow_style=True)


def _represent_dict(dumper: yaml.SafeDumper, data: dict[str, Any]) -> yaml.Node:
    return dumper.represent_mapping("tag:yaml.org,2002:map", data.items(), flow_style=False)


_Dumper.add_representer(list, _represent_list)
_Dumper.add_representer(
    _Block, lambda d, data: d.represent_sequence("tag:yaml.org,2002:seq", data, flow_style=False)
)
_Dumper.add_representer(dict, _represent_dict)
