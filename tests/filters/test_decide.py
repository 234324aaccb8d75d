"""Precedence of `decide()`, as a table over a real compiled policy (see tests/conftest.py)."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest

from abhaya.filters.decide import decide
from abhaya.filters.policy.compile import CompiledPolicy, load_policy
from abhaya.filters.search import SearchQuery
from abhaya.filters.verdict import Action, Category, Reason, RequestInfo
from tests.conftest import MONDAY_MORNING

# Monday 21:00 in Asia/Kolkata: outside the `night` profile's 16:00-20:00 window.
MONDAY_NIGHT = dt.datetime(2026, 11, 30, 15, 30, tzinfo=dt.UTC)
MONDAY_EVENING = dt.datetime(2026, 11, 30, 12, 30, tzinfo=dt.UTC)  # 18:00 local


@pytest.fixture(scope="module")
def compiled(tmp_path_factory: pytest.TempPathFactory) -> CompiledPolicy:
    from tests.conftest import write_policy

    return load_policy(write_policy(tmp_path_factory.mktemp("policy")))


CASES = [
    # zero tolerance beats the allow list that names the same domain
    (
        "child",
        "https://csam-test.invalid/",
        Action.BLOCK,
        Reason.LIST,
        Category.CSAM,
        "csam-test.invalid",
    ),
    (
        "child",
        "http://www.csam-test.invalid./x",
        Action.BLOCK,
        Reason.LIST,
        Category.CSAM,
        "csam-test.invalid",
    ),
    # ... and a csam keyword beats the allow-listed search engine
    (
        "child",
        "https://www.google.com/search?q=Zanzibar+QU0KKA",
        Action.BLOCK,
        Reason.KEYWORD,
        Category.CSAM,
        "keyword:zanzibar quokka",
    ),
    (
        "teen",
        "https://duckduckgo.com/?q=zanzibar+quokka",
        Action.BLOCK,
        Reason.KEYWORD,
        Category.CSAM,
        "keyword:zanzibar quokka",
    ),
    # allow lists beat category lists
    (
        "child",
        "https://allowed-adult.adult.example/",
        Action.ALLOW,
        Reason.ALLOW_LIST,
        None,
        "allowed-adult.adult.example",
    ),
    (
        "child",
        "https://school.example/homework",
        Action.ALLOW,
        Reason.ALLOW_LIST,
        None,
        "school.example",
    ),
    # the profile's own block list
    (
        "child",
        "https://www.custom.example/",
        Action.BLOCK,
        Reason.CUSTOM_RULE,
        None,
        "custom.example",
    ),
    (
        "child",
        "https://wiki.example/private/page",
        Action.BLOCK,
        Reason.CUSTOM_RULE,
        None,
        "wiki.example/private",
    ),
    ("child", "https://wiki.example/public", Action.ALLOW, Reason.NO_MATCH, None, ""),
    # category domain lists, suffix matching, several list formats
    ("child", "https://adult.example/", Action.BLOCK, Reason.LIST, Category.ADULT, "adult.example"),
    (
        "child",
        "https://WWW.Adult.Example:443/x",
        Action.BLOCK,
        Reason.LIST,
        Category.ADULT,
        "adult.example",
    ),
    ("child", "https://notadult.example/", Action.ALLOW, Reason.NO_MATCH, None, ""),
    (
        "child",
        "https://google.com@adult.example/",
        Action.BLOCK,
        Reason.LIST,
        Category.ADULT,
        "adult.example",
    ),
    (
        "child",
        "http://casino.example/",
        Action.BLOCK,
        Reason.LIST,
        Category.GAMBLING,
        "casino.example",
    ),
    (
        "child",
        "https://proxy.example/",
        Action.BLOCK,
        Reason.LIST,
        Category.ANONYMIZERS,
        "proxy.example",
    ),
    ("child", "https://ok.proxy.example/", Action.ALLOW, Reason.NO_MATCH, None, ""),  # @@ exception
    (
        "child",
        "https://gore.example/",
        Action.BLOCK,
        Reason.LIST,
        Category.VIOLENCE,
        "gore.example",
    ),
    # per-profile overrides: allow turns a category off, warn softens it
    ("teen", "https://adult.example/", Action.ALLOW, Reason.NO_MATCH, None, ""),
    ("teen", "https://bet.example/", Action.WARN, Reason.LIST, Category.GAMBLING, "bet.example"),
    # URL-path rules
    (
        "child",
        "https://news.example/graphic/1",
        Action.BLOCK,
        Reason.LIST,
        Category.VIOLENCE,
        "news.example/graphic",
    ),
    ("child", "https://news.example/graphical", Action.ALLOW, Reason.NO_MATCH, None, ""),
    # search keywords
    (
        "child",
        "https://www.bing.com/search?q=online+c4sino",
        Action.BLOCK,
        Reason.KEYWORD,
        Category.GAMBLING,
        "keyword:online casino",
    ),
    (
        "child",
        "https://duckduckgo.com/?q=i+want+to+vanish+forever",
        Action.WARN,
        Reason.KEYWORD,
        Category.SELF_HARM,
        "keyword:want to vanish forever",
    ),
    (
        "teen",
        "https://www.bing.com/search?q=satta+matka",
        Action.WARN,
        Reason.KEYWORD,
        Category.GAMBLING,
        "keyword:satta matka",
    ),
    (
        "child",
        "https://example.org/search?q=online+casino",
        Action.BLOCK,
        Reason.KEYWORD,
        Category.GAMBLING,
        "keyword:online casino",
    ),
    # search rules: a csam rule beats the allow-listed engine and the teen's adult allow
    (
        "child",
        "https://www.google.com/search?q=k1d+nud3s",
        Action.BLOCK,
        Reason.SEARCH_RULE,
        Category.CSAM,
        "rule:minor-sexual",
    ),
    (
        "teen",
        "https://duckduckgo.com/?q=nudes+13yo",
        Action.BLOCK,
        Reason.SEARCH_RULE,
        Category.CSAM,
        "rule:age-sexual",
    ),
    ("teen", "https://duckduckgo.com/?q=nude+pics", Action.ALLOW, Reason.NO_MATCH, None, ""),
    (
        "child",
        "https://www.bing.com/search?q=nude+pics",
        Action.BLOCK,
        Reason.SEARCH_RULE,
        Category.ADULT,
        "rule:sexual-seeking",
    ),
    (
        "teen",
        "https://duckduckgo.com/?q=how+to+hang+yourself",
        Action.WARN,
        Reason.SEARCH_RULE,
        Category.SELF_HARM,
        "rule:self-method",
    ),
    # ... protective context holds back keyword hits, zero tolerance too, unless seeking words
    (
        "teen",
        "https://duckduckgo.com/?q=zanzibar+quokka+laws",
        Action.ALLOW,
        Reason.NO_MATCH,
        None,
        "",
    ),
    (
        "teen",
        "https://duckduckgo.com/?q=zanzibar+quokka+laws+links",
        Action.BLOCK,
        Reason.KEYWORD,
        Category.CSAM,
        "keyword:zanzibar quokka",
    ),
    (
        "teen",
        "https://duckduckgo.com/?q=online+casino+addiction+help",
        Action.ALLOW,
        Reason.NO_MATCH,
        None,
        "",
    ),
    # safe search
    (
        "child",
        "https://www.bing.com/search?q=weather",
        Action.REWRITE,
        Reason.SAFE_SEARCH,
        None,
        "bing",
    ),
    ("teen", "https://www.bing.com/search?q=weather", Action.ALLOW, Reason.NO_MATCH, None, ""),
    # nothing matched
    ("child", "https://example.org/", Action.ALLOW, Reason.NO_MATCH, None, ""),
    # an address that cannot be understood is not let through
    ("child", "http://exa mple.org/", Action.BLOCK, Reason.INVALID, None, "url"),
]


@pytest.mark.parametrize(("profile", "url", "action", "reason", "category", "rule"), CASES)
def test_precedence(
    compiled: CompiledPolicy,
    profile: str,
    url: str,
    action: Action,
    reason: Reason,
    category: Category | None,
    rule: str,
) -> None:
    verdict = decide(RequestInfo(url), compiled.profile(profile), MONDAY_MORNING)
    assert (verdict.action, verdict.reason, verdict.category, verdict.rule) == (
        action,
        reason,
        category,
        rule,
    )


@pytest.mark.parametrize(
    ("url", "now", "action", "reason"),
    [
        ("https://example.org/", MONDAY_EVENING, Action.ALLOW, Reason.NO_MATCH),
        ("https://example.org/", MONDAY_NIGHT, Action.BLOCK, Reason.SCHEDULE),
        ("https://school.example/", MONDAY_NIGHT, Action.ALLOW, Reason.ALLOW_LIST),
        ("https://csam-test.invalid/", MONDAY_EVENING, Action.BLOCK, Reason.LIST),
        ("https://adult.example/", MONDAY_EVENING, Action.BLOCK, Reason.LIST),
    ],
)
def test_schedule_in_precedence(
    compiled: CompiledPolicy, url: str, now: dt.datetime, action: Action, reason: Reason
) -> None:
    verdict = decide(RequestInfo(url), compiled.profile("night"), now)
    assert (verdict.action, verdict.reason) == (action, reason)


def test_verdict_explains_itself(compiled: CompiledPolicy) -> None:
    verdict = decide(RequestInfo("https://www.adult.example/"), compiled.profile(), MONDAY_MORNING)
    assert (verdict.reason, verdict.category) == (Reason.LIST, Category.ADULT)
    assert verdict.detail == "domain is on the adult list"
    assert Path(verdict.source).name == "adult.txt"


def test_ask_parent_follows_the_category(compiled: CompiledPolicy) -> None:
    gambling = decide(RequestInfo("https://bet.example/"), compiled.profile(), MONDAY_MORNING)
    adult = decide(RequestInfo("https://adult.example/"), compiled.profile(), MONDAY_MORNING)
    assert gambling.ask_parent and not adult.ask_parent


def test_safe_search_rewrite_carries_the_new_url(compiled: CompiledPolicy) -> None:
    verdict = decide(
        RequestInfo("https://www.bing.com/search?q=weather&adlt=off"),
        compiled.profile(),
        MONDAY_MORNING,
    )
    assert verdict.rewrite is not None
    assert "adlt=strict" in verdict.rewrite.url
    assert "adlt=off" not in verdict.rewrite.url
    assert verdict.query == ""


LONG_QUERY = "https://www.bing.com/search?q=" + "a%20" * 16000 + "online+casino"


@pytest.mark.parametrize(
    ("url", "action", "reason", "category"),
    [
        (LONG_QUERY, Action.BLOCK, Reason.KEYWORD, Category.GAMBLING),
        (
            "https://www.bing.com/search?q=%ff%fe%00online%20casino",
            Action.BLOCK,
            Reason.KEYWORD,
            Category.GAMBLING,
        ),
        ("https://adult.example/%00", Action.BLOCK, Reason.LIST, Category.ADULT),
        ("http://[::1]:99999/", Action.BLOCK, Reason.INVALID, None),
        ("http://%zz/", Action.BLOCK, Reason.INVALID, None),
        ("\x00", Action.BLOCK, Reason.INVALID, None),
    ],
)
def test_hostile_urls_are_decided(
    compiled: CompiledPolicy, url: str, action: Action, reason: Reason, category: Category | None
) -> None:
    verdict = decide(RequestInfo(url), compiled.profile(), MONDAY_MORNING)
    assert (verdict.action, verdict.reason, verdict.category) == (action, reason, category)


BODY_SEARCH = "https://www.youtube.com/youtubei/v1/search?prettyPrint=false"


@pytest.mark.parametrize(
    ("url", "query", "action", "reason", "category"),
    [
        # the same precedence as a URL search: zero tolerance beats the allow list ...
        (
            "https://www.google.com/youtubei/v1/search",
            "Zanzibar QU0KKA",
            Action.BLOCK,
            Reason.KEYWORD,
            Category.CSAM,
        ),
        (BODY_SEARCH, "zanzibar quokka videos", Action.BLOCK, Reason.KEYWORD, Category.CSAM),
        # ... the keyword lists and the combination rules judge the given text ...
        (BODY_SEARCH, "online casino", Action.BLOCK, Reason.KEYWORD, Category.GAMBLING),
        (BODY_SEARCH, "12yo nude pics", Action.BLOCK, Reason.SEARCH_RULE, Category.CSAM),
        # ... and protective context lets a search about the law pass (safe search still holds)
        (
            BODY_SEARCH,
            "zanzibar quokka laws in india pocso",
            Action.REWRITE,
            Reason.SAFE_SEARCH,
            None,
        ),
        (BODY_SEARCH, "rain songs", Action.REWRITE, Reason.SAFE_SEARCH, None),
        # an allow-listed host with an innocent search stays allowed
        ("https://www.google.com/x", "rain songs", Action.ALLOW, Reason.ALLOW_LIST, None),
    ],
)
def test_a_search_given_by_the_caller_is_judged_like_one_in_the_url(
    compiled: CompiledPolicy,
    url: str,
    query: str,
    action: Action,
    reason: Reason,
    category: Category | None,
) -> None:
    verdict = decide(
        RequestInfo(url, "POST", search=SearchQuery("youtube", query)),
        compiled.profile(),
        MONDAY_MORNING,
    )
    assert (verdict.action, verdict.reason, verdict.category) == (action, reason, category)
    if verdict.stops:
        assert verdict.query == query


def test_without_a_given_search_the_url_is_read(compiled: CompiledPolicy) -> None:
    """The body search's address alone holds no search text: only safe search applies."""
    verdict = decide(RequestInfo(BODY_SEARCH, "POST"), compiled.profile(), MONDAY_MORNING)
    assert (verdict.action, verdict.reason) == (Action.REWRITE, Reason.SAFE_SEARCH)


OWN_WORDS = """\
[profiles.child.keywords]
words = ["Blue Pelican", "kazoo"]
lists_off = ["gambling"]
"""


@pytest.fixture(scope="module")
def own_words(tmp_path_factory: pytest.TempPathFactory) -> CompiledPolicy:
    """The test policy with the child's own words and its gambling keyword list off."""
    from tests.conftest import POLICY, write_policy

    policy = POLICY.replace("[profiles.teen]", f"{OWN_WORDS}\n[profiles.teen]")
    return load_policy(write_policy(tmp_path_factory.mktemp("own"), policy))


@pytest.mark.parametrize(
    ("profile", "url", "action", "reason", "category", "rule"),
    [
        # a child's own word, however it is spelled, is the parent's own rule
        (
            "child",
            "https://www.bing.com/search?q=where+to+buy+a+KAZ00",
            Action.BLOCK,
            Reason.CUSTOM_RULE,
            None,
            "keyword:kazoo",
        ),
        (
            "child",
            "https://duckduckgo.com/?q=blue+pelican+game",
            Action.BLOCK,
            Reason.CUSTOM_RULE,
            None,
            "keyword:Blue Pelican",
        ),
        # whole words only, and only for the profile that names them
        (
            "child",
            "https://www.bing.com/search?q=kazoos+and+blue",
            Action.REWRITE,  # nothing matched: the child's safe search is all that is done
            Reason.SAFE_SEARCH,
            None,
            "bing",
        ),
        ("teen", "https://www.bing.com/search?q=kazoo", Action.ALLOW, Reason.NO_MATCH, None, ""),
        # the gambling list is off for the child, on for the teen (who is warned)
        (
            "child",
            "https://www.bing.com/search?q=online+casino",
            Action.REWRITE,
            Reason.SAFE_SEARCH,
            None,
            "bing",
        ),
        (
            "teen",
            "https://www.bing.com/search?q=online+casino",
            Action.WARN,
            Reason.KEYWORD,
            Category.GAMBLING,
            "keyword:online casino",
        ),
        # the csam list is never off, and beats the child's own word
        (
            "child",
            "https://www.bing.com/search?q=kazoo+zanzibar+quokka",
            Action.BLOCK,
            Reason.KEYWORD,
            Category.CSAM,
            "keyword:zanzibar quokka",
        ),
        # a site on the child's allow list is allowed whatever its search says
        (
            "child",
            "https://www.google.com/search?q=kazoo",
            Action.ALLOW,
            Reason.ALLOW_LIST,
            None,
            "www.google.com",
        ),
    ],
)
def test_a_profiles_own_words_and_lists_off(
    own_words: CompiledPolicy,
    profile: str,
    url: str,
    action: Action,
    reason: Reason,
    category: Category | None,
    rule: str,
) -> None:
    verdict = decide(RequestInfo(url), own_words.profile(profile), MONDAY_MORNING)
    assert (verdict.action, verdict.reason, verdict.category, verdict.rule) == (
        action,
        reason,
        category,
        rule,
    )


def test_an_own_word_verdict_explains_itself(own_words: CompiledPolicy) -> None:
    verdict = decide(
        RequestInfo("https://www.bing.com/search?q=kazoo"),
        own_words.profile("child"),
        MONDAY_MORNING,
    )
    assert verdict.source == "policy:profiles.child.keywords.words"
    assert verdict.query == "kazoo"
    assert verdict.detail == "search for a word on this profile's own list"
