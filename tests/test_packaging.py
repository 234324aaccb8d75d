"""The install layout: every source folder is part of the one `abhaya` package."""

from __future__ import annotations

import tomllib
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
SOURCE_FOLDERS = ("agent", "filters", "models", "ui", "installer", "client")


def test_every_source_package_is_installed() -> None:
    config = tomllib.loads((ROOT / "pyproject.toml").read_text())["tool"]["setuptools"]
    on_disk = {
        "abhaya." + ".".join(init.parent.relative_to(ROOT).parts)
        for folder in SOURCE_FOLDERS
        for init in (ROOT / folder).rglob("__init__.py")
    }
    assert set(config["packages"]) == on_disk
    for package in config["packages"]:
        assert config["package-dir"][package] == package.removeprefix("abhaya.").replace(".", "/")


def test_nothing_lands_at_the_top_of_site_packages() -> None:
    import abhaya.filters

    assert Path(abhaya.filters.__file__).parent == ROOT / "filters"
    assert all(not name.startswith(("filters", "models")) for name in _top_level_names())


def _top_level_names() -> list[str]:
    config = tomllib.loads((ROOT / "pyproject.toml").read_text())["tool"]["setuptools"]
    return [package.split(".")[0] for package in config["packages"] if package != "abhaya"]


def test_every_data_file_of_the_models_is_packaged() -> None:
    """The text encoder refuses to load without its manifest, so it must be in the wheel."""
    config = tomllib.loads((ROOT / "pyproject.toml").read_text())["tool"]["setuptools"]
    patterns = config["package-data"]["abhaya.models"]
    data = [
        p for p in (ROOT / "models").rglob("*") if p.is_file() and p.suffix not in {".py", ".pyc"}
    ]
    assert data
    for path in data:
        assert any(path.relative_to(ROOT / "models").match(pattern) for pattern in patterns), path
