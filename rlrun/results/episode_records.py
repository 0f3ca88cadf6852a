"""The text and arrow forms of an episode record: JSON lines written straight from numpy's
strings, and the parquet schema of a run's records."""

from __future__ import annotations

import json
from typing import Any

import numpy as np

_NON_FINITE = {"nan": "NaN", "inf": "Infinity", "-inf": "-Infinity"}  # as json.dumps writes them


def json_array(a: np.ndarray) -> str:
    """An array as JSON text. Floats are written as their shortest float32 text (a float32 0.1
    as 0.1, not 0.10000000149011612), joined straight from numpy's strings: parsing them back
    into Python floats for json.dumps would double the cost of writing."""
    if not np.issubdtype(a.dtype, np.floating):
        return json.dumps(a.tolist(), separators=(",", ":"))
    text = a.astype(np.float32).astype(str)
    if not np.isfinite(a).all():
        text = np.vectorize(lambda t: _NON_FINITE.get(t, t), otypes=[str])(text)
    return _join(text.tolist())


def json_value(v: Any) -> str:
    """A record's value as JSON: arrays as `json_array`, a Dict/Tuple observation as an object
    or list of them."""
    if isinstance(v, np.ndarray):
        return json_array(v)
    if isinstance(v, dict):
        return "{" + ",".join(f"{json.dumps(str(k))}:{json_value(x)}" for k, x in v.items()) + "}"
    if isinstance(v, tuple):
        return "[" + ",".join(json_value(x) for x in v) + "]"
    return json.dumps(v)


def _join(nested: Any) -> str:
    if nested and isinstance(nested[0], list):
        return "[" + ",".join(_join(x) for x in nested) + "]"
    return "[" + ",".join(nested) + "]"


def parquet_schema(rec: dict[str, Any]) -> Any:
    """The arrow schema of the records, from the first one (every episode of a run has the same
    observation and action shapes); arrays become nested lists, float32 kept as float32."""
    import pyarrow as pa

    def nested(a: np.ndarray) -> Any:
        leaf = pa.from_numpy_dtype(a.dtype)
        for _ in range(a.ndim):
            leaf = pa.list_(leaf)
        return leaf

    scalar = {str: pa.string(), int: pa.int64(), float: pa.float64(), bool: pa.bool_()}
    fields = []
    for k, v in rec.items():
        if isinstance(v, np.ndarray):
            fields.append(pa.field(k, nested(v)))
        elif k == "seed":
            fields.append(pa.field(k, pa.int64()))  # null when the run drew its own seed
        else:
            fields.append(pa.field(k, scalar[type(v)]))
    return pa.schema(fields)
