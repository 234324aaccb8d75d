"""Block-list parsing: each format from realistic snippets, problems with file and line."""

from __future__ import annotations

from pathlib import Path

import pytest

from abhaya.filters.lists.parse import (
    MAX_PROBLEMS,
    ListFormat,
    ListLoadError,
    ListProblem,
    parse_list,
    sniff_format,
)

HOSTS = """\
# Title: generated test hosts
# ===============================================================
127.0.0.1 localhost
127.0.0.1 localhost.localdomain
127.0.0.1 local
255.255.255.255 broadcasthost
::1 localhost ip6-localhost ip6-loopback
fe80::1%lo0 localhost
ff00::0 ip6-localnet
0.0.0.0 0.0.0.0

# [generated.example]
0.0.0.0 ads.generated.example
0.0.0.0 Tracker.Generated.Example.   # trailing dot, mixed case
127.0.0.1\tone.example two.example\t# two names, tab separated
:: v6.example
0.0.0.0 ads.generated.example
0.0.0.0 bad_ip_next.example
999.1.1.1 wrong.example
0.0.0.0 exa$mple.example
0.0.0.0
"""


def write(tmp_path: Path, name: str, text: str) -> Path:
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return path


def test_hosts_file(tmp_path: Path) -> None:
    path = write(tmp_path, "hosts", HOSTS)
    parsed = parse_list(path)
    assert parsed.domains == (
        "ads.generated.example",
        "tracker.generated.example",
        "one.example",
        "two.example",
        "v6.example",
        "bad_ip_next.example",
    )
    assert parsed.exceptions == ()
    assert parsed.skipped == {"local": 10}
    assert [(p.file, p.line) for p in parsed.problems] == [
        (str(path), 19),
        (str(path), 20),
        (str(path), 21),
    ]
    assert "IP address" in parsed.problems[0].message
    assert "invalid character" in parsed.problems[1].message
    assert "no host name" in parsed.problems[2].message
    assert str(parsed.problems[0]) == (
        f"{path}:19: expected an IP address before the names: 999.1.1.1 wrong.example"
    )


PLAIN = """\
# generated plain list
! also a comment
example.com
WWW.Example.ORG.
*.wild.example
.dot.example
  spaced.example  \r
inline.example # with a comment
bücher.example
1.2.3.4
3232235777
example.com

exa mple.com
empty..label.example
toolong-{long}.example
http://not-a-domain.example/path
ads*.example
999.1.1.1
""".replace("{long}", "x" * 64)


def test_plain_list(tmp_path: Path) -> None:
    path = write(tmp_path, "plain.txt", PLAIN)
    parsed = parse_list(path)
    assert parsed.domains == (
        "example.com",
        "www.example.org",
        "wild.example",
        "dot.example",
        "spaced.example",
        "inline.example",
        "xn--bcher-kva.example",
        "1.2.3.4",
        "192.168.1.1",
    )
    lines = [p.line for p in parsed.problems]
    assert lines == [14, 15, 16, 17, 18, 19]
    messages = [p.message for p in parsed.problems]
    assert "forbidden character" in messages[0]
    assert "empty label" in messages[1]
    assert "63" in messages[2]
    assert "not a domain" in messages[3]
    assert "invalid character" in messages[4]
    assert "out of range" in messages[5]
    assert all(p.file == str(path) for p in parsed.problems)
    assert dict(parsed.skipped) == {}


ADBLOCK = """\
[Adblock Plus 2.0]
! Title: generated test filters
! Expires: 1 day
||ads.example^
||tracker.example^$third-party
||popup.example^$important,document
||UPPER.Example^|
||*.wild.example^
||bare.example
@@||ok.ads.example^
@@||fine.example^$important
##.ad-banner
example.com##.sidebar-ad
example.com#@#.not-an-ad
example.com#?#div:has(> .ad)
example.com#$#body { color: red }
/banner[0-9]+\\.gif/
/ads/$image
||example.com/ads/*
||example.net^*/track
|http://example.org/ad
&ad_type=
||script.example^$script
||domain.example^$domain=a.example|b.example
||ads*.example^
# hash comment
||exa mple.example^
||bad..example^
"""


def test_adblock_list(tmp_path: Path) -> None:
    path = write(tmp_path, "filters.txt", ADBLOCK)
    parsed = parse_list(path)
    assert parsed.domains == (
        "ads.example",
        "tracker.example",
        "popup.example",
        "upper.example",
        "wild.example",
        "bare.example",
    )
    assert parsed.exceptions == ("ok.ads.example", "fine.example")
    assert dict(parsed.skipped) == {
        "cosmetic": 5,
        "regex": 2,  # `/ads/$image` is a regex too, as in AdBlock Plus
        "path_rule": 3,
        "other": 1,
        "modifier": 2,
        "wildcard": 1,
    }
    assert [(p.line, p.text) for p in parsed.problems] == [
        (27, "||exa mple.example^"),
        (28, "||bad..example^"),
    ]


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        (HOSTS, ListFormat.HOSTS),
        (PLAIN, ListFormat.PLAIN),
        (ADBLOCK, ListFormat.ADBLOCK),
        ("! comment\n||a.example^\n", ListFormat.ADBLOCK),
        ("# comment\nexample.com##.ad\n", ListFormat.ADBLOCK),
        ("@@||a.example^\n", ListFormat.ADBLOCK),
        ("# hosts without header\n0.0.0.0 a.example\n", ListFormat.HOSTS),
        ("## a hosts section ##\n127.0.0.1 a.example\n", ListFormat.HOSTS),
        ("a.example\nb.example\n", ListFormat.PLAIN),
        ("", ListFormat.PLAIN),
    ],
)
def test_auto_detects_format(tmp_path: Path, text: str, expected: ListFormat) -> None:
    path = write(tmp_path, "list.txt", text)
    assert sniff_format(path.read_text(encoding="utf-8").split("\n")) is expected
    assert parse_list(path) == parse_list(path, expected)


def test_explicit_format_overrides_sniffing(tmp_path: Path) -> None:
    path = write(tmp_path, "list.txt", "0.0.0.0 a.example\n")
    parsed = parse_list(path, ListFormat.PLAIN)
    assert parsed.domains == ()
    assert [p.line for p in parsed.problems] == [1]


def test_bom_and_invalid_utf8(tmp_path: Path) -> None:
    path = tmp_path / "plain.txt"
    path.write_bytes(
        b"\xef\xbb\xbfa.example\nb\xff\xfe.example\n# caf\xe9 latin-1 comment\nc.example\n"
    )
    parsed = parse_list(path)
    assert parsed.domains == ("a.example", "c.example")
    assert [(p.line, p.message) for p in parsed.problems] == [
        (2, "not valid UTF-8"),
        (3, "not valid UTF-8"),
    ]


def test_problems_are_capped(tmp_path: Path) -> None:
    path = write(tmp_path, "plain.txt", "bad domain\n" * (MAX_PROBLEMS + 5) + "ok.example\n")
    parsed = parse_list(path)
    assert parsed.domains == ("ok.example",)
    assert len(parsed.problems) == MAX_PROBLEMS
    assert parsed.skipped == {"problems_not_listed": 5}


def make_ut1(folder: Path, domains: str | None, urls: str | None) -> Path:
    folder.mkdir()
    if domains is not None:
        (folder / "domains").write_text(domains, encoding="utf-8")
    if urls is not None:
        (folder / "urls").write_text(urls, encoding="utf-8")
    (folder / "usage").write_text("black\n", encoding="utf-8")
    return folder


def test_ut1_folder(tmp_path: Path) -> None:
    folder = make_ut1(
        tmp_path / "adult",
        "a.example\nB.example\n10.0.0.1\nbad domain\n",
        "site.example/gallery/\nwww.Site.example/a/./b\nsite.example/page?id=3\nbad host/x\n",
    )
    parsed = parse_list(folder)
    assert parsed.domains == ("a.example", "b.example", "10.0.0.1")
    assert parsed.url_rules == ("site.example/gallery/", "www.site.example/a/b")
    assert parsed.skipped == {"url_query": 1}
    assert [(Path(p.file).name, p.line) for p in parsed.problems] == [("domains", 4), ("urls", 4)]
    assert parse_list(folder, ListFormat.UT1) == parsed


@pytest.mark.parametrize(("domains", "urls"), [("a.example\n", None), (None, "a.example/x\n")])
def test_ut1_folder_with_one_file(tmp_path: Path, domains: str | None, urls: str | None) -> None:
    parsed = parse_list(make_ut1(tmp_path / "cat", domains, urls))
    assert len(parsed.domains) + len(parsed.url_rules) == 1


def test_ut1_folder_without_lists(tmp_path: Path) -> None:
    folder = make_ut1(tmp_path / "cat", None, None)
    with pytest.raises(ListLoadError, match="no 'domains' or 'urls'") as info:
        parse_list(folder)
    assert str(folder) in str(info.value)


def test_missing_file_names_path(tmp_path: Path) -> None:
    path = tmp_path / "missing.txt"
    with pytest.raises(ListLoadError, match="No such file") as info:
        parse_list(path)
    assert str(path) in str(info.value)


def test_unreadable_path_names_path_and_reason(tmp_path: Path) -> None:
    file = write(tmp_path, "plain.txt", "a.example\n")
    path = file / "inside"
    with pytest.raises(ListLoadError, match="Not a directory") as info:
        parse_list(path)
    assert str(path) in str(info.value)


def test_unreadable_file_as_directory(tmp_path: Path) -> None:
    """A path that cannot be read as a file (here: a folder given as a file format)."""
    with pytest.raises(ListLoadError, match="is a folder") as info:
        parse_list(tmp_path, ListFormat.PLAIN)
    assert str(tmp_path) in str(info.value)


def test_ut1_format_on_a_file(tmp_path: Path) -> None:
    path = write(tmp_path, "domains", "a.example\n")
    with pytest.raises(ListLoadError, match="not a folder"):
        parse_list(path, ListFormat.UT1)


def test_problem_text() -> None:
    problem = ListProblem("lists/a.txt", 7, "exa mple.com", "forbidden character")
    assert str(problem) == "lists/a.txt:7: forbidden character: exa mple.com"
