"""`decide()`: the one function that turns a request into a `Verdict`.

The proxy and `abhaya check` both call it, so what a parent sees explained is what the proxy
does.  Precedence, first match wins:

1. zero tolerance: `csam` domain lists, URL rules, search keywords and search rules -> block.
   Nothing below (allow lists, schedules, overrides) can turn this off.
2. allow lists (the profile's `allow`, then `[[allowlist]]` files) -> allow.
3. schedule: outside the profile's allowed windows -> block (reason `schedule`).
4. the profile's `block` domains -> block (reason `custom_rule`).
5. category domain lists (with their `@@` exceptions), stronger actions first -> the
   category's action for this profile (`allow` means the category is off).
6. URL-path rules: the profile's `block` paths, then category URL lists.
7. search keywords in the query of a known search engine (or a generic search parameter): the
   profile's own words first (a block, reason `custom_rule`, like its `block` sites; no
   context holds them back), then the keyword lists the profile uses, then
   the combination rules over term classes (`abhaya.filters.searchrules`), strongest action
   first.  Protective context (law, reporting, health, ...) without a seeking word holds back
   the keyword lists' hits, zero tolerance included ("... laws in india pocso").  Last, the
   query model's second opinion (`abhaya.filters.querymodel`): asked unless a protective word
   spoke or csam was found; when a keyword or rule found something else, only its csam
   judgement counts.  Its csam judgement is zero tolerance, decided at step 1.
8. safe search: a search engine request missing its safe-search setting -> rewrite.
9. otherwise allow.

The search text of step 1 and 7 is read from the URL, or given by the caller when the request
carries it in its body (YouTube's in-page search): the same precedence judges both.
"""

from __future__ import annotations

import datetime as dt

from abhaya.filters.inspect import Inspection, InspectReason, inspection
from abhaya.filters.keywords import KeywordHit
from abhaya.filters.lists.cache import CompiledList
from abhaya.filters.policy.compile import ProfileRules
from abhaya.filters.policy.model import CategoryAction
from abhaya.filters.querymodel import ModelMatch, QueryModel
from abhaya.filters.search import SearchQuery, extract_query
from abhaya.filters.searchrules import NO_JUDGEMENT, RuleMatch
from abhaya.filters.urlnorm import NormalizedUrl, UrlError, parse_url
from abhaya.filters.verdict import (
    ALLOW,
    ZERO_TOLERANCE,
    Action,
    Category,
    Reason,
    RequestInfo,
    Verdict,
)

_STRENGTH = {CategoryAction.BLOCK: 2, CategoryAction.WARN: 1, CategoryAction.ALLOW: 0}


def decide(request: RequestInfo, profile: ProfileRules, now: dt.datetime) -> Verdict:
    """Decide one request for one profile at one moment (an aware datetime)."""
    try:
        url = parse_url(request.url)
    except UrlError as err:
        return Verdict(
            Action.BLOCK,
            Reason.INVALID,
            detail=f"the address could not be understood: {err}",
            rule="url",
            source="urlnorm",
        )
    return decide_url(url, profile, now, search=request.search)


def decide_url(
    url: NormalizedUrl,
    profile: ProfileRules,
    now: dt.datetime,
    *,
    search: SearchQuery | None = None,
) -> Verdict:
    """`decide()` for a URL that is already normalised (the proxy's hot path).

    `search` is the search text found elsewhere than in the URL (a request body); without it,
    the URL's own search text, if any, is judged.
    """
    book = profile.book
    if search is None:
        search = extract_query(url.host, url.path, url.query)
    hits = book.keywords.find(search.query) if search else []
    if profile.lists_off:
        hits = [hit for hit in hits if hit.category not in profile.lists_off]
    judged = book.search_rules.judge(search.query) if search else NO_JUDGEMENT
    if judged.lists_held_by:
        hits = []
    opinion: tuple[ModelMatch, ...] = ()
    if search is not None and book.query_model is not None and not judged.guarded_by:
        opinion = _second_opinion(book.query_model, search.query, hits, judged.matches)

    # 1. zero tolerance
    for compiled in book.zero_lists:
        verdict = _list_verdict(compiled, url, profile, include_paths=True)
        if verdict is not None:
            return verdict
    for hit in hits:
        if hit.category == ZERO_TOLERANCE:
            return _keyword_verdict(
                ZERO_TOLERANCE, hit.term, hit.source, search.query if search else "", profile
            )
    for match in judged.matches:
        if match.category == ZERO_TOLERANCE:
            return _rule_verdict(match, search.query if search else "", profile)
    for opinion_match in opinion:
        if opinion_match.category == ZERO_TOLERANCE:
            return _model_verdict(opinion_match, search.query if search else "", profile)

    # 2. allow lists
    rule = profile.allow_domains.match(url.host) or profile.allow_urls.match(url)
    if rule is not None:
        return Verdict(
            Action.ALLOW,
            Reason.ALLOW_LIST,
            detail="on the allow list",
            rule=rule,
            source=f"policy:profiles.{profile.name}.allow",
        )
    for allowed in book.allow_lists:
        rule = allowed.domains.match(url.host) or allowed.url_rules.match(url)
        if rule is not None:
            return Verdict(
                Action.ALLOW,
                Reason.ALLOW_LIST,
                detail="on the allow list",
                rule=rule,
                source=allowed.source,
            )

    # 3. schedule
    if not profile.schedule.allows(now):
        return Verdict(
            Action.BLOCK,
            Reason.SCHEDULE,
            detail="outside the allowed browsing hours",
            rule="schedule",
            source=f"policy:profiles.{profile.name}.schedule",
        )

    # 4. the profile's own block list
    rule = profile.block_domains.match(url.host)
    if rule is not None:
        return _custom_block(rule, profile)

    # 5. category domain lists, stronger actions first
    for compiled in profile.lists:
        verdict = _list_verdict(compiled, url, profile, include_paths=False)
        if verdict is not None:
            return verdict

    # 6. URL-path rules
    rule = profile.block_urls.match(url)
    if rule is not None:
        return _custom_block(rule, profile)
    for compiled in profile.lists:
        rule = compiled.url_rules.match(url)
        if rule is not None:
            verdict = _category_verdict(
                Category(compiled.category),
                profile,
                Reason.LIST,
                f"page is on the {compiled.category} list",
                rule,
                compiled.source,
            )
            if verdict is not None:
                return verdict

    # 7. search keywords
    if search is not None:
        own_words = profile.own_words.find(search.query)
        if own_words:
            own = own_words[0]
            return Verdict(
                Action.BLOCK,
                Reason.CUSTOM_RULE,
                detail="search for a word on this profile's own list",
                rule=f"keyword:{own.term}",
                source=own.source,
                query=search.query,
            )
        for hit in sorted(hits, key=lambda h: -_STRENGTH[profile.action_for(Category(h.category))]):
            verdict = _keyword_verdict(
                Category(hit.category), hit.term, hit.source, search.query, profile
            )
            if verdict.action is not Action.ALLOW:
                return verdict
        for match in sorted(
            judged.matches, key=lambda m: -_STRENGTH[profile.action_for(m.category)]
        ):
            verdict = _rule_verdict(match, search.query, profile)
            if verdict.action is not Action.ALLOW:
                return verdict
        for opinion_match in sorted(
            opinion, key=lambda m: -_STRENGTH[profile.action_for(m.category)]
        ):
            verdict = _model_verdict(opinion_match, search.query, profile)
            if verdict.action is not Action.ALLOW:
                return verdict

    # 8. safe search
    if profile.safe_search:
        rewrite = book.safe_search.rewrite(url.scheme, url.host, url.port, url.path, url.query)
        if rewrite is not None:
            return Verdict(
                Action.REWRITE,
                Reason.SAFE_SEARCH,
                detail=f"safe search enforced on {rewrite.engine}",
                rule=rewrite.engine,
                source="safesearch",
                rewrite=rewrite,
            )
    return ALLOW


def inspection_of_url(url: str, profile: ProfileRules, now: dt.datetime) -> Inspection:
    """Whether the connection a browser opens for `url` is decrypted (`abhaya check`), as the
    proxy decides it: from the host's name, that name's verdict and the profile.  An address
    that cannot be understood has no name to pass by: it is inspected (and blocked)."""
    try:
        host = parse_url(url).host
    except UrlError:
        return Inspection(InspectReason.NO_NAME)
    verdict = decide(RequestInfo(f"https://{host}/"), profile, now)
    return inspection(host, host, profile, verdict)


def _second_opinion(
    model: QueryModel, query: str, hits: list[KeywordHit], matches: tuple[RuleMatch, ...]
) -> tuple[ModelMatch, ...]:
    """What the query model adds to the lists and rules: everything when they found nothing;
    when they found something short of csam, only a csam judgement (the model may raise
    "adult" to csam, never lower or replace what the rules said); nothing after a csam."""
    found = [*(hit.category for hit in hits), *(match.category for match in matches)]
    if ZERO_TOLERANCE in found:
        return ()
    opinion = model.judge(query)
    if found:
        return tuple(match for match in opinion if match.category == ZERO_TOLERANCE)
    return opinion


def _custom_block(rule: str, profile: ProfileRules) -> Verdict:
    return Verdict(
        Action.BLOCK,
        Reason.CUSTOM_RULE,
        detail="on this profile's block list",
        rule=rule,
        source=f"policy:profiles.{profile.name}.block",
    )


def _list_verdict(
    compiled: CompiledList, url: NormalizedUrl, profile: ProfileRules, include_paths: bool
) -> Verdict | None:
    category = Category(compiled.category)
    rule = compiled.domains.match(url.host)
    if rule is not None and compiled.exceptions.match(url.host) is None:
        detail = f"domain is on the {category} list"
        return _category_verdict(category, profile, Reason.LIST, detail, rule, compiled.source)
    if include_paths:
        rule = compiled.url_rules.match(url)
        if rule is not None:
            detail = f"page is on the {category} list"
            return _category_verdict(category, profile, Reason.LIST, detail, rule, compiled.source)
    return None


def _category_verdict(
    category: Category,
    profile: ProfileRules,
    reason: Reason,
    detail: str,
    rule: str,
    source: str,
    query: str = "",
) -> Verdict | None:
    """The verdict a category match gives this profile, or None when the category is off."""
    action = profile.action_for(category)
    if action is CategoryAction.ALLOW:
        return None
    settings = profile.book.categories.get(category)
    zero = category is ZERO_TOLERANCE
    return Verdict(
        Action.BLOCK if action is CategoryAction.BLOCK else Action.WARN,
        reason,
        category=category,
        detail=detail,
        rule=rule,
        source=source,
        query=query,
        ask_parent=bool(settings and settings.ask_parent) and not zero,
    )


def _keyword_verdict(
    category: Category, term: str, source: str, query: str, profile: ProfileRules
) -> Verdict:
    detail = f"search for a term on the {category} keyword list"
    return _search_verdict(
        category, Reason.KEYWORD, detail, f"keyword:{term}", source, query, profile
    )


def _rule_verdict(match: RuleMatch, query: str, profile: ProfileRules) -> Verdict:
    detail = f"search matched the {match.rule} rule ({match.describe()})"
    rule = f"rule:{match.rule}"
    return _search_verdict(
        match.category, Reason.SEARCH_RULE, detail, rule, match.source, query, profile
    )


def _model_verdict(match: ModelMatch, query: str, profile: ProfileRules) -> Verdict:
    detail = f"the query model judged this search {match.category} ({match.describe()})"
    rule = f"model:{match.category}={match.score:.2f}"
    return _search_verdict(match.category, Reason.MODEL, detail, rule, match.model, query, profile)


def _search_verdict(
    category: Category,
    reason: Reason,
    detail: str,
    rule: str,
    source: str,
    query: str,
    profile: ProfileRules,
) -> Verdict:
    """A search judgement as this profile's verdict; an allow when the category is off."""
    verdict = _category_verdict(category, profile, reason, detail, rule, source, query)
    return verdict if verdict is not None else ALLOW
