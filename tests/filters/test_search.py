"""Search-text extraction for each engine, the generic rule, and hostile query strings; the
body rules and hostile request bodies."""

from __future__ import annotations

import json
import tomllib
from importlib import resources

import pytest

from abhaya.filters.search import (
    MAX_BODY_BYTES,
    MAX_BODY_QUERY_CHARS,
    BodyRule,
    HostPatterns,
    PathPatterns,
    SearchQuery,
    SearchRulesError,
    body_search_rule,
    extract_body_query,
    extract_query,
    parse_rules,
)


def split(url: str) -> tuple[str, str, str]:
    """Split "host/path?query" into (host, path, query), as the proxy hands them over."""
    rest, _, query = url.partition("?")
    host, slash, path = rest.partition("/")
    return host, slash + path, query


ENGINE_TABLE = [
    # Google, any country domain
    ("www.google.com/search?q=weather+delhi&hl=en", "google", "weather delhi"),
    ("www.google.co.in/search?q=%E0%A4%AE%E0%A5%8C%E0%A4%B8%E0%A4%AE", "google", "मौसम"),
    ("google.de/search?hl=de&q=wetter", "google", "wetter"),
    ("www.google.com.au/images?q=koala", "google", "koala"),
    ("www.google.com/complete/search?client=chrome&q=wea", "google", "wea"),
    ("www.google.com/webhp?q=snow", "google", "snow"),
    ("www.google.com/maps?q=snow", "generic", "snow"),
    # YouTube, including suggestions
    ("www.youtube.com/results?search_query=cat+videos", "youtube", "cat videos"),
    ("m.youtube.com/results?search_query=cats&sp=x", "youtube", "cats"),
    ("suggestqueries.google.com/complete/search?client=youtube&ds=yt&q=ca", "youtube", "ca"),
    ("suggestqueries.google.com/complete/search?client=firefox&q=ca", "google", "ca"),
    ("suggestqueries-clients6.youtube.com/complete/search?q=ca", "youtube", "ca"),
    # Bing: results take q, suggestions qry (www) and query (OpenSearch, api.bing.com)
    ("www.bing.com/search?q=rain&form=QBLH", "bing", "rain"),
    ("www.bing.com/images/search?q=rain", "bing", "rain"),
    ("www.bing.com/AS/Suggestions?pt=page.home&mkt=en-in&qry=ra&cp=2&cvid=AB", "bing", "ra"),
    ("www.bing.com/AS/Suggestions?qry=ra&bq=old+search", "bing", "ra"),
    ("api.bing.com/osjson.aspx?query=ra", "bing", "ra"),
    ("www.bing.com/osjson.aspx?form=OSDJAS&query=ra", "bing", "ra"),
    # DuckDuckGo
    ("duckduckgo.com/?q=rain&t=h_", "duckduckgo", "rain"),
    ("html.duckduckgo.com/html/?q=rain", "duckduckgo", "rain"),
    ("duckduckgo.com/ac/?q=ra&kl=wt-wt", "duckduckgo", "ra"),
    # Yahoo, including suggestions
    ("search.yahoo.com/search?p=rain&fr=yfp", "yahoo", "rain"),
    ("in.search.yahoo.com/search;_ylt=abc?p=rain", "yahoo", "rain"),
    ("images.search.yahoo.com/search/images?p=rain", "yahoo", "rain"),
    ("search.yahoo.com/sugg/gossip/gossip-us-ura/?output=sd1&command=ra", "yahoo", "ra"),
    # Yandex, including suggestions
    ("yandex.ru/search/?text=rain&lr=213", "yandex", "rain"),
    ("yandex.com.tr/images/search?text=rain", "yandex", "rain"),
    ("ya.ru/search/?text=rain", "yandex", "rain"),
    ("suggest.yandex.ru/suggest-ff.cgi?part=ra", "yandex", "ra"),
    # Ecosia, Brave, Startpage, Qwant
    ("www.ecosia.org/search?q=rain", "ecosia", "rain"),
    ("ac.ecosia.org/autocomplete?q=ra", "ecosia", "ra"),
    ("ac.ecosia.org/?q=ra", "ecosia", "ra"),
    ("search.brave.com/search?q=rain&source=web", "brave", "rain"),
    ("search.brave.com/api/suggest?q=ra&rich=true", "brave", "ra"),
    ("www.startpage.com/sp/search?query=rain", "startpage", "rain"),
    ("www.startpage.com/do/search?q=rain", "startpage", "rain"),
    ("www.qwant.com/?q=rain&t=web", "qwant", "rain"),
    ("api.qwant.com/v3/suggest?q=ra&locale=en_GB", "qwant", "ra"),
    # Shopping
    ("www.amazon.in/s?k=school+bag&crid=2M&ref=nb_sb_noss", "amazon", "school bag"),
    ("www.amazon.com/s?field-keywords=school+bag", "amazon", "school bag"),
    ("www.amazon.in/dp/B000000000?q=x", "generic", "x"),  # not the search page: generic
    (
        "completion.amazon.in/api/2017/suggestions?alias=aps&prefix=scho&limit=11",
        "amazon",
        "scho",
    ),
    ("www.flipkart.com/search?q=shoes+under+500&otracker=search", "flipkart", "shoes under 500"),
    # Video
    ("www.dailymotion.com/search/king%20of%20turtles/videos", "dailymotion", "king of turtles"),
    ("www.dailymotion.com/search/cats", "dailymotion", "cats"),
    ("vimeo.com/search?q=cello", "vimeo", "cello"),
    ("www.hotstar.com/in/explore?search_query=cricket+highlights", "hotstar", "cricket highlights"),
    ("www.hotstar.com/in/search?q=cricket", "hotstar", "cricket"),
    ("www.jiocinema.com/search/cricket", "jiocinema", "cricket"),
    ("www.jiocinema.com/search?q=cricket", "jiocinema", "cricket"),
    ("www.mxplayer.in/search?q=comedy", "mxplayer", "comedy"),
    ("www.mxplayer.in/search/all?query=comedy", "mxplayer", "comedy"),
    ("www.mxplayer.in/search/comedy", "mxplayer", "comedy"),
    ("www.primevideo.com/search/ref=atv_nb_sug?ie=UTF8&phrase=dune", "primevideo", "dune"),
    ("www.primevideo.com/search?phrase=dune", "primevideo", "dune"),
    ("www.twitch.tv/search?term=chess", "twitch", "chess"),
    # Social
    ("x.com/search?q=%40twitterdev&src=typed_query", "x", "@twitterdev"),
    ("twitter.com/search?q=rain&f=live", "x", "rain"),
    ("www.reddit.com/search/?q=rain&type=link", "reddit", "rain"),
    ("www.reddit.com/r/india/search?q=rain&restrict_sr=1", "reddit", "rain"),
    ("www.reddit.com/search.json?q=rain", "reddit", "rain"),
    ("www.pinterest.com/search/pins/?q=rangoli&rs=typed", "pinterest", "rangoli"),
    ("in.pinterest.com/search/pins/?q=rangoli", "pinterest", "rangoli"),
    ("www.tumblr.com/search/my+keywords", "tumblr", "my keywords"),
    ("www.tumblr.com/tagged/rain", "tumblr", "rain"),
    ("www.tiktok.com/search?q=dance", "tiktok", "dance"),
    ("www.tiktok.com/search/video?q=dance", "tiktok", "dance"),
    ("www.instagram.com/explore/search/keyword/?q=rangoli", "instagram", "rangoli"),
    ("www.instagram.com/explore/tags/rangoli/", "instagram", "rangoli"),
    ("www.facebook.com/search/top?q=rain", "facebook", "rain"),
    ("www.facebook.com/watch/search/?q=rain", "facebook", "rain"),
    ("sharechat.com/search/rangoli", "sharechat", "rangoli"),
    ("sharechat.com/search?q=rangoli", "sharechat", "rangoli"),
    # Generic rule on any other site
    ("shop.example/?search=blue+shoes", "generic", "blue shoes"),
    ("blog.example/?s=snow", "generic", "snow"),
    ("wiki.example/w/index.php?title=x&search=snow", "generic", "snow"),
    ("site.example/find?keywords=snow", "generic", "snow"),
    ("site.example/api?term=snow", "generic", "snow"),
    ("site.example/api?query=snow&q=rain", "generic", "rain"),
    ("site.example/search/results?p=snow", "generic", "snow"),
    ("www.zee5.com/search?q=comedy", "generic", "comedy"),
    # Hosts that only look like engines
    ("notgoogle.com/search?q=rain", "generic", "rain"),
    ("google.evil.example.com/search?q=rain", "generic", "rain"),
    ("notdailymotion.com/search/rain", None, None),
]


@pytest.mark.parametrize(("url", "engine", "text"), [row for row in ENGINE_TABLE if row[1]])
def test_extract_query(url: str, engine: str, text: str) -> None:
    assert extract_query(*split(url)) == SearchQuery(engine, text)


@pytest.mark.parametrize(
    "url",
    [
        "site.example/blog?p=2",  # "p" counts only on search paths
        "site.example/?page=2&id=7",
        "www.google.com/search",
        "www.google.com/search?q=&hl=en",
        "www.google.com/search?q=+++",
        "www.bing.com/search?form=QBLH",
        "www.google.com/search?search=x",  # an engine rule decides alone
        "www.bing.com/AS/Suggestions?pt=page.home&cp=0",
        "www.dailymotion.com/search/",
        "www.dailymotion.com/video/x8abc",
        "www.tumblr.com/rain",
        "notdailymotion.com/search/rain",  # path text only for the engines that use it
        "www.example.com/search/rain",
    ],
)
def test_no_query(url: str) -> None:
    assert extract_query(*split(url)) is None


def test_every_engine_in_the_data_file_has_a_table_row() -> None:
    """Adding a site as data comes with an example URL in ENGINE_TABLE."""
    data = resources.files("abhaya.filters").joinpath("data/search_engines.toml")
    names = {engine["name"] for engine in tomllib.loads(data.read_text("utf-8"))["engine"]}
    tested = {row[1] for row in ENGINE_TABLE}
    assert names <= tested, f"engines without an example URL: {sorted(names - tested)}"


@pytest.mark.parametrize(
    ("path", "expected"),
    [
        ("/search/%FF%FErain", "\ufffd\ufffdrain"),
        ("/search/" + "a" * 70_000, "a" * 70_000),
        ("/search/%zz%", "%zz%"),
        ("/search/+++", None),
        ("/search//videos", None),
    ],
)
def test_hostile_paths_never_raise(path: str, expected: str | None) -> None:
    result = extract_query("www.dailymotion.com", path, "")
    assert (result.query if result else None) == expected


def test_first_non_empty_value_of_a_repeated_parameter() -> None:
    assert extract_query("www.google.com", "/search", "q=&q=snow&q=rain") == SearchQuery(
        "google", "snow"
    )


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ("q=" + "a" * 65_536, "a" * 65_536),
        ("x=" + "%" * 40_000 + "&q=snow", "snow"),
        ("q=%FF%FEsnow", "\ufffd\ufffdsnow"),
        ("q=snow%00day", "snow\x00day"),
        ("q=%E0%A4", "\ufffd"),
        ("&&&=&=&q==snow", "=snow"),
        ("q=%zz%", "%zz%"),
        ("=" * 1000, None),
        ("q" * 70_000, None),
    ],
)
def test_hostile_queries_never_raise(query: str, expected: str | None) -> None:
    result = extract_query("www.google.com", "/search", query)
    assert (result.query if result else None) == expected


@pytest.mark.parametrize(
    ("patterns", "host", "matches"),
    [
        (["google.*"], "google.com", True),
        (["google.*"], "www.google.co.in", True),
        (["google.*"], "images.google.com.br", True),
        (["google.*"], "google.com.evil.example", False),
        (["google.*"], "mygoogle.com", False),
        (["bing.com"], "bing.com", True),
        (["bing.com"], "cn.bing.com", True),
        (["bing.com"], "bing.com.example", False),
        (["bing.com"], "notbing.com", False),
    ],
)
def test_host_patterns(patterns: list[str], host: str, matches: bool) -> None:
    assert HostPatterns.compile(patterns).matches(host) is matches


@pytest.mark.parametrize(
    ("patterns", "path", "matches"),
    [
        (["*"], "/anything", True),
        (["/"], "/", True),
        (["/"], "/search", False),
        (["/search"], "/search", True),
        (["/search"], "/search/", True),
        (["/search"], "/Search/images", True),
        (["/search"], "/searchx", False),
    ],
)
def test_path_patterns(patterns: list[str], path: str, matches: bool) -> None:
    assert PathPatterns.compile(patterns).matches(path) is matches


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("engine = [", "Invalid"),
        ("[generic]\nparams = ['q']\n", "engine"),
        (
            "[[engine]]\nname='x'\nhosts=['bad host']\npaths=['*']\nparams=['q']\n"
            "evidence='observed'\n[generic]\nparams=['q']\n",
            "bad host pattern",
        ),
        (
            "[[engine]]\nname='x'\nhosts=['x.example']\npaths=['search']\nparams=['q']\n"
            "evidence='observed'\n"
            "[generic]\nparams=['q']\n",
            "bad path pattern",
        ),
        (
            "[[engine]]\nname='x'\nhosts=['x.example']\npaths=['*']\nparams=['q']\nextra=1\n"
            "evidence='observed'\n"
            "[generic]\nparams=['q']\n",
            "extra",
        ),
        (
            "[[engine]]\nname='x'\nhosts=['x.example']\npaths=['*']\nparams=['q']\n"
            "path_text=['/search']\nevidence='observed'\n[generic]\nparams=['q']\n",
            "bad path_text",
        ),
        (
            "[[engine]]\nname='x'\nhosts=['x.example']\npaths=['*']\nparams=['q']\n"
            "[generic]\nparams=['q']\n",
            "evidence: Field required",
        ),
        (
            "[[engine]]\nname='x'\nhosts=['x.example']\npaths=['*']\nparams=['q']\n"
            "evidence='I think so'\n[generic]\nparams=['q']\n",
            "evidence: Input should be",
        ),
    ],
)
def test_malformed_rules_name_the_file(text: str, message: str) -> None:
    with pytest.raises(SearchRulesError, match=f"rules.toml: .*{message}"):
        parse_rules(text, "rules.toml")


BODY_RULE_TABLE = [
    # YouTube's in-page search, on the site and on YouTube Music
    ("www.youtube.com", "/youtubei/v1/search?prettyPrint=false", "POST", "youtube"),
    ("music.youtube.com", "/youtubei/v1/search", "POST", "youtube"),
    ("WWW.YouTube.COM.", "/youtubei/v1/search", "post", "youtube"),
    # every spelling of the path that a server reads as the same one
    ("www.youtube.com", "/youtubei/v1/%73earch", "POST", "youtube"),
    ("www.youtube.com", "/youtubei/v2/../v1/./search", "POST", "youtube"),
    ("m.youtube.com", "/YouTubei/v1/Search", "POST", "youtube"),
    # not that search: another method, path or host
    ("www.youtube.com", "/youtubei/v1/search", "GET", None),
    ("www.youtube.com", "/youtubei/v1/browse", "POST", None),
    ("www.youtube.com", "/youtubei/v1/searchx", "POST", None),
    ("www.youtube.com", "/results?search_query=rain", "POST", None),
    ("youtube.com.example", "/youtubei/v1/search", "POST", None),
    ("notyoutube.com", "/youtubei/v1/search", "POST", None),
    ("www.bing.com", "/youtubei/v1/search", "POST", None),
    ("", "", "", None),
]


@pytest.mark.parametrize(("host", "path", "method", "name"), BODY_RULE_TABLE)
def test_body_search_rule(host: str, path: str, method: str, name: str | None) -> None:
    rule = body_search_rule(host, path, method)
    assert (rule.name if rule else None) == name


def test_every_body_rule_in_the_data_file_has_a_table_row() -> None:
    data = resources.files("abhaya.filters").joinpath("data/search_engines.toml")
    names = {body["name"] for body in tomllib.loads(data.read_text("utf-8"))["body"]}
    tested = {row[3] for row in BODY_RULE_TABLE}
    assert names and names <= tested, f"body rules without an example: {sorted(names - tested)}"


def youtube_body(**fields: object) -> bytes:
    """A body shaped like the one YouTube's page script posts (generated, trimmed)."""
    context = {"client": {"clientName": "WEB", "clientVersion": "2.20261101.00.00", "hl": "en"}}
    return json.dumps({"context": context, **fields}).encode()


@pytest.fixture(scope="module")
def youtube() -> BodyRule:
    rule = body_search_rule("www.youtube.com", "/youtubei/v1/search", "POST")
    assert rule is not None
    return rule


@pytest.mark.parametrize(
    ("body", "expected"),
    [
        (youtube_body(query="rain songs"), "rain songs"),
        (youtube_body(query="  मौसम \n"), "मौसम"),
        (rb'{"query": "\u092e\u094c\u0938\u092e"}', "मौसम"),  # JSON escapes
        (b'\xef\xbb\xbf{"query": "rain"}', "rain"),  # a byte-order mark
        (b'{"query": "\xff\xferain"}', "\ufffd\ufffdrain"),  # not UTF-8: read leniently
        (b'{"query": "snow", "query": "rain"}', "snow rain"),  # the server may read either
        (b'{"query": "", "query": "rain"}', "rain"),
        # no search in it
        (youtube_body(continuation="4qmFsgKrCBIYVUN"), None),
        (youtube_body(query=""), None),
        (youtube_body(query="   "), None),
        (youtube_body(query=None), None),
        (youtube_body(query=12), None),
        (youtube_body(query=["rain"]), None),
        (youtube_body(query={"text": "rain"}), None),
        (json.dumps({"context": {"query": "rain"}}).encode(), None),  # top-level keys only
        (b'["query", "rain"]', None),
        (b'"rain"', None),
        (b"query=rain", None),
        (b"", None),
        (b"\x00" * 64, None),
        (b"\x1f\x8b\x08\x00", None),  # compressed bytes, unread here
        (b'{"query": "rain"', None),  # cut short
        (b"[" * 200_000, None),  # nesting too deep for the parser
        (b'{"query": "rain", "n": ' + b"9" * 10_000 + b"}", None),  # a number too long
    ],
)
def test_extract_body_query(youtube: BodyRule, body: bytes, expected: str | None) -> None:
    result = extract_body_query(youtube, body)
    assert (result.query if result else None) == expected
    assert result is None or (result.engine, result.clipped) == ("youtube", False)


def test_a_very_long_body_query_is_cut_and_says_so(youtube: BodyRule) -> None:
    result = extract_body_query(youtube, youtube_body(query="a" * 65_536))
    assert result is not None
    assert result.clipped and result.query == "a" * MAX_BODY_QUERY_CHARS


def test_a_body_over_the_limit_is_not_parsed(youtube: BodyRule) -> None:
    padded = youtube_body(query="rain", padding="x" * MAX_BODY_BYTES)
    assert extract_body_query(youtube, padded) is None
    assert extract_body_query(youtube, padded[: MAX_BODY_BYTES - 1]) is None  # not JSON now
    fits = youtube_body(query="rain", padding="x" * (MAX_BODY_BYTES - 200))
    assert len(fits) <= MAX_BODY_BYTES
    assert extract_body_query(youtube, fits) == SearchQuery("youtube", "rain")


BODY_RULE = "[[body]]\nname='x'\nhosts=['x.example']\npaths=['/api/search']\n"


@pytest.mark.parametrize(
    ("text", "message"),
    [
        (BODY_RULE + "methods=['POST']\nevidence='observed'\n", "body.0.json_field: Field"),
        (BODY_RULE + "methods=['GET']\njson_field='q'\nevidence='observed'\n", "methods.0"),
        (BODY_RULE + "methods=[]\njson_field='q'\nevidence='observed'\n", "methods"),
        (BODY_RULE + "methods=['POST']\njson_field=''\nevidence='observed'\n", "json_field"),
        (BODY_RULE + "methods=['POST']\njson_field='q'\nevidence='seen'\n", "evidence"),
        (BODY_RULE + "methods=['POST']\njson_field='q'\nevidence='observed'\nx=1\n", "x: Extra"),
        (
            "[[body]]\nname='x'\nhosts=['bad host']\npaths=['/s']\nmethods=['POST']\n"
            "json_field='q'\nevidence='observed'\n",
            "bad host pattern",
        ),
        (
            "[[body]]\nname='x'\nhosts=['x.example']\npaths=['api']\nmethods=['POST']\n"
            "json_field='q'\nevidence='observed'\n",
            "bad path pattern",
        ),
    ],
)
def test_malformed_body_rules_name_the_file(text: str, message: str) -> None:
    whole = "engine = []\n" + text + "[generic]\nparams=['q']\n"
    with pytest.raises(SearchRulesError, match=f"rules.toml: .*{message}"):
        parse_rules(whole, "rules.toml")


def test_a_file_without_body_rules_reads_no_bodies() -> None:
    rules = parse_rules("engine = []\n[generic]\nparams=['q']\n", "rules.toml")
    assert rules.bodies == () and rules.body_methods == frozenset()
