"""Small files outside the database that a child must not be able to forge: sealed JSON.

The store keeps two such files next to the database (the security settings and the high-water
mark of committed events), because what they protect must survive the database being damaged,
moved aside or rolled back.  Each is JSON with an HMAC-SHA256 over its canonical form.  The
HMAC key is derived from the database key (HMAC of a per-file label), so it lives wherever
that key lives - the OS keyring, or the 0600 key file - and no second secret has to be kept in
step with the first.  A file that fails its check is reported as damaged, never trusted.

Writes are atomic: a 0600 temporary file in the same folder, fsynced, then renamed over the
old one, so a crash leaves the old file or the new one, never half of either.
"""

from __future__ import annotations

import contextlib
import hashlib
import hmac
import json
import os
from pathlib import Path
from typing import cast

FILE_MODE = 0o600
FOLDER_MODE = 0o700
_MAC_FIELD = "mac"


class SealError(Exception):
    """A sealed file is missing its seal, does not parse, or its HMAC does not match."""


def derive_key(raw: bytes, label: str) -> bytes:
    """A 32-byte key for one purpose, derived from the database key (never the key itself)."""
    return hmac.new(raw, f"abhaya/{label}".encode(), hashlib.sha256).digest()


def _mac(key: bytes, values: dict[str, object]) -> str:
    canonical = json.dumps(values, sort_keys=True, separators=(",", ":"), ensure_ascii=True)
    return hmac.new(key, canonical.encode("ascii"), hashlib.sha256).hexdigest()


def seal(key: bytes, values: dict[str, object]) -> bytes:
    """`values` as JSON bytes with their HMAC."""
    document = dict(values)
    document[_MAC_FIELD] = _mac(key, values)
    return json.dumps(document, sort_keys=True, indent=1).encode("ascii") + b"\n"


def unseal(key: bytes, data: bytes) -> dict[str, object]:
    """The values of a sealed document; SealError when it is not exactly what was sealed."""
    try:
        document = json.loads(data.decode("ascii"))
    except (UnicodeDecodeError, ValueError) as error:
        raise SealError(f"not sealed JSON ({type(error).__name__})") from None
    if not isinstance(document, dict):
        raise SealError("not a sealed JSON object")
    values = cast(dict[str, object], document)
    given = values.pop(_MAC_FIELD, None)
    if not isinstance(given, str) or not hmac.compare_digest(given, _mac(key, values)):
        raise SealError("its HMAC does not match its content (changed, or sealed with another key)")
    return values


def read_sealed(path: Path, key: bytes) -> dict[str, object] | None:
    """The values sealed in `path`; None when the file does not exist; SealError when damaged."""
    try:
        data = path.read_bytes()
    except FileNotFoundError:
        return None
    except OSError as error:
        raise SealError(f"cannot be read ({error.strerror})") from None
    return unseal(key, data)


def write_sealed(path: Path, key: bytes, values: dict[str, object]) -> None:
    """Seal `values` into `path` atomically, mode 0600."""
    write_private(path, seal(key, values))


def write_private(path: Path, data: bytes) -> None:
    """Write `data` to `path` atomically (temporary file + rename), mode 0600."""
    path.parent.mkdir(parents=True, exist_ok=True, mode=FOLDER_MODE)
    temporary = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    flags = os.O_WRONLY | os.O_CREAT | os.O_TRUNC | getattr(os, "O_NOFOLLOW", 0)
    fd = os.open(temporary, flags, FILE_MODE)
    written = False
    try:
        os.fchmod(fd, FILE_MODE)  # the umask can only narrow it; an old file might be wider
        os.write(fd, data)
        os.fsync(fd)
        written = True
    finally:
        os.close(fd)
        if not written:
            with contextlib.suppress(OSError):
                temporary.unlink()
    os.replace(temporary, path)
    fsync_dir(path.parent)


def fsync_dir(folder: Path) -> None:
    """Make a new directory entry durable (POSIX); a no-op where folders cannot be opened."""
    try:
        fd = os.open(folder, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(fd)
    finally:
        os.close(fd)
