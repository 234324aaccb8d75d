"""Turning a validated policy into the frozen structures that `decide()` reads.

Everything expensive happens here, once per load: list files are parsed (or read from the
compiled cache), keywords are built into one automaton, allow and block entries are normalised.
The result is immutable, so the proxy can swap a new one in with a single assignment and a
request in flight always sees one whole policy, never half of two.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from types import MappingProxyType
from zoneinfo import ZoneInfo

from abhaya.filters.chatwire.generic import DEFAULT_FIELDS, JsonFields
from abhaya.filters.chatwire.sites import ChatRules, ChatSite, ChatSites
from abhaya.filters.domainset import DomainSet, UrlRuleSet
from abhaya.filters.inspect import InspectPlan
from abhaya.filters.keywords import (
    KeywordEntry,
    KeywordLoadError,
    KeywordMatcher,
    parse_keyword_file,
)
from abhaya.filters.lists.cache import CompiledList, load_list
from abhaya.filters.lists.hashlist import parse_hash_list
from abhaya.filters.lists.narrow import Narrowed, split_public_suffixes, split_url_rules
from abhaya.filters.lists.parse import ListFormat, ListLoadError
from abhaya.filters.pdqmatch import HashList, HashMatcher
from abhaya.filters.policy.load import PolicyError, default_policy_path, read_policy
from abhaya.filters.policy.model import (
    ZERO_TOLERANCE,
    Category,
    CategoryAction,
    ChatSettings,
    ImageAction,
    Policy,
    UnscannableAction,
)
from abhaya.filters.policy.schedule import Schedule
from abhaya.filters.querymodel import QueryModel, QueryScorer
from abhaya.filters.safesearch import SafeSearchRules
from abhaya.filters.searchrules import SearchRules
from abhaya.filters.urlnorm import UrlError, normalize_host, parse_url


@dataclass(frozen=True, slots=True)
class CategoryRule:
    name: Category
    action: CategoryAction
    ask_parent: bool
    allow_continue: bool


@dataclass(frozen=True, slots=True)
class Rulebook:
    """The parts of a policy shared by every profile."""

    categories: Mapping[Category, CategoryRule]
    zero_lists: tuple[CompiledList, ...]
    """The zero-tolerance (csam) lists, checked before anything else."""
    allow_lists: tuple[CompiledList, ...]
    """`[[allowlist]]` files."""
    keywords: KeywordMatcher
    search_rules: SearchRules
    """Combination rules over term classes (`abhaya.filters.searchrules`)."""
    safe_search: SafeSearchRules
    jurisdiction: str
    zone: ZoneInfo
    query_model: QueryModel | None = None
    """The search-query model with this policy's thresholds; None when the policy turns it
    off or the caller gave no loader (the filters' own tests)."""
    chat: ChatRules = field(default_factory=ChatRules)
    """Whether chat traffic is read, and the chat sites (Abhaya's and the policy's)."""
    inspect: InspectPlan = field(default_factory=InspectPlan)
    """Which TLS connections are decrypted (`[inspect]`, see `abhaya.filters.inspect`)."""


@dataclass(frozen=True, slots=True)
class ChatWatching:
    """One profile's chat watch: whether its chats are read, and what raises an alert."""

    enabled: bool = True
    """`[chat] enabled` and the profile's own `chat.enabled`."""
    thresholds: Mapping[str, float] = field(default_factory=lambda: MappingProxyType({}))
    """Message-label thresholds replacing the model's own, label by label."""
    grooming_alert: float | None = None
    """The profile's, else `[chat]`'s; None keeps the tracker's own."""
    keep_text: bool = True
    """Whether flagged messages are kept with their words (`[chat] keep_text`)."""


@dataclass(frozen=True, slots=True)
class ImageScreening:
    """One profile's image screening: `[images]` with the profile's own `images`."""

    enabled: bool = True
    """Whether the classifier screens this profile's images (hash lists always apply)."""
    threshold: float | None = None
    """None: the model's own default threshold."""
    action: ImageAction = ImageAction.BLUR
    unscannable: UnscannableAction = UnscannableAction.BLOCK
    page_share: float = 0.5
    page_min_images: int = 6

    def threshold_or(self, default: float) -> float:
        """The score from which an image is flagged: the policy's, else the model's `default`."""
        return self.threshold if self.threshold is not None else default


@dataclass(frozen=True, slots=True)
class ProfileRules:
    """One profile's view of the policy: what `decide()` is given."""

    name: str
    language: str
    safe_search: bool
    allow_domains: DomainSet
    allow_urls: UrlRuleSet
    block_domains: DomainSet
    block_urls: UrlRuleSet
    actions: Mapping[Category, CategoryAction]
    lists: tuple[CompiledList, ...]
    """Other category lists this profile enforces, stronger actions first, then policy order."""
    schedule: Schedule
    book: Rulebook
    chat: ChatWatching = field(default_factory=lambda: ChatWatching())
    """How this child's chats are watched (`[chat]` with the profile's own `chat`)."""
    images: ImageScreening = field(default_factory=lambda: ImageScreening())
    """How this child's images are screened (`[images]` with the profile's own `images`)."""
    path_hosts: DomainSet = field(default_factory=DomainSet.empty)
    """Hosts with URL-path rules in this profile's allow or block or in a list it enforces:
    their connections are decrypted so each address can be checked (`filters.inspect`)."""
    own_words: KeywordMatcher = field(default_factory=KeywordMatcher.empty)
    """This profile's own search words (`keywords.words`): a search with one is blocked."""
    lists_off: frozenset[str] = frozenset()
    """Categories whose keyword-list hits this profile ignores (`keywords.lists_off`)."""

    def action_for(self, category: Category) -> CategoryAction:
        """This profile's action for a category; csam is block whatever else is configured."""
        if category == ZERO_TOLERANCE:
            return CategoryAction.BLOCK
        return self.actions.get(category, CategoryAction.BLOCK)


@dataclass(frozen=True, slots=True)
class CompiledPolicy:
    source: str
    policy: Policy
    book: Rulebook
    profiles: Mapping[str, ProfileRules]
    default_profile: str
    users: Mapping[str, ProfileRules]
    """OS account name -> the profile that names it under `users`."""
    problems: tuple[str, ...]
    """Skipped list and keyword lines, as `file:line: message: text`, for the parent to see."""
    inputs: tuple[Path, ...]
    """The policy file and every list it names: what a reload watches for changes."""
    notices: tuple[str, ...] = ()
    """List and allow entries that are public suffixes and so cover one host only (see
    `abhaya.filters.lists.narrow`): not errors, but the parent should know."""
    hashes: HashMatcher = field(default_factory=HashMatcher)
    """The `[[hashlist]]` files, indexed: known images an image's PDQ hash is checked against
    (no lists: a matcher that matches nothing)."""

    def profile(self, name: str | None = None) -> ProfileRules:
        """The named profile, or the default; an unknown name is an error, never a silent allow."""
        key = name or self.default_profile
        try:
            return self.profiles[key]
        except KeyError:
            raise PolicyError(self.source, [f"no profile named {key!r}"]) from None

    def profile_for_user(self, user: str) -> ProfileRules:
        """The profile of an OS account; a request no account was found for ("") or an
        account no profile names gets the default profile, which a policy can make strictest."""
        found = self.users.get(user) if user else None
        return found if found is not None else self.profile()


ScorerLoader = Callable[[], QueryScorer]
"""Loads the query model (`abhaya.models.querymodel.load_query_model`); called only when the
policy turns the model on, so a policy without it never pays for loading it."""


def load_policy(
    path: Path | None = None, cache_dir: Path | None = None, scorer: ScorerLoader | None = None
) -> CompiledPolicy:
    """Read, validate and compile a policy file (the embedded default when `path` is None)."""
    source = path or default_policy_path()
    return compile_policy(read_policy(source), source, cache_dir, scorer)


def compile_policy(
    policy: Policy,
    source: Path,
    cache_dir: Path | None = None,
    scorer: ScorerLoader | None = None,
) -> CompiledPolicy:
    """Compile a validated policy; list paths are relative to the policy file's folder.

    `scorer` loads the query model; the policy decides whether it is used and with which
    thresholds.  A model the policy asks for that cannot be loaded refuses the policy: the
    searches it would judge are not to pass on the rules alone unnoticed."""
    base = source.parent
    where = str(source)
    problems: list[str] = []
    narrowed: list[Narrowed] = []
    lists: list[CompiledList] = []
    try:
        for ref in policy.blocklist:
            compiled = load_list(
                _resolve(base, ref.path), ref.category, ListFormat(ref.format), cache_dir
            )
            problems.extend(str(problem) for problem in compiled.problems)
            lists.append(compiled)
        allowed = [
            load_list(_resolve(base, ref.path), "allowlist", ListFormat(ref.format), cache_dir)
            for ref in policy.allowlist
        ]
    except ListLoadError as err:
        raise PolicyError(where, [str(err)]) from err
    for compiled in allowed:
        problems.extend(str(problem) for problem in compiled.problems)
    for compiled in (*lists, *allowed):
        narrowed.extend(compiled.narrowed)

    entries: list[KeywordEntry] = []
    for keyword_ref in policy.keywords:
        try:
            found, keyword_problems = parse_keyword_file(
                _resolve(base, keyword_ref.path), keyword_ref.category
            )
        except KeywordLoadError as err:
            raise PolicyError(where, [str(err)]) from err
        entries.extend(found)
        problems.extend(str(problem) for problem in keyword_problems)
    hashes = compile_hash_lists(policy, base, where, problems)

    always, always_urls = _entries(policy.inspect.always, where, "inspect.always")
    never_entries = (*policy.passthrough, *policy.inspect.never)
    never, never_urls = _entries(never_entries, where, "inspect.never", narrowed)
    if len(always_urls) or len(never_urls):
        raise PolicyError(where, ["inspect: entries are domains, not paths"])

    query_model = None
    if scorer is not None and policy.search_model.enabled:
        try:
            loaded = scorer()
        except Exception as err:  # any failure to load: refuse, with the loader's reason
            raise PolicyError(where, [f"the query model could not be loaded: {err}"]) from err
        query_model = QueryModel.with_overrides(loaded, policy.search_model.thresholds)

    zone = ZoneInfo(policy.timezone)
    categories = {
        name: CategoryRule(name, rule.action, rule.ask_parent, rule.allow_continue)
        for name, rule in policy.categories.items()
    }
    categories.setdefault(
        ZERO_TOLERANCE, CategoryRule(ZERO_TOLERANCE, CategoryAction.BLOCK, False, False)
    )
    chat = compile_chat(policy.chat)
    book = Rulebook(
        categories=MappingProxyType(categories),
        zero_lists=tuple(item for item in lists if item.category == ZERO_TOLERANCE),
        allow_lists=tuple(allowed),
        keywords=KeywordMatcher.build(entries),
        search_rules=SearchRules.load_default(),
        safe_search=SafeSearchRules.load_default(),
        jurisdiction=policy.jurisdiction,
        zone=zone,
        query_model=query_model,
        chat=chat,
        inspect=InspectPlan.build(
            policy.inspect.mode, always, never, chat.sites, bool(policy.hashlist)
        ),
    )
    profiles: dict[str, ProfileRules] = {}
    for name, profile in policy.profiles.items():
        allow_d, allow_u = _entries(profile.allow, where, f"profiles.{name}.allow", narrowed)
        block_d, block_u = _entries(profile.block, where, f"profiles.{name}.block")
        actions = {category: rule.action for category, rule in categories.items()}
        actions.update(profile.categories)
        enforced = sorted(  # stable sort: policy order kept within one action
            (
                item
                for item in lists
                if item.category != ZERO_TOLERANCE
                and actions[Category(item.category)] is not CategoryAction.ALLOW
            ),
            key=lambda item: actions[Category(item.category)] is not CategoryAction.BLOCK,
        )
        profiles[name] = ProfileRules(
            name=name,
            language=profile.language,
            safe_search=profile.safe_search,
            allow_domains=allow_d,
            allow_urls=allow_u,
            block_domains=block_d,
            block_urls=block_u,
            actions=MappingProxyType(actions),
            lists=tuple(enforced),
            path_hosts=_path_hosts(
                (
                    allow_u,
                    block_u,
                    *(item.url_rules for item in (*book.zero_lists, *enforced, *allowed)),
                )
            ),
            schedule=Schedule.compile(profile.schedule, zone),
            book=book,
            own_words=KeywordMatcher.build(
                KeywordEntry(word, "", f"policy:profiles.{name}.keywords.words")
                for word in profile.keywords.words
            ),
            lists_off=frozenset(profile.keywords.lists_off) - {ZERO_TOLERANCE},
            chat=ChatWatching(
                enabled=policy.chat.enabled and profile.chat.enabled,
                thresholds=MappingProxyType(dict(policy.chat.thresholds)),
                grooming_alert=(
                    profile.chat.grooming_alert
                    if profile.chat.grooming_alert is not None
                    else policy.chat.grooming_alert
                ),
                keep_text=policy.chat.keep_text,
            ),
            images=ImageScreening(
                enabled=policy.images.enabled and profile.images.enabled,
                threshold=(
                    profile.images.threshold
                    if profile.images.threshold is not None
                    else policy.images.threshold
                ),
                action=profile.images.action or policy.images.action,
                unscannable=policy.images.unscannable,
                page_share=policy.images.page_share,
                page_min_images=policy.images.page_min_images,
            ),
        )
    return CompiledPolicy(
        source=where,
        policy=policy,
        book=book,
        profiles=MappingProxyType(profiles),
        default_profile=policy.default_profile,
        users=MappingProxyType(
            {user: profiles[name] for name, item in policy.profiles.items() for user in item.users}
        ),
        problems=tuple(problems),
        inputs=(source, *(_resolve(base, path) for path in _named_paths(policy))),
        notices=tuple(str(notice) for notice in narrowed),
        hashes=hashes,
    )


def compile_hash_lists(policy: Policy, base: Path, where: str, problems: list[str]) -> HashMatcher:
    """Read and index the `[[hashlist]]` files; their bad lines are added to `problems`.  A
    file that cannot be read refuses the policy, like a missing block list: a known-image list
    must never be silently absent."""
    lists = []
    for ref in policy.hashlist:
        try:
            parsed = parse_hash_list(_resolve(base, ref.path))
        except ListLoadError as err:
            raise PolicyError(where, [str(err)]) from err
        problems.extend(str(problem) for problem in parsed.problems)
        if parsed.problems_not_listed:
            problems.append(f"{parsed.source}: {parsed.problems_not_listed} more bad lines")
        lists.append(
            HashList(
                name=ref.name or parsed.name,
                version=parsed.version,
                category=ref.category,
                hashes=parsed.hashes,
                labels=parsed.labels,
                source=parsed.source,
            )
        )
    return HashMatcher.build(lists)


def compile_chat(settings: ChatSettings) -> ChatRules:
    """The `[chat]` section with Abhaya's chat sites, the policy's matched first."""
    added = [
        ChatSite.make(
            rule.site_name,
            rule.adapter,
            (rule.host,),
            rule.paths,
            rule.websocket_paths,
            JsonFields(
                rule.text_fields or DEFAULT_FIELDS.text,
                rule.thread_fields or DEFAULT_FIELDS.thread,
                rule.sender_fields or DEFAULT_FIELDS.sender,
            ),
        )
        for rule in settings.sites
    ]
    return ChatRules(settings.enabled, ChatSites.load_default().with_first(added))


def _path_hosts(rule_sets: Iterable[UrlRuleSet]) -> DomainSet:
    """The hosts some URL-path rule names, as one set looked up once per connection."""
    covering: list[str] = []
    exact: list[str] = []
    for rules in rule_sets:
        hosts, exact_hosts = rules.hosts()
        covering.extend(hosts)
        exact.extend(exact_hosts)
    return DomainSet.build(covering, exact)


def _named_paths(policy: Policy) -> list[str]:
    paths = [ref.path for ref in policy.blocklist]
    paths += [ref.path for ref in policy.allowlist]
    paths += [ref.path for ref in policy.keywords]
    paths += [ref.path for ref in policy.hashlist]
    return paths


def _resolve(base: Path, relative: str) -> Path:
    path = Path(relative).expanduser()
    return path if path.is_absolute() else base / path


def _entries(
    values: Iterable[str], where: str, setting: str, narrowed: list[Narrowed] | None = None
) -> tuple[DomainSet, UrlRuleSet]:
    """Split policy entries into domains and domain/path rules, normalising both.

    With `narrowed` (the allow side: passthrough and profile allows), a domain that is a public
    suffix covers that host only, and a notice is added: allowing `github.io` must not allow
    every site under it.  A profile's `block` entries are the parent's own and kept as written.
    """
    domains: list[str] = []
    rules: list[str] = []
    for value in values:
        text = value.strip()
        try:
            if "/" in text.removeprefix("http://").removeprefix("https://"):
                url = parse_url(text)
                rules.append(url.host_path)
            else:
                domains.append(normalize_host(text.removeprefix("*.").lstrip(".")))
        except UrlError as err:
            raise PolicyError(
                where, [f"{setting}: {value!r} is not a domain or URL: {err}"]
            ) from err
    if narrowed is None:
        return DomainSet.build(domains), UrlRuleSet.build(rules)
    covering, exact = split_public_suffixes(domains)
    covering_rules, exact_rules = split_url_rules(rules)
    notice = Narrowed.of(f"{where}: {setting}", [*exact, *exact_rules])
    if notice is not None:
        narrowed.append(notice)
    return DomainSet.build(covering, exact), UrlRuleSet.build(covering_rules, exact_rules)
