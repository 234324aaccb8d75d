"""Read a list of known-image PDQ hashes (`[[hashlist]]` in the policy).

Format (UTF-8 text; documented for list maintainers in `filters/data/README.md`):

    # name: example-known-images
    # version: 2026-11-30
    # any other comment
    f8f8f0cee0f4a84f06370a22038f63f0b36e2ed596621e1d33e6b39c4e9c9b22  optional label

- one PDQ hash a line, as 64 hex digits (either case), optionally followed by whitespace and a
  label (the rest of the line: a case number, a source; never anything descriptive of an image);
- lines whose first non-blank character is `#` are comments, blank lines are ignored;
- `# name:` and `# version:` among the comments before the first hash name the list and its
  version; without them the name is the file's name without its suffix and the version is the
  first 12 hex digits of the file's SHA-256, so an evidence record still says exactly which list
  matched.

As with the block lists, a malformed line is skipped and reported as a `LineProblem` with file
and line, and only a file that cannot be read at all raises `ListLoadError`.  A hash listed twice
is kept once (the first label wins) and counted in `duplicates`.
"""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import numpy.typing as npt

from abhaya.filters.lists.parse import MAX_PROBLEMS, ListLoadError
from abhaya.filters.problems import LineProblem

__all__ = ["ParsedHashList", "parse_hash_list", "parse_hash_text"]

_HEADER = re.compile(r"#\s*(name|version)\s*:\s*(.*?)\s*$", re.IGNORECASE)
_HEX = re.compile(r"[0-9a-fA-F]+")
_MAX_LABEL = 200


@dataclass(frozen=True, eq=False)
class ParsedHashList:
    """What a hash-list file holds, in file order."""

    source: str
    name: str
    version: str
    hashes: npt.NDArray[np.uint8]
    """(n, 32) uint8."""
    labels: tuple[str, ...]
    problems: tuple[LineProblem, ...]
    duplicates: int = 0
    problems_not_listed: int = 0


def parse_hash_list(path: Path) -> ParsedHashList:
    """Parse a hash-list file; `ListLoadError` if it cannot be read at all."""
    try:
        data = path.read_bytes()
    except OSError as exc:
        raise ListLoadError(f"cannot read {path}: {exc.strerror or exc}") from exc
    return parse_hash_text(data, str(path), default_name=path.stem)


def parse_hash_text(data: bytes, source: str, default_name: str) -> ParsedHashList:
    """Parse a hash list's bytes; `source` names it in problems."""
    problems: list[LineProblem] = []
    unlisted = 0
    header: dict[str, str] = {}
    seen: dict[bytes, str] = {}
    duplicates = 0
    text = data.decode("utf-8", errors="replace").removeprefix("\ufeff")
    for number, raw in enumerate(text.split("\n"), 1):
        line = raw.strip()
        if not line:
            continue
        if line[0] == "#":
            found = _HEADER.match(line)
            if found and not seen:
                header.setdefault(found.group(1).lower(), found.group(2))
            continue
        bits = _hash_of(line)
        label = line[65:].strip()
        if bits is None or not label.isprintable():
            message = _bad_hash(line.split(maxsplit=1)[0]) or "label is not printable"
            if len(problems) < MAX_PROBLEMS:
                problems.append(LineProblem(source, number, line[:300], message))
            else:
                unlisted += 1
        elif bits in seen:
            duplicates += 1
        else:
            seen[bits] = label[:_MAX_LABEL]
    joined = b"".join(seen)
    return ParsedHashList(
        source=source,
        name=header.get("name") or default_name,
        version=header.get("version") or hashlib.sha256(data).hexdigest()[:12],
        hashes=np.frombuffer(joined, dtype=np.uint8).reshape(len(seen), 32).copy(),
        labels=tuple(seen.values()),
        problems=tuple(problems),
        duplicates=duplicates,
        problems_not_listed=unlisted,
    )


def _hash_of(line: str) -> bytes | None:
    """The 32 bytes of a line's hash, or None when the line does not start with one (then
    `_bad_hash` says why).  The fast path of a million-line load: no regular expression."""
    if len(line) > 64 and line[64] not in " \t":
        return None
    try:
        bits = bytes.fromhex(line[:64])
    except ValueError:
        return None
    # fromhex skips spaces between pairs: 32 bytes from 64 characters means no spaces.
    return bits if len(bits) == 32 else None


def _bad_hash(digits: str) -> str:
    """Why `digits` is not a PDQ hash, or "" when it is one."""
    if "\ufffd" in digits:
        return "not valid UTF-8"
    if not _HEX.fullmatch(digits):
        return "not a hexadecimal PDQ hash"
    if len(digits) != 64:
        return f"a PDQ hash is 64 hex digits, not {len(digits)}"
    return ""
