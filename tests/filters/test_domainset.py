"""Domain sets match by suffix at a label boundary; URL rules by host suffix and path segment."""

from __future__ import annotations

from pathlib import Path

import pytest

from abhaya.filters.domainset import DomainSet, UrlRuleSet
from abhaya.filters.urlnorm import UrlError, parse_url

LISTED = ["example.com", "ads.example.net", "deep.sub.example.org", "sub.example.org", "1.2.3.4"]


@pytest.mark.parametrize(
    ("host", "expected"),
    [
        ("example.com", "example.com"),
        ("www.example.com", "example.com"),
        ("a.b.c.example.com", "example.com"),
        ("notexample.com", None),
        ("example.com.evil", None),
        ("com", None),
        ("example.net", None),
        ("ads.example.net", "ads.example.net"),
        ("x.ads.example.net", "ads.example.net"),
        ("badads.example.net", None),
        ("sub.example.org", "sub.example.org"),
        ("deep.sub.example.org", "deep.sub.example.org"),  # the most specific listed domain
        ("x.deep.sub.example.org", "deep.sub.example.org"),
        ("other.sub.example.org", "sub.example.org"),
        ("example.org", None),
        ("1.2.3.4", "1.2.3.4"),
        ("11.2.3.4", None),
        ("", None),
    ],
)
def test_domain_set_match(host: str, expected: str | None) -> None:
    domains = DomainSet.build(LISTED)
    assert domains.match(host) == expected
    assert (host in domains) is (expected is not None)


def test_domain_set_size_counts_unique_domains() -> None:
    assert len(DomainSet.build(LISTED + ["example.com"])) == len(LISTED)


@pytest.mark.parametrize("domains", [DomainSet.empty(), DomainSet.build([])])
def test_empty_domain_set(domains: DomainSet) -> None:
    assert len(domains) == 0
    assert domains.match("example.com") is None
    assert "example.com" not in domains


def test_non_string_is_not_contained() -> None:
    assert 42 not in DomainSet.build(LISTED)


@pytest.mark.parametrize("listed", [LISTED, []])
def test_save_and_load_roundtrip(tmp_path: Path, listed: list[str]) -> None:
    path = tmp_path / "set.marisa"
    DomainSet.build(listed).save(path)
    loaded = DomainSet.load(path)
    assert len(loaded) == len(listed)
    for domain in listed:
        assert loaded.match("www." + domain) == domain
    assert loaded.match("notlisted.example") is None
    assert [p.name for p in tmp_path.iterdir()] == ["set.marisa"]  # no temporary files left


@pytest.mark.parametrize(
    ("content", "error"),
    [(b"", ValueError), (b"not a trie at all" * 10, ValueError), (None, FileNotFoundError)],
)
def test_load_refuses_bad_files(tmp_path: Path, content: bytes | None, error: type) -> None:
    path = tmp_path / "set.marisa"
    if content is not None:
        path.write_bytes(content)
    with pytest.raises(error):
        DomainSet.load(path)


def test_load_refuses_truncated_file(tmp_path: Path) -> None:
    path = tmp_path / "set.marisa"
    DomainSet.build(LISTED).save(path)
    path.write_bytes(path.read_bytes()[:-40])
    with pytest.raises(ValueError, match="not a valid domain set"):
        DomainSet.load(path)


RULES = [
    "example.com/some/path",
    "example.com/some/path/deeper/",
    "EXAMPLE.net/Case/Kept",
    "https://site.example/folder/%7efile",
    "whole.example/",
    "http://1.2.3.4/ip/",
]


@pytest.mark.parametrize(
    ("url", "expected"),
    [
        ("http://example.com/some/path", "example.com/some/path"),
        ("https://example.com/some/path/", "example.com/some/path"),
        ("https://example.com/some/path/x", "example.com/some/path"),
        ("https://example.com/some/path?q=1", "example.com/some/path"),
        ("https://example.com/some/path#frag", "example.com/some/path"),
        ("https://www.example.com/some/path/x", "example.com/some/path"),
        ("https://example.com/some/path/deeper", "example.com/some/path/deeper"),
        ("https://example.com/some/path/deeper/y", "example.com/some/path/deeper"),
        ("https://example.com/some/pathology", None),
        ("https://example.com/some", None),
        ("https://example.com/", None),
        ("https://notexample.com/some/path", None),
        ("https://example.com/a/../some/./path/x", "example.com/some/path"),
        ("https://example.com/some%2Fpath", None),
        ("https://example.net/Case/Kept/1", "example.net/Case/Kept"),
        ("https://example.net/case/kept", None),
        ("https://site.example/folder/~file", "site.example/folder/~file"),
        ("https://whole.example/", "whole.example/"),
        ("https://a.whole.example/anything/at/all", "whole.example/"),
        ("http://1.2.3.4/ip/x", "1.2.3.4/ip"),
        ("http://0x01020304/ip", "1.2.3.4/ip"),
        ("http://5.1.2.3.4.example/ip", None),
    ],
)
def test_url_rule_set_match(url: str, expected: str | None) -> None:
    assert UrlRuleSet.build(RULES).match(parse_url(url)) == expected


def test_url_rule_set_lists_normalised_rules() -> None:
    rules = UrlRuleSet.build(RULES)
    assert len(rules) == len(RULES)
    assert "example.net/Case/Kept" in rules.rules()
    assert UrlRuleSet.empty().match(parse_url("https://example.com/")) is None


def test_url_rule_set_names_invalid_rule() -> None:
    with pytest.raises(UrlError, match="exa mple"):
        UrlRuleSet.build(["exa mple.com/path"])


@pytest.mark.parametrize(
    ("host", "expected"),
    [
        ("blogspot.com", "blogspot.com"),  # an exact entry covers its own host ...
        ("someblog.blogspot.com", None),  # ... and nothing under it
        ("a.b.blogspot.com", None),
        ("listed.blogspot.com", "listed.blogspot.com"),  # a covering entry under it still does
        ("x.listed.blogspot.com", "listed.blogspot.com"),
        ("github.io", "github.io"),
        ("page.github.io", None),
        ("xgithub.io", None),
        ("io", None),
        ("example.com", "example.com"),
        ("www.example.com", "example.com"),
    ],
)
def test_exact_entries_cover_one_host(host: str, expected: str | None) -> None:
    domains = DomainSet.build(
        ["example.com", "listed.blogspot.com"], exact=["blogspot.com", "github.io"]
    )
    assert domains.match(host) == expected
    assert (host in domains) is (expected is not None)
    assert len(domains) == 4


def test_exact_entries_survive_save_and_load(tmp_path: Path) -> None:
    path = tmp_path / "set.marisa"
    DomainSet.build(["example.com"], exact=["github.io"]).save(path)
    loaded = DomainSet.load(path)
    assert loaded.match("github.io") == "github.io"
    assert loaded.match("page.github.io") is None
    assert loaded.match("www.example.com") == "example.com"


@pytest.mark.parametrize(
    ("url", "expected"),
    [
        ("https://blogspot.com/some/path", "blogspot.com/some/path"),
        ("https://blogspot.com/some/path/deeper", "blogspot.com/some/path"),
        ("https://someblog.blogspot.com/some/path", None),  # an exact rule: its host only
        ("https://blogspot.com/other", None),
        ("https://x.listed.blogspot.com/p/1", "listed.blogspot.com/p"),
        ("https://blogspot.com/p", None),
    ],
)
def test_exact_url_rules_cover_their_host_only(url: str, expected: str | None) -> None:
    rules = UrlRuleSet.build(["listed.blogspot.com/p"], exact=["blogspot.com/some/path"])
    assert rules.match(parse_url(url)) == expected
    assert rules.rules() == ("listed.blogspot.com/p",)
    assert rules.exact_rules() == ("blogspot.com/some/path",)
    assert len(rules) == 2
