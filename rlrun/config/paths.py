"""Where the Hydra config tree lives, and what it offers, read straight from the files.

`rlrun --help` uses this to list groups and presets without importing Hydra (or anything heavy),
so everything here is pathlib and plain string handling.
"""

from __future__ import annotations

from pathlib import Path

_PACKAGE_DIR = Path(__file__).resolve().parents[1]

# Groups that are chosen in the defaults list of conf/config.yaml; `experiment` is listed apart
# because its options are whole presets rather than pieces.
EXPERIMENT_GROUP = "experiment"


def conf_dir() -> Path:
    """The config tree: `rlrun/conf` inside an installed wheel, else `conf/` at the repo root."""
    packaged = _PACKAGE_DIR / "conf"
    if (packaged / "config.yaml").is_file():
        return packaged
    return _PACKAGE_DIR.parent / "conf"


def config_groups(root: Path | None = None) -> list[str]:
    """Names of the config groups (sub-folders of the conf dir), experiment excluded."""
    root = root or conf_dir()
    if not root.is_dir():
        return []
    return sorted(
        p.name
        for p in root.iterdir()
        if p.is_dir() and p.name != EXPERIMENT_GROUP and not p.name.startswith((".", "_"))
    )


def group_options(group: str, root: Path | None = None) -> list[str]:
    """Options of one group: yaml file paths under conf/<group>/ without suffix, '/'-separated."""
    folder = (root or conf_dir()) / group
    if not folder.is_dir():
        return []
    names = (p.relative_to(folder).with_suffix("").as_posix() for p in folder.rglob("*.yaml"))
    return sorted(names, key=str.lower)


def has_option(group: str, option: str, root: Path | None = None) -> bool:
    return ((root or conf_dir()) / group / f"{option}.yaml").is_file()


def experiments(root: Path | None = None) -> list[tuple[str, str]]:
    """(name, one-line description) of each tuned preset in conf/experiment/."""
    folder = (root or conf_dir()) / EXPERIMENT_GROUP
    return [
        (name, first_comment(folder / f"{name}.yaml"))
        for name in group_options(EXPERIMENT_GROUP, root)
    ]


def first_comment(path: Path) -> str:
    """The first meaningful `#` comment of a yaml file: its description for listings.

    Hydra directives (`# @package _global_`) and empty comment lines are skipped; the search stops
    at the first line of content, so a comment deep inside the file is never taken for a title.
    """
    try:
        lines = path.read_text(encoding="utf-8").splitlines()
    except OSError:
        return ""
    for line in lines:
        stripped = line.strip()
        if not stripped:
            continue
        if not stripped.startswith("#"):
            break
        text = stripped.lstrip("#").strip()
        if text and not text.startswith("@"):
            return text
    return ""
