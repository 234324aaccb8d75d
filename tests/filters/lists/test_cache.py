"""Compiled-list cache: hits skip parsing, changes and damage lead to a rebuild, never a crash."""

from __future__ import annotations

import json
import logging
import os
from collections.abc import Callable
from pathlib import Path

import pytest

from abhaya.filters.domainset import DomainSet, UrlRuleSet
from abhaya.filters.lists import cache
from abhaya.filters.lists.cache import CompiledList, load_list
from abhaya.filters.lists.parse import ListFormat, ListLoadError, ParsedList, parse_list
from abhaya.filters.urlnorm import parse_url

ADBLOCK = (
    "[Adblock Plus 2.0]\n||ads.example^\n@@||ok.ads.example^\n##.banner\nbad domain^\n||x y^\n"
)


@pytest.fixture
def parse_calls(monkeypatch: pytest.MonkeyPatch) -> list[Path]:
    """Record every real parse, so a test can tell a cache hit from a rebuild."""
    calls: list[Path] = []

    def recording_parse(path: Path, fmt: ListFormat = ListFormat.AUTO) -> ParsedList:
        calls.append(path)
        return parse_list(path, fmt)

    monkeypatch.setattr(cache, "parse_list", recording_parse)
    return calls


def write_list(tmp_path: Path, text: str = ADBLOCK) -> Path:
    path = tmp_path / "lists" / "anon.txt"
    path.parent.mkdir(exist_ok=True)
    path.write_text(text, encoding="utf-8")
    return path


def assert_anon_list(compiled: CompiledList, source: Path) -> None:
    assert compiled.source == str(source)
    assert compiled.category == "anonymizers"
    assert compiled.domains.match("www.ads.example") == "ads.example"
    assert compiled.domains.match("notads.example") is None
    assert compiled.exceptions.match("ok.ads.example") == "ok.ads.example"
    assert len(compiled.domains) == 1
    assert [(p.line, p.text) for p in compiled.problems] == [(6, "||x y^")]
    assert dict(compiled.skipped) == {"cosmetic": 1, "other": 1}


def test_without_cache_dir(tmp_path: Path, parse_calls: list[Path]) -> None:
    path = write_list(tmp_path)
    assert_anon_list(load_list(path, "anonymizers"), path)
    assert parse_calls == [path]


def test_miss_then_hit(tmp_path: Path, parse_calls: list[Path]) -> None:
    path, cache_dir = write_list(tmp_path), tmp_path / "cache"
    first = load_list(path, "anonymizers", cache_dir=cache_dir)
    second = load_list(path, "anonymizers", cache_dir=cache_dir)
    assert parse_calls == [path]
    assert_anon_list(first, path)
    assert_anon_list(second, path)
    assert sorted(p.suffix for p in cache_dir.iterdir()) == [".json", ".marisa", ".marisa"]


def test_category_is_not_part_of_the_cached_data(tmp_path: Path, parse_calls: list[Path]) -> None:
    path, cache_dir = write_list(tmp_path), tmp_path / "cache"
    load_list(path, "anonymizers", cache_dir=cache_dir)
    assert load_list(path, "other", cache_dir=cache_dir).category == "other"
    assert len(parse_calls) == 1


def test_format_is_part_of_the_key(tmp_path: Path, parse_calls: list[Path]) -> None:
    path, cache_dir = write_list(tmp_path, "0.0.0.0 a.example\n"), tmp_path / "cache"
    hosts = load_list(path, "c", ListFormat.HOSTS, cache_dir)
    plain = load_list(path, "c", ListFormat.PLAIN, cache_dir)
    assert len(parse_calls) == 2
    assert "a.example" in hosts.domains
    assert len(plain.domains) == 0


def test_changed_list_is_rebuilt_and_old_entry_dropped(
    tmp_path: Path, parse_calls: list[Path]
) -> None:
    path, cache_dir = write_list(tmp_path, "a.example\n"), tmp_path / "cache"
    load_list(path, "c", cache_dir=cache_dir)
    old_entry = {p.name for p in cache_dir.iterdir()}
    path.write_text("b.example\n", encoding="utf-8")
    stat = path.stat()
    os.utime(path, ns=(stat.st_atime_ns, stat.st_mtime_ns + 1_000_000_000))
    compiled = load_list(path, "c", cache_dir=cache_dir)
    assert len(parse_calls) == 2
    assert compiled.domains.match("b.example") == "b.example"
    assert compiled.domains.match("a.example") is None
    new_entry = {p.name for p in cache_dir.iterdir()}
    assert len(new_entry) == 3
    assert not new_entry & old_entry


def test_ut1_folder_url_rules_survive_the_cache(tmp_path: Path, parse_calls: list[Path]) -> None:
    folder, cache_dir = tmp_path / "violence", tmp_path / "cache"
    folder.mkdir()
    (folder / "domains").write_text("gore.example\n", encoding="utf-8")
    (folder / "urls").write_text("news.example/graphic\n", encoding="utf-8")
    load_list(folder, "violence", cache_dir=cache_dir)
    compiled = load_list(folder, "violence", cache_dir=cache_dir)
    assert len(parse_calls) == 1
    assert compiled.url_rules.match(parse_url("https://news.example/graphic/1")) == (
        "news.example/graphic"
    )
    assert compiled.url_rules.match(parse_url("https://news.example/sport")) is None
    assert "gore.example" in compiled.domains


def _entry(cache_dir: Path, suffix: str) -> Path:
    (path,) = cache_dir.glob("*" + suffix)
    return path


def _flip_byte(path: Path) -> None:
    data = bytearray(path.read_bytes())
    data[len(data) // 2] ^= 0xFF
    path.write_bytes(bytes(data))


def _edit_json(change: Callable[[dict[str, object]], None]) -> Callable[[Path], None]:
    def edit(cache_dir: Path) -> None:
        path = _entry(cache_dir, ".json")
        meta = json.loads(path.read_text(encoding="utf-8"))
        change(meta)
        path.write_text(json.dumps(meta), encoding="utf-8")

    return edit


DAMAGE: dict[str, Callable[[Path], None]] = {
    "truncated trie": lambda d: _entry(d, ".domains.marisa").write_bytes(
        _entry(d, ".domains.marisa").read_bytes()[:-50]
    ),
    "flipped byte in trie": lambda d: _flip_byte(_entry(d, ".domains.marisa")),
    "trie deleted": lambda d: _entry(d, ".exceptions.marisa").unlink(),
    "trie replaced by garbage": lambda d: _entry(d, ".domains.marisa").write_bytes(b"x" * 64),
    "index not JSON": lambda d: _entry(d, ".json").write_text("{not json", encoding="utf-8"),
    "index empty": lambda d: _entry(d, ".json").write_bytes(b""),
    "index is a list": lambda d: _entry(d, ".json").write_text("[]", encoding="utf-8"),
    "index not UTF-8": lambda d: _entry(d, ".json").write_bytes(b"\xff\xfe{}"),
    "key field missing": _edit_json(lambda m: m.pop("key")),
    "problems damaged": _edit_json(lambda m: m.update(problems=[[1, 2]])),
    "skipped damaged": _edit_json(lambda m: m.update(skipped=[1])),
    "url rules damaged": _edit_json(lambda m: m.update(url_rules=["exa mple/x"])),
    "narrowed damaged": _edit_json(lambda m: m.update(narrowed=[["x", 1]])),
    "narrowed missing": _edit_json(lambda m: m.pop("narrowed")),
    "exact URL rules missing": _edit_json(lambda m: m.pop("exact_url_rules")),
    "count mismatch": _edit_json(lambda m: m.update(domains={**m["domains"], "count": 7})),  # type: ignore[dict-item]
    "digest mismatch": _edit_json(lambda m: m.update(domains={**m["domains"], "sha256": "0"})),  # type: ignore[dict-item]
}


@pytest.mark.parametrize("damage", DAMAGE.values(), ids=DAMAGE.keys())
def test_damaged_entry_is_rebuilt(
    tmp_path: Path,
    parse_calls: list[Path],
    damage: Callable[[Path], None],
    caplog: pytest.LogCaptureFixture,
) -> None:
    path, cache_dir = write_list(tmp_path), tmp_path / "cache"
    load_list(path, "anonymizers", cache_dir=cache_dir)
    damage(cache_dir)
    with caplog.at_level(logging.INFO, logger=cache.__name__):
        rebuilt = load_list(path, "anonymizers", cache_dir=cache_dir)
    assert_anon_list(rebuilt, path)
    assert len(parse_calls) == 2
    assert "rebuilding list cache" in caplog.text
    assert_anon_list(load_list(path, "anonymizers", cache_dir=cache_dir), path)
    assert len(parse_calls) == 2  # the rebuilt entry is good again


def test_unwritable_cache_still_loads_the_list(
    tmp_path: Path, parse_calls: list[Path], caplog: pytest.LogCaptureFixture
) -> None:
    path = write_list(tmp_path)
    not_a_folder = tmp_path / "cache"
    not_a_folder.write_text("a file where the cache folder should be", encoding="utf-8")
    with caplog.at_level(logging.WARNING, logger=cache.__name__):
        compiled = load_list(path, "anonymizers", cache_dir=not_a_folder)
    assert_anon_list(compiled, path)
    assert "cannot write list cache" in caplog.text


@pytest.mark.parametrize("use_cache", [False, True])
def test_missing_list_raises_load_error(tmp_path: Path, use_cache: bool) -> None:
    path = tmp_path / "missing.txt"
    with pytest.raises(ListLoadError, match="missing.txt"):
        load_list(path, "c", cache_dir=tmp_path / "cache" if use_cache else None)
    assert not (tmp_path / "cache").exists() or not any((tmp_path / "cache").iterdir())


PLATFORMS = (
    "[Adblock Plus 2.0]\n||adult.example^\n||blogspot.com^\n||listed.blogspot.com^\n"
    "||github.io^\n@@||pages.dev^\n@@||ok.adult.example^\n"
)


@pytest.mark.parametrize("use_cache", [False, True])
def test_public_suffix_entries_cover_that_host_only(
    tmp_path: Path, parse_calls: list[Path], use_cache: bool
) -> None:
    """A crawled list that names the platform blocks the platform's own host, not every blog."""
    path = write_list(tmp_path, PLATFORMS)
    cache_dir = tmp_path / "cache" if use_cache else None
    for compiled in [load_list(path, "adult", cache_dir=cache_dir) for _ in range(2)]:
        domains, exceptions = compiled.domains, compiled.exceptions
        assert domains.match("blogspot.com") == "blogspot.com"
        assert domains.match("someblog.blogspot.com") is None
        assert domains.match("www.listed.blogspot.com") == "listed.blogspot.com"
        assert domains.match("github.io") == "github.io"
        assert domains.match("someone.github.io") is None
        assert domains.match("www.adult.example") == "adult.example"
        assert exceptions.match("pages.dev") == "pages.dev"
        assert exceptions.match("anything.pages.dev") is None  # an exception is narrowed too
        assert exceptions.match("x.ok.adult.example") == "ok.adult.example"
        assert [(n.source, n.count, n.examples) for n in compiled.narrowed] == [
            (str(path), 2, ("blogspot.com", "github.io")),
            (f"{path} (@@ exceptions)", 1, ("pages.dev",)),
        ]
    assert len(parse_calls) == (1 if use_cache else 2)


def test_an_entry_in_the_old_layout_is_rebuilt_not_read(
    tmp_path: Path, parse_calls: list[Path]
) -> None:
    """A cache written before exact entries existed holds `blogspot.com` as a covering entry;
    it is rebuilt (the key layout is part of the cache key), so no blog stays blocked."""
    path, cache_dir = write_list(tmp_path, "blogspot.com\nadult.example\n"), tmp_path / "cache"
    source = path.absolute()
    st = path.stat()
    old_key = {"version": 1, "format": "auto", "files": [[str(source), st.st_size, st.st_mtime_ns]]}
    old = CompiledList(
        source=str(path),
        category="adult",
        domains=DomainSet.build(["blogspot.com", "adult.example"]),
        exceptions=DomainSet.empty(),
        url_rules=UrlRuleSet.empty(),
        problems=(),
        skipped={},
        narrowed=(),
    )
    old_name = cache._entry_name(source, old_key)
    cache._write_entry(cache_dir, old_name, old_key, old)
    compiled = load_list(path, "adult", cache_dir=cache_dir)
    assert parse_calls == [path]
    assert compiled.domains.match("someblog.blogspot.com") is None
    assert compiled.domains.match("blogspot.com") == "blogspot.com"
    assert not list(cache_dir.glob(old_name + "*"))  # the old entry was dropped


def test_url_rules_on_a_platform_cover_its_host_only(
    tmp_path: Path, parse_calls: list[Path]
) -> None:
    folder, cache_dir = tmp_path / "adult", tmp_path / "cache"
    folder.mkdir()
    (folder / "urls").write_text("blogspot.com/some/path\nnews.example/graphic\n", encoding="utf-8")
    for _ in range(2):
        compiled = load_list(folder, "adult", cache_dir=cache_dir)
        rules = compiled.url_rules
        assert rules.match(parse_url("https://blogspot.com/some/path/1")) == (
            "blogspot.com/some/path"
        )
        assert rules.match(parse_url("https://someblog.blogspot.com/some/path")) is None
        assert rules.match(parse_url("https://www.news.example/graphic")) == "news.example/graphic"
        assert [(n.source, n.count) for n in compiled.narrowed] == [(f"{folder} (URL rules)", 1)]
    assert len(parse_calls) == 1
