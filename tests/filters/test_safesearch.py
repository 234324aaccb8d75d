"""Safe-search rewrites for each engine, and refusal of malformed rule files."""

from __future__ import annotations

from pathlib import Path

import pytest

from abhaya.filters.safesearch import SafeSearchRuleError, SafeSearchRules
from abhaya.filters.verdict import Rewrite

YT = (("YouTube-Restrict", "Strict"),)


@pytest.fixture(scope="module")
def rules() -> SafeSearchRules:
    return SafeSearchRules.load_default()


def split(url: str) -> tuple[str, str, int, str, str]:
    """Split "scheme://host[:port]/path?query" the way the proxy hands a request over."""
    scheme, _, rest = url.partition("://")
    rest, _, query = rest.partition("?")
    netloc, slash, path = rest.partition("/")
    host, _, port = netloc.partition(":")
    return scheme, host, int(port or {"http": 80, "https": 443}[scheme]), slash + path, query


@pytest.mark.parametrize(
    ("url", "expected_url", "headers", "engine"),
    [
        # Google: parameter added, overridden, duplicates dropped, other parameters untouched
        (
            "https://www.google.com/search?q=snow",
            "https://www.google.com/search?q=snow&safe=active&ssui=on",
            (),
            "google",
        ),
        (
            "https://www.google.co.in/search?q=a%20b+c&safe=off&hl=hi&safe=images&ssui=on",
            "https://www.google.co.in/search?q=a%20b+c&safe=active&hl=hi&ssui=on",
            (),
            "google",
        ),
        (
            "https://www.google.de/webhp",
            "https://www.google.de/webhp?safe=active&ssui=on",
            (),
            "google",
        ),
        (
            "https://www.google.com:8443/search?q=x&safe=active&ssui=on&safe=off",
            "https://www.google.com:8443/search?q=x&safe=active&ssui=on",
            (),
            "google",
        ),
        # Bing
        (
            "https://www.bing.com/search?q=snow&form=QBLH",
            "https://www.bing.com/search?q=snow&form=QBLH&adlt=strict",
            (),
            "bing",
        ),
        (
            "https://www.bing.com/images/search?adlt=off&q=snow",
            "https://www.bing.com/images/search?adlt=strict&q=snow",
            (),
            "bing",
        ),
        # DuckDuckGo
        (
            "https://duckduckgo.com/?q=snow&kp=-2",
            "https://duckduckgo.com/?q=snow&kp=1",
            (),
            "duckduckgo",
        ),
        (
            "https://html.duckduckgo.com/html/?q=snow",
            "https://html.duckduckgo.com/html/?q=snow&kp=1",
            (),
            "duckduckgo",
        ),
        # YouTube: a header, the URL unchanged
        ("https://www.youtube.com/results?search_query=x", None, YT, "youtube"),
        ("https://m.youtube.com/watch?v=abc", None, YT, "youtube"),
        ("https://youtubei.googleapis.com/youtubei/v1/search", None, YT, "youtube"),
        ("https://youtube.googleapis.com/v", None, YT, "youtube"),
        ("https://www.youtube-nocookie.com/embed/abc", None, YT, "youtube"),
        # Yahoo, Yandex, Brave
        (
            "https://search.yahoo.com/search?p=snow&vm=p",
            "https://search.yahoo.com/search?p=snow&vm=r",
            (),
            "yahoo",
        ),
        (
            "https://yandex.ru/search/?text=snow",
            "https://yandex.ru/search/?text=snow&family=yes",
            (),
            "yandex",
        ),
        (
            "https://search.brave.com/search?q=snow",
            "https://search.brave.com/search?q=snow&safesearch=strict",
            (),
            "brave",
        ),
    ],
)
def test_rewrite(
    rules: SafeSearchRules,
    url: str,
    expected_url: str | None,
    headers: tuple[tuple[str, str], ...],
    engine: str,
) -> None:
    result = rules.rewrite(*split(url))
    assert result == Rewrite(url=expected_url or url, set_headers=headers, engine=engine)


@pytest.mark.parametrize(
    "url",
    [
        "https://www.google.com/search?q=snow&safe=active&ssui=on",  # already strict
        "https://duckduckgo.com/?q=snow&kp=1",
        "https://www.google.com/maps?q=snow",  # not a search path
        "https://mail.google.com/mail/u/0/",
        "https://www.bing.com/maps?q=snow",
        "https://example.com/search?q=snow&safe=off",  # not an engine
        "https://notgoogle.com/search?q=snow",
        "https://youtube.com.example/watch?v=1",
        "http://127.0.0.1:8080/search?q=snow",
    ],
)
def test_no_rewrite(rules: SafeSearchRules, url: str) -> None:
    assert rules.rewrite(*split(url)) is None


def test_plain_http_and_odd_ports_are_kept(rules: SafeSearchRules) -> None:
    result = rules.rewrite("http", "www.bing.com", 8080, "/search", "q=x")
    assert result is not None
    assert result.url == "http://www.bing.com:8080/search?q=x&adlt=strict"


def test_default_rules_cover_each_engine(rules: SafeSearchRules) -> None:
    engines = {rule.engine for rule in rules.rules}
    assert {"google", "bing", "duckduckgo", "youtube", "yahoo"} <= engines


def test_from_files(tmp_path: Path) -> None:
    path = tmp_path / "invented.toml"
    path.write_text(
        "# Invented engine for the test.\n"
        'engine = "invented"\nhosts = ["find.example"]\npaths = ["/q"]\n'
        '[set_params]\nfamily = "on"\n[set_headers]\nX-Family = "1"\n',
        encoding="utf-8",
    )
    rules = SafeSearchRules.from_files([path])
    assert rules.rewrite("https", "find.example", 443, "/q", "x=1&family=off") == Rewrite(
        url="https://find.example/q?x=1&family=on",
        set_headers=(("X-Family", "1"),),
        engine="invented",
    )
    assert rules.rewrite("https", "other.example", 443, "/q", "x=1") is None


@pytest.mark.parametrize(
    ("content", "message"),
    [
        ("engine = ", "Invalid"),
        ('hosts = ["a.example"]\npaths = ["*"]\n[set_params]\nx = "1"\n', "engine: Field required"),
        ('engine = "x"\nhosts = ["a.example"]\npaths = ["*"]\n', "at least one parameter"),
        ('engine = "x"\nhosts = ["a b"]\npaths = ["*"]\n[set_params]\nx = "1"\n', "bad host"),
        ('engine = "x"\nhosts = ["a.example"]\npaths = ["q"]\n[set_params]\nx = "1"\n', "bad path"),
        ('engine = "x"\nhosts = ["a.example"]\npaths = ["*"]\n[set_params]\nx = 1\n', "string"),
        ('engine = "x"\nhost = ["a.example"]\npaths = ["*"]\n[set_params]\nx = "1"\n', "host"),
    ],
)
def test_malformed_rule_file_names_the_file(tmp_path: Path, content: str, message: str) -> None:
    path = tmp_path / "broken.toml"
    path.write_text(content, encoding="utf-8")
    with pytest.raises(SafeSearchRuleError, match=rf"broken\.toml: .*{message}"):
        SafeSearchRules.from_files([path])


def test_missing_rule_file_names_the_file(tmp_path: Path) -> None:
    with pytest.raises(SafeSearchRuleError, match=r"absent\.toml"):
        SafeSearchRules.from_files([tmp_path / "absent.toml"])
