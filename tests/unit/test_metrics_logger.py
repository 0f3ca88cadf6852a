"""MetricsLogger (rlrun.callbacks.metrics_logger): reductions, windows, shipping, state."""

from __future__ import annotations

import json
import math

import numpy as np
import pytest

from rlrun.callbacks.metrics_logger import MetricsLogger, nest


def test_each_reduction_over_the_iteration_without_a_window():
    m = MetricsLogger()
    for v in (1, 2, 6):
        m.log_value("mean", v)
        m.log_value("sum", v, reduce="sum")
        m.log_value("max", v, reduce="max")
        m.log_value("min", v, reduce="min")
    assert m.peek("mean") == 3
    assert m.reduce() == {"mean": 3.0, "sum": 9.0, "max": 6.0, "min": 1.0}
    # Nothing logged since: no value for mean/max/min, and a sum of nothing.
    out = m.reduce()
    assert out["sum"] == 0.0 and all(math.isnan(out[k]) for k in ("mean", "max", "min"))


def test_a_window_spans_iterations_and_keeps_the_last_n_values():
    m = MetricsLogger()
    m.log_value("w", 1, window=3)
    m.log_value("w", 2, window=3)
    assert m.reduce() == {"w": 1.5}
    assert m.reduce() == {"w": 1.5}  # no new values: the window still holds them
    for v in (3, 4):
        m.log_value("w", v, window=3)
    assert m.reduce() == {"w": 3.0}  # 2, 3, 4
    m.log_value("s", 5, reduce="sum", window=2)
    m.log_value("s", 7, reduce="sum", window=2)
    m.log_value("s", 9, reduce="sum", window=2)
    assert m.peek("s") == 16


def test_values_shipped_from_runners_reduce_as_if_logged_in_one_place():
    driver, a, b = MetricsLogger(), MetricsLogger(), MetricsLogger()
    a.log_value("x", 1, reduce="max", window=2)
    a.log_value("x", 5, reduce="max", window=2)
    b.log_value("x", 3, reduce="max", window=2)
    driver.merge(a.pop_logged())
    driver.merge(b.pop_logged())
    assert a.pop_logged() == {}  # popped values are gone from the runner
    assert driver.reduce() == {"x": 5.0}
    b.log_value("x", 2, reduce="max", window=2)
    driver.merge(b.pop_logged())
    assert driver.reduce() == {"x": 3.0}  # the window holds 3 and 2


def test_numpy_and_nested_keys_and_state_round_trip():
    m = MetricsLogger()
    m.log_value("a/b", np.float32(2.5), window=4)
    m.log_value("a/c", np.int64(3), reduce="sum")
    m.log_value("top", np.array(1.0))
    assert m.reduce() == {"a": {"b": 2.5, "c": 3.0}, "top": 1.0}
    state = json.loads(json.dumps(m.get_state()))  # what a checkpoint holds
    m2 = MetricsLogger()
    m2.set_state(state)
    m2.log_value("a/b", 4.5, window=4)
    assert m2.reduce()["a"]["b"] == 3.5


def test_misuse_is_reported_at_the_call():
    m = MetricsLogger()
    m.log_value("k", 1, reduce="sum")
    with pytest.raises(ValueError, match="logged before with reduce='sum'"):
        m.log_value("k", 1, reduce="max")
    with pytest.raises(ValueError, match="reduce='median' is not one of mean, sum, max, min"):
        m.log_value("other", 1, reduce="median")
    with pytest.raises(ValueError, match="window=0"):
        m.log_value("w", 1, window=0)
    with pytest.raises(TypeError, match="must be a number, not list"):
        m.log_value("l", [1, 2])


def test_nest_keeps_a_clashing_key_flat():
    assert nest({"a/b": 1, "a/c/d": 2, "e": 3}) == {"a": {"b": 1, "c": {"d": 2}}, "e": 3}
    assert nest({"a": 1, "a/b": 2}) == {"a": 1, "a/b": 2}
