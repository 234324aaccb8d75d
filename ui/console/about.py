"""What ships with the console and under which licence: the About box's facts, with no Qt.

Read from the installed package's metadata and the models' manifest (models/manifest.toml), so
the box never lists a model or a version that is not the one installed.
"""

from __future__ import annotations

import importlib.metadata
import tomllib
from dataclasses import dataclass
from importlib.resources import files

PROJECT_LICENCE = "Apache-2.0"
QT_LICENCE = "LGPL-3.0"


@dataclass(frozen=True, slots=True)
class Shipped:
    name: str
    licence: str


def version() -> str:
    try:
        return importlib.metadata.version("abhaya")
    except importlib.metadata.PackageNotFoundError:
        return "?"


def pyside_version() -> str:
    try:
        return importlib.metadata.version("pyside6-essentials")
    except importlib.metadata.PackageNotFoundError:
        return "?"


def model_licences() -> tuple[Shipped, ...]:
    """Each model of the manifest: its name (and package and version) and its licence."""
    text = files("abhaya.models").joinpath("manifest.toml").read_text(encoding="utf-8")
    shipped = []
    for name, entry in tomllib.loads(text).items():
        if not isinstance(entry, dict) or "licence" not in entry:
            continue
        package = entry.get("package")
        label = f"{name} ({package} {entry.get('version', '')})".strip() if package else name
        shipped.append(Shipped(label.replace(" )", ")"), str(entry["licence"])))
    return tuple(shipped)
