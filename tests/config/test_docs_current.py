"""docs/configuration.md is generated from the schema; it must match the code."""

from pathlib import Path

from rlrun.config.docs import render

ROOT = Path(__file__).resolve().parents[2]


def test_configuration_reference_is_current() -> None:
    doc = (ROOT / "docs" / "configuration.md").read_text()
    assert doc == render(), "regenerate: python -m rlrun.config.docs > docs/configuration.md"


def test_every_key_has_a_one_line_doc() -> None:
    rows = [line for line in render().splitlines() if line.startswith("| `")]
    undocumented = [r.split("`")[1] for r in rows if r.rstrip().endswith("|  |")]
    assert len(rows) > 40
    assert undocumented == [], f"schema fields without a doc comment: {undocumented}"
