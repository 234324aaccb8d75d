"""Compile parsed lists into domain sets, and keep the compiled form on disk between runs.

Parsing a 5-million-line UT1 category and building its trie takes many seconds; the agent starts
at every boot and reloads its policy when a parent changes it, so the compiled tries are kept in a
cache folder and memory-mapped on the next load (well under a second, and only the pages that
lookups touch count against the process).

Cache key: the list's absolute path, size and `st_mtime_ns` (every file of a UT1 folder), the
format asked for, `PARSER_VERSION` and the layout of the trie keys (`domainset.KEY_FORMAT`), so
a trie is never read with another layout than it was written with.  Hashing the contents would
cost a full read of a 100 MB file on every start; list updates (downloads, copies, edits) always
change the mtime, so the stat key is the usual build-tool trade-off.  The stat is taken before
and after parsing, and a list that changed in between is not cached.  Bump `PARSER_VERSION`
whenever parsing or normalisation changes what a list compiles to (2: entries that are public
suffixes became exact entries).

An entry is `<key>.domains.marisa`, `<key>.exceptions.marisa` and `<key>.json`; the JSON is
written last and records the size and SHA-256 of both trie files, and the problems, skip counts,
narrowed entries and URL rules (those that cover subdomains and those that do not).  Every file
is written to a temporary name and renamed into place.  An entry that is missing, stale or fails
any check is rebuilt; a cache folder that cannot be written only costs speed (logged), never the
list.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import logging
import os
import tempfile
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from types import MappingProxyType
from typing import Any

from abhaya.filters.domainset import KEY_FORMAT, DomainSet, UrlRuleSet
from abhaya.filters.lists.narrow import Narrowed, split_public_suffixes, split_url_rules
from abhaya.filters.lists.parse import (
    ListFormat,
    ListLoadError,
    ListProblem,
    ParsedList,
    parse_list,
)

__all__ = ["PARSER_VERSION", "CompiledList", "load_list"]

PARSER_VERSION = 2
_LOG = logging.getLogger(__name__)


@dataclass(frozen=True)
class CompiledList:
    """A list ready for lookups: what the policy holds for each configured list."""

    source: str
    category: str
    domains: DomainSet
    exceptions: DomainSet
    url_rules: UrlRuleSet
    problems: tuple[ListProblem, ...]
    skipped: Mapping[str, int]
    narrowed: tuple[Narrowed, ...]
    """Entries that are public suffixes, kept as exact entries: notices for the parent."""


_PARTS = ("domains", "exceptions")


class _StaleEntry(Exception):
    """The cache entry cannot be used; the message says why (logged, then rebuilt)."""


def load_list(
    path: Path,
    category: str,
    fmt: ListFormat = ListFormat.AUTO,
    cache_dir: Path | None = None,
) -> CompiledList:
    """Parse and compile the list at `path`, through the cache in `cache_dir` if given.

    Returns a complete `CompiledList` or raises `ListLoadError`; never a partial list.
    """
    if cache_dir is None:
        return _compile(str(path), category, parse_list(path, fmt))
    source = path.absolute()
    material = _key_material(source, fmt)
    name = _entry_name(source, material)
    try:
        return _read_entry(cache_dir, name, material, str(path), category)
    except _StaleEntry as exc:
        _LOG.info("rebuilding list cache for %s: %s", path, exc)
    compiled = _compile(str(path), category, parse_list(path, fmt))
    if _key_material(source, fmt) != material:
        _LOG.warning("%s changed while it was read; not caching it", path)
        return compiled
    try:
        _write_entry(cache_dir, name, material, compiled)
        # Re-open memory-mapped, so the freshly built tries need not stay in memory.
        return _read_entry(cache_dir, name, material, str(path), category)
    except (OSError, _StaleEntry) as exc:
        _LOG.warning("cannot write list cache in %s: %s", cache_dir, exc)
        return compiled


def _compile(source: str, category: str, parsed: ParsedList) -> CompiledList:
    sets: list[DomainSet] = []
    narrowed: list[Narrowed] = []
    for part, entries in zip(_PARTS, (parsed.domains, parsed.exceptions), strict=True):
        covering, exact = split_public_suffixes(entries)
        sets.append(DomainSet.build(covering, exact))
        notice = Narrowed.of(source if part == "domains" else f"{source} (@@ exceptions)", exact)
        if notice is not None:
            narrowed.append(notice)
    covering_rules, exact_rules = split_url_rules(parsed.url_rules)
    notice = Narrowed.of(f"{source} (URL rules)", exact_rules)
    if notice is not None:
        narrowed.append(notice)
    return CompiledList(
        source=source,
        category=category,
        domains=sets[0],
        exceptions=sets[1],
        url_rules=UrlRuleSet.build(covering_rules, exact_rules),
        problems=parsed.problems,
        skipped=parsed.skipped,
        narrowed=tuple(narrowed),
    )


def _key_material(source: Path, fmt: ListFormat) -> dict[str, Any]:
    """Everything the compiled result depends on, cheaply: see the module docstring."""
    files = [source / "domains", source / "urls"] if source.is_dir() else [source]
    stats = []
    for file in files:
        try:
            st = file.stat()
        except FileNotFoundError:
            if file == source:
                raise ListLoadError(f"cannot read {source}: no such file or folder") from None
            continue
        except OSError as exc:
            raise ListLoadError(f"cannot read {file}: {exc.strerror or exc}") from exc
        stats.append([str(file), st.st_size, st.st_mtime_ns])
    return {
        "version": PARSER_VERSION,
        "keys": KEY_FORMAT,
        "format": str(fmt),
        "files": stats,
    }


def _entry_name(source: Path, material: dict[str, Any]) -> str:
    """`<hash of source path>-<hash of key>`: old entries of one source are found by prefix."""
    source_hash = hashlib.sha256(str(source).encode("utf-8", "surrogateescape")).hexdigest()
    key_hash = hashlib.sha256(json.dumps(material, sort_keys=True).encode()).hexdigest()
    return f"{source_hash[:16]}-{key_hash[:16]}"


def _digest(path: Path) -> str:
    with path.open("rb") as file:
        return hashlib.file_digest(file, "sha256").hexdigest()


def _read_entry(
    cache_dir: Path, name: str, material: dict[str, Any], source: str, category: str
) -> CompiledList:
    """The cached list, memory-mapped, after checking the entry; `_StaleEntry` if unusable."""
    try:
        meta = json.loads((cache_dir / f"{name}.json").read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise _StaleEntry("not cached yet") from None
    except (OSError, ValueError) as exc:
        raise _StaleEntry(f"unreadable index: {exc}") from exc
    try:
        if meta["key"] != material:
            raise _StaleEntry("key does not match")
        sets = [_open_set(cache_dir, meta[part]) for part in _PARTS]
        problems = tuple(
            ListProblem(str(f), int(n), str(t), str(m)) for f, n, t, m in meta["problems"]
        )
        skipped = {str(k): int(v) for k, v in meta["skipped"].items()}
        url_rules = UrlRuleSet.build(
            (str(rule) for rule in meta["url_rules"]),
            (str(rule) for rule in meta["exact_url_rules"]),
        )
        narrowed = tuple(
            Narrowed(str(s), int(n), tuple(str(e) for e in examples))
            for s, n, examples in meta["narrowed"]
        )
    except (KeyError, TypeError, ValueError, AttributeError, OSError) as exc:
        raise _StaleEntry(f"damaged entry: {exc!r}") from exc
    return CompiledList(
        source=source,
        category=category,
        domains=sets[0],
        exceptions=sets[1],
        url_rules=url_rules,
        problems=problems,
        skipped=MappingProxyType(skipped),
        narrowed=narrowed,
    )


def _open_set(cache_dir: Path, info: dict[str, Any]) -> DomainSet:
    path = cache_dir / str(info["file"])
    if path.stat().st_size != info["size"] or _digest(path) != info["sha256"]:
        raise _StaleEntry(f"{path.name} does not match its recorded digest")
    domains = DomainSet.load(path)
    if len(domains) != info["count"]:
        raise _StaleEntry(f"{path.name} holds {len(domains)} domains, not {info['count']}")
    return domains


def _write_entry(
    cache_dir: Path, name: str, material: dict[str, Any], compiled: CompiledList
) -> None:
    """Write the trie files, then the JSON index that vouches for them; drop older entries."""
    cache_dir.mkdir(parents=True, exist_ok=True)
    meta: dict[str, Any] = {"key": material}
    for part, domains in (("domains", compiled.domains), ("exceptions", compiled.exceptions)):
        path = cache_dir / f"{name}.{part}.marisa"
        domains.save(path)
        meta[part] = {
            "file": path.name,
            "size": path.stat().st_size,
            "sha256": _digest(path),
            "count": len(domains),
        }
    meta["url_rules"] = list(compiled.url_rules.rules())
    meta["exact_url_rules"] = list(compiled.url_rules.exact_rules())
    meta["problems"] = [[p.file, p.line, p.text, p.message] for p in compiled.problems]
    meta["skipped"] = dict(compiled.skipped)
    meta["narrowed"] = [[n.source, n.count, list(n.examples)] for n in compiled.narrowed]
    _write_atomic(cache_dir / f"{name}.json", json.dumps(meta, ensure_ascii=False))
    source_prefix = name.partition("-")[0] + "-"
    for old in cache_dir.glob(source_prefix + "*"):
        if not old.name.startswith(name + ".") and not old.name.endswith(".tmp"):
            # Best effort: on Windows a file another process has mapped cannot be removed yet.
            with contextlib.suppress(OSError):
                old.unlink()


def _write_atomic(path: Path, text: str) -> None:
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=path.name + ".", suffix=".tmp")
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as file:
            file.write(text)
        os.replace(tmp, path)
    finally:
        Path(tmp).unlink(missing_ok=True)
