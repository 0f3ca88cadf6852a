"""Writes docs/configuration.md from the schema, so the key reference cannot drift from the code.

    python -m rlrun.config.docs > docs/configuration.md

Each field's doc is the comment on its line in the dataclass (its one home).
"""

from __future__ import annotations

import dataclasses
import inspect
import json
import re
from typing import Any

from rlrun.algorithms.registry import ALGORITHMS, load_attr
from rlrun.config import schema

_FIELD = re.compile(r"^\s+(\w+):\s*[^=]+?(?:=\s*(.+))?$")

HEADER = """# Configuration reference

Generated from the schema by `python -m rlrun.config.docs`; do not edit by hand.

`conf/config.yaml` composes one option of each group (`algo`, `env`, `env_runner`, `learner`,
and optionally a tuned preset from `experiment`), then your command-line overrides. Every key's
default lives in the schema below; the YAML files only override. A key not listed here is a
typo and is refused, with the closest valid key suggested. Only `env.env_config`,
`evaluation.env_config`, `algo.model.custom` and `ray.runtime_env` are free-form mappings.

`env=<id>` picks `conf/env/<id>.yaml` when it exists, else the generic `conf/env/gym.yaml` with
`env.id=<id>`, so any Gymnasium id works; `env.id=pkg.module:Class` makes your own env class.
A schedule is a list of `[env_steps, value]` points interpolated linearly, e.g.
`algo.lr=[[0,1e-3],[100000,1e-4]]`.
"""


def field_docs(cls: type) -> dict[str, tuple[str, str]]:
    """field name -> (default as written in the source, its comment), for cls and its bases."""
    out: dict[str, tuple[str, str]] = {}
    for klass in reversed(cls.__mro__):
        if not dataclasses.is_dataclass(klass):
            continue
        for line in inspect.getsource(klass).splitlines()[1:]:
            code, _, doc = line.partition("  # ")
            m = _FIELD.match(code)
            if m and not code.strip().startswith(('"', "def ", "@")):
                name, default, doc = m.group(1), (m.group(2) or "").strip(), doc.strip()
                if default.startswith("field(default_factory="):
                    default = default.removeprefix("field(default_factory=").removesuffix(")")
                    default = default.removeprefix("lambda: ")
                prev = out.get(name, ("", ""))
                out[name] = (default or prev[0], doc or prev[1])
    return out


def _section(
    title: str, prefix: str, cls: type, skip: frozenset[str] = frozenset(), instance: Any = None
) -> list[str]:
    """A table of cls's fields; `instance` is an owner's default for a nested section, whose
    values win where they differ from the class's (e.g. DQN's model defaults to relu)."""
    lines = [f"## {title}", "", "| key | default | meaning |", "| --- | --- | --- |"]
    nested: list[tuple[str, Any]] = []
    docs = field_docs(cls)
    plain = cls() if instance is not None else None
    for f in dataclasses.fields(cls):
        if f.name in skip:
            continue
        default, doc = docs.get(f.name, ("", ""))
        sub = _dataclass_default(f)
        if sub is not None:
            nested.append((f.name, sub))
            continue
        if instance is not None and getattr(instance, f.name) != getattr(plain, f.name):
            default = json.dumps(getattr(instance, f.name))
        lines.append(f"| `{prefix}{f.name}` | `{default}` | {doc.replace('|', chr(92) + '|')} |")
    lines.append("")
    for name, sub in nested:
        lines += _section(f"{title}: {name}", f"{prefix}{name}.", type(sub), instance=sub)
    return lines


def _dataclass_default(f: dataclasses.Field[Any]) -> Any:
    if f.default_factory is not dataclasses.MISSING:
        value = f.default_factory()
        if dataclasses.is_dataclass(value):
            return value
    return None


_SECTIONS = {
    "env": schema.EnvConfig,
    "env_runner": schema.EnvRunnerConfig,
    "learner": schema.LearnerConfig,
    "stop": schema.StopConfig,
    "checkpoint": schema.CheckpointConfig,
}


def render() -> str:
    lines = [HEADER]
    lines += _section("Top level", "", schema.RootConfig, skip=frozenset({"algo", *_SECTIONS}))
    for name, (cfg_path, _) in ALGORITHMS.items():
        lines += _section(f"algo={name.lower()}", "algo.", load_attr(cfg_path))
    for title, cls in _SECTIONS.items():
        lines += _section(title, f"{title}.", cls)
    return "\n".join(lines).rstrip() + "\n"


def main() -> None:
    print(render(), end="")


if __name__ == "__main__":
    main()
