"""Shared test set-up: the repository root on sys.path, so `tests.helpers` is importable, and
the `fake_run` fixture for CLI tests that must not train."""

from __future__ import annotations

import sys
import types
from pathlib import Path
from typing import Any

import pytest

REPO_ROOT = Path(__file__).resolve().parents[1]
if str(REPO_ROOT) not in sys.path:
    sys.path.insert(0, str(REPO_ROOT))


@pytest.fixture
def fake_run(monkeypatch: pytest.MonkeyPatch) -> dict[str, Any]:
    calls: dict[str, Any] = {}
    module = types.ModuleType("rlrun.run")

    def train(cfg: Any, overrides: list[str]) -> int:
        calls["train"] = (cfg, overrides)
        if calls.get("raise"):
            raise calls["raise"]
        return 0

    def evaluate(**kwargs: Any) -> int:
        calls["evaluate"] = kwargs
        return 0

    module.train = train  # type: ignore[attr-defined]
    module.evaluate = evaluate  # type: ignore[attr-defined]
    monkeypatch.setitem(sys.modules, "rlrun.run", module)
    return calls
