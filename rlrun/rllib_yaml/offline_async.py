"""`config:` entries of RLlib's IMPALA, APPO, MARWIL, BC and CQL files that need more than a
rename: the value-loss coefficient (whose meaning differs from PPO's), V-trace switches and the
recorded data (`input`, `input_config`).

RLlib's own recorded data (SampleBatch JSON, zipped files, Ray Data datasets) is not a format
rlrun reads: a file's `input` path becomes `offline_data.input_` as it is, and training reads it
as rlrun episode records or a Minari dataset, or says the path holds none (docs/offline.md: record
with `rlrun train|evaluate ... output=DIR`).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from rlrun.rllib_yaml import mapping as M
from rlrun.rllib_yaml.parse import file_error

if TYPE_CHECKING:
    from rlrun.rllib_yaml.convert import Converter

# RLlib's `input` values that mean "sample the env", not recorded data.
_SAMPLER = ("sampler", None)


def vf_loss_coeff(c: Converter, value: Any, config: dict[str, Any]) -> None:
    # PPO's RLlib value loss is (V - target)^2 (rlrun's halves it: mapping doubles the
    # coefficient); RLlib's IMPALA, APPO and MARWIL halve it as rlrun does: the same number.
    if c.exp.algo == "PPO":
        c.map(M.CONFIG["vf_loss_coeff"], value, "vf_loss_coeff")
    else:
        c.map(M.Target("algo.vf_loss_coeff"), value, "vf_loss_coeff")


def input_(c: Converter, value: Any, config: dict[str, Any], key: str = "input") -> None:
    if value in _SAMPLER:
        if c.exp.algo in ("MARWIL", "BC", "CQL"):
            raise file_error(
                c.place, key, value, f"{c.exp.algo} learns from recorded data only.",
                allowed="a folder or files of recorded episodes",
            )  # fmt: skip
        return  # online algorithms sample anyway
    if value == "dataset":  # Ray Data: the path is input_config's
        section = c.section("input_config", config.get("input_config"))
        if "path" not in section:
            raise file_error(c.place, "input_config.path", None, "input: dataset needs a path.")
        value = section["path"]
        key = "input_config.path"
    if isinstance(value, dict):
        c.ignore(key, "RLlib's mixed inputs ({source: probability}): give one dataset")
        return
    c.set("offline_data.input_", value, key)
    c.note(
        f"{key}: {value} -> offline_data.input_: rlrun reads episodes recorded by "
        "`rlrun train|evaluate ... output=DIR` (JSON lines, parquet) or Minari datasets, not "
        "RLlib's own files; record the data with rlrun first (docs/offline.md)."
    )


def input_config(c: Converter, value: Any, config: dict[str, Any]) -> None:
    section = c.section("input_config", value)
    if config.get("input", config.get("input_")) != "dataset":
        c.ignore("input_config", "read only with input: dataset")
        return
    for sub in section:
        if sub not in ("path", "format"):
            c.ignore(f"input_config.{sub}")


HANDLERS = {
    "vf_loss_coeff": vf_loss_coeff,
    "input": input_,
    "input_": lambda c, value, config: input_(c, value, config, "input_"),
    "input_config": input_config,
}
