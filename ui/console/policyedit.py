"""The Rules page's edits to the policy file, made without losing the parent's comments.

The policy is a file a parent or a school writes by hand, with comments and an order of its
own; the page must change only what the parent changed on it.  So the text is read twice: with
`tomllib` into the plain `PolicyRules` the page shows, and with `tomlkit` (which keeps comments,
blank lines and the order of keys) to write.  `write_rules` compares each setting with what the
text already says and touches only those that differ, so an unchanged page gives back the very
same text.  Nothing here validates: the agent checks the whole policy when it is applied, and
its refusal is what the parent sees.  Pure, Qt-free and API-free.
"""

from __future__ import annotations

import tomllib
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, fields, replace
from typing import Any, cast

import tomlkit
from tomlkit.container import Container
from tomlkit.items import AoT, Array, InlineTable, Table

from abhaya.filters.policy.model import EventSettings, InspectMode, InspectSettings

DAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
SITE_LISTS = ("allow", "block")
"""A profile's own lists of sites: always allowed, always blocked."""
ACTIONS = ("allow", "warn", "block")
IMAGE_ACTIONS = ("blur", "block", "log")
ZERO_TOLERANCE = "csam"
"""Always blocked: the page shows it and offers no change (filters/policy/model.py)."""


class PolicyEditError(ValueError):
    """The policy text is not TOML the page can read; the message says where."""


@dataclass(frozen=True, slots=True)
class CategorySetting:
    """`[categories.NAME]`: the action for every child, and what the warning page offers."""

    name: str
    action: str = "block"
    ask_parent: bool = False
    allow_continue: bool = False


@dataclass(frozen=True, slots=True)
class Window:
    """A time window when browsing is allowed (`[[profiles.NAME.schedule]]`)."""

    days: tuple[str, ...]
    start: str
    end: str


@dataclass(frozen=True, slots=True)
class KeywordList:
    """A `[[keywords]]` list: the searches of a category it names, for every profile."""

    category: str
    path: str


@dataclass(frozen=True, slots=True)
class ProfileSettings:
    """What the page edits of one `[profiles.NAME]`; None means "as for every child"."""

    name: str
    safe_search: bool = True
    allow: tuple[str, ...] = ()
    block: tuple[str, ...] = ()
    overrides: Mapping[str, str] = field(default_factory=dict)
    """Category name -> this child's own action (`categories = { violence = "warn" }`)."""
    schedule: tuple[Window, ...] = ()
    images_enabled: bool = True
    images_threshold: float | None = None
    images_action: str | None = None
    chat_enabled: bool = True
    chat_grooming_alert: float | None = None
    words: tuple[str, ...] = ()
    """This child's own search words (`[profiles.NAME.keywords] words`)."""
    lists_off: tuple[str, ...] = ()
    """Categories whose keyword lists this child does not use (`keywords.lists_off`)."""


@dataclass(frozen=True, slots=True)
class PolicyRules:
    categories: tuple[CategorySetting, ...]
    profiles: tuple[ProfileSettings, ...]
    default_profile: str
    keyword_lists: tuple[KeywordList, ...] = ()
    timezone: str = "UTC"
    """The zone the schedule's times are in (the policy's `timezone`)."""

    def profile(self, name: str) -> ProfileSettings:
        return next(p for p in self.profiles if p.name == name)


def _table(value: object) -> Mapping[str, Any]:
    return cast(Mapping[str, Any], value) if isinstance(value, Mapping) else {}


def _window(raw: Mapping[str, Any]) -> Window:
    return Window(
        days=tuple(str(d) for d in raw.get("days", DAYS)),
        start=str(raw.get("start", "")),
        end=str(raw.get("end", "")),
    )


def _profile(name: str, raw: Mapping[str, Any]) -> ProfileSettings:
    images, chat = _table(raw.get("images")), _table(raw.get("chat"))
    keywords = _table(raw.get("keywords"))
    threshold, grooming = images.get("threshold"), chat.get("grooming_alert")
    return ProfileSettings(
        name=name,
        safe_search=bool(raw.get("safe_search", True)),
        allow=tuple(str(s) for s in raw.get("allow", ())),
        block=tuple(str(s) for s in raw.get("block", ())),
        overrides={str(k): str(v) for k, v in _table(raw.get("categories")).items()},
        schedule=tuple(_window(_table(w)) for w in raw.get("schedule", ())),
        images_enabled=bool(images.get("enabled", True)),
        images_threshold=None if threshold is None else float(threshold),
        images_action=None if images.get("action") is None else str(images["action"]),
        chat_enabled=bool(chat.get("enabled", True)),
        chat_grooming_alert=None if grooming is None else float(grooming),
        words=tuple(str(w) for w in keywords.get("words", ())),
        lists_off=tuple(str(c) for c in keywords.get("lists_off", ())),
    )


def read_rules(text: str) -> PolicyRules:
    """What the page shows of a policy text; defaults fill what the file leaves out."""
    try:
        raw = tomllib.loads(text)
    except tomllib.TOMLDecodeError as error:
        raise PolicyEditError(f"the policy file is not valid TOML: {error}") from None
    categories = tuple(
        CategorySetting(
            name=str(name),
            action=str(rule.get("action", "block")),
            ask_parent=bool(rule.get("ask_parent", False)),
            allow_continue=bool(rule.get("allow_continue", False)),
        )
        for name, rule in ((n, _table(r)) for n, r in _table(raw.get("categories")).items())
    )
    profiles_raw = _table(raw.get("profiles")) if "profiles" in raw else {"child": {}}
    profiles = tuple(_profile(str(n), _table(p)) for n, p in profiles_raw.items())
    keyword_lists = tuple(
        KeywordList(str(ref.get("category", "")), str(ref.get("path", "")))
        for ref in (_table(r) for r in raw.get("keywords", ()) if isinstance(r, Mapping))
    )
    return PolicyRules(
        categories,
        profiles,
        str(raw.get("default_profile", "child")),
        keyword_lists,
        str(raw.get("timezone", "UTC")),
    )


# -- writing ---------------------------------------------------------------------------------

Node = Container | Table | InlineTable


def _child(parent: Node, key: str, *, inline: bool) -> Node:
    """`parent[key]` as a table, made (inline, or as a [section]) when the file has none."""
    if key not in parent:
        parent[key] = tomlkit.inline_table() if inline else tomlkit.table(is_super_table=True)
    return cast(Node, parent[key])


def _plain(value: object) -> object:
    return value.unwrap() if hasattr(value, "unwrap") else value


def _set(table: Node, key: str, value: object, default: object) -> None:
    """Write `value` only where it differs from what the file says (or implies by omission).

    None removes the key (the setting then follows the policy's own default).  A list already
    in the file is changed in place, so its comment and layout stay.
    """
    present = key in table
    current = _plain(table[key]) if present else default
    if isinstance(value, tuple):
        value = list(value)
    if current == value:
        return
    if value is None:
        if present:
            del table[key]
        return
    existing = table[key] if present else None
    if isinstance(existing, Array) and isinstance(value, list):
        while len(existing):
            existing.pop()
        existing.extend(value)
        return
    table[key] = value


def _same_window(a: Window, b: Window) -> bool:
    """The same window, whatever order its days are written in."""
    return set(a.days) == set(b.days) and (a.start, a.end) == (b.start, b.end)


def _write_schedule(profile: Node, windows: Sequence[Window]) -> None:
    present = profile.get("schedule") if "schedule" in profile else None
    listed = cast(list[object], _plain(present)) if present is not None else []
    current = [_window(_table(w)) for w in listed]
    if len(current) == len(windows) and all(map(_same_window, current, windows)):
        return
    if isinstance(present, Array):  # `schedule = [...]`: stays one array of inline tables
        items = []
        for window in windows:
            item = tomlkit.inline_table()
            item.update({"days": list(window.days), "start": window.start, "end": window.end})
            items.append(item)
        _set(profile, "schedule", items, None)
        return
    if not windows:
        if present is not None:
            del profile["schedule"]
        return
    aot = present if isinstance(present, AoT) else tomlkit.aot()
    for number, window in enumerate(windows):
        if number < len(aot):
            table = aot[number]
        else:
            table = tomlkit.table()
            aot.append(table)
            table = aot[number]
        if number >= len(current) or set(current[number].days) != set(window.days):
            _set(table, "days", list(window.days), None)
        _set(table, "start", window.start, None)
        _set(table, "end", window.end, None)
    while len(aot) > len(windows):
        del aot[len(windows)]
    if present is None:
        profile["schedule"] = aot


def _write_profile(doc: tomlkit.TOMLDocument, settings: ProfileSettings) -> None:
    profiles = _child(doc, "profiles", inline=False)
    profile = _child(profiles, settings.name, inline=False)
    _set(profile, "safe_search", settings.safe_search, True)
    _set(profile, "allow", settings.allow, [])
    _set(profile, "block", settings.block, [])
    current = {str(k): str(v) for k, v in _table(_plain(profile.get("categories"))).items()}
    if current and not settings.overrides:
        del profile["categories"]
    elif current != dict(settings.overrides):
        overrides = _child(profile, "categories", inline=True)
        for name in current.keys() - settings.overrides.keys():
            del overrides[name]
        for name, action in settings.overrides.items():
            _set(overrides, name, action, None)
    _write_schedule(profile, settings.schedule)
    images = {
        "enabled": (settings.images_enabled, True),
        "threshold": (settings.images_threshold, None),
        "action": (settings.images_action, None),
    }
    chat = {
        "enabled": (settings.chat_enabled, True),
        "grooming_alert": (settings.chat_grooming_alert, None),
    }
    _write_keywords(profile, settings)
    for key, values in (("images", images), ("chat", chat)):
        table = _table(_plain(profile.get(key)))
        if all(table.get(name, default) == value for name, (value, default) in values.items()):
            continue
        node = _child(profile, key, inline=True)
        for name, (value, default) in values.items():
            _set(node, name, value, default)


def _write_keywords(profile: Node, settings: ProfileSettings) -> None:
    """`keywords = { words = [...], lists_off = [...] }`, beside the profile's other keys
    like `images` and `chat`; a `[profiles.NAME.keywords]` table written by hand is edited
    where it is.  Removed when it says nothing."""
    wanted = {"words": settings.words, "lists_off": settings.lists_off}
    current = _table(_plain(profile.get("keywords")))
    if all(list(current.get(key, [])) == list(value) for key, value in wanted.items()):
        return
    node = _child(profile, "keywords", inline=True)
    for key, value in wanted.items():
        _set(node, key, value or None, None)
    if not len(node):
        del profile["keywords"]


def _changed_since(
    page: ProfileSettings, base: ProfileSettings, latest: ProfileSettings
) -> ProfileSettings:
    """`latest` with the settings the parent changed on the page (page differs from base)."""
    changed = {
        f.name: getattr(page, f.name)
        for f in fields(page)
        if getattr(page, f.name) != getattr(base, f.name)
    }
    return replace(latest, **changed)


def write_rules(
    text: str,
    categories: Sequence[CategorySetting],
    profile: ProfileSettings,
    base: PolicyRules | None = None,
) -> str:
    """`text` with the categories and one profile as the page has them; the rest untouched.

    `base` is the policy the page was filled from.  Given it, only what the parent changed on
    the page since is written, so a change made meanwhile to `text` by someone else (`abhaya
    policy apply`, an editor) to another setting stays.  A setting both changed is the page's.
    """
    try:
        doc = tomlkit.parse(text)
    except tomlkit.exceptions.ParseError as error:
        raise PolicyEditError(f"the policy file is not valid TOML: {error}") from None
    latest = read_rules(text)
    before = {c.name: c for c in latest.categories}
    shown = {c.name: c for c in base.categories} if base is not None else before
    for setting in categories:
        if shown.get(setting.name) == setting or before.get(setting.name) == setting:
            continue
        table = _child(_child(doc, "categories", inline=False), setting.name, inline=False)
        _set(table, "action", setting.action, "block")
        _set(table, "ask_parent", setting.ask_parent, False)
        _set(table, "allow_continue", setting.allow_continue, False)
    if base is not None:
        empty = ProfileSettings(profile.name)
        profile = _changed_since(
            profile,
            next((p for p in base.profiles if p.name == profile.name), empty),
            next((p for p in latest.profiles if p.name == profile.name), empty),
        )
    _write_profile(doc, profile)
    return tomlkit.dumps(doc)


# -- one site onto a list (the Activity page's "allow this site" / "block this site") -------


def _covers(site: str, entry: str) -> bool:
    """Whether list `entry` (a domain, or domain/path) is `site` or a part of it."""
    host = entry.partition("/")[0].lower()
    return host == site or host.endswith("." + site)


def with_site(profile: ProfileSettings, site: str, listed: str) -> ProfileSettings:
    """`profile` with `site` on its `listed` list ("allow" or "block"), and taken off the other.

    Taken off the other list goes for every entry within the site (`www.site`, `site/path`):
    a parent who blocks a site means all of it, and an allow entry would beat the block
    (filters/decide.py); allowing a site leaves no block entry that contradicts it on the
    Rules page.  Already listed: the same settings, so nothing is written.
    """
    if listed not in SITE_LISTS:
        raise ValueError(f"no site list {listed!r}; expected one of {SITE_LISTS}")
    chosen, other = (
        (profile.allow, profile.block) if listed == "allow" else (profile.block, profile.allow)
    )
    if site not in chosen:
        chosen = (*chosen, site)
    kept = tuple(entry for entry in other if not _covers(site, entry))
    if listed == "allow":
        return replace(profile, allow=chosen, block=kept)
    return replace(profile, block=chosen, allow=kept)


def add_site(text: str, profiles: Sequence[str], site: str, listed: str) -> str:
    """`text` with `site` always allowed (or blocked) for each of `profiles`; the rest untouched.

    Written with `write_rules`, as the Rules page writes the same lists, so the file keeps its
    comments and only the two lists of each named profile can change.
    """
    for name in profiles:
        rules = read_rules(text)
        if name not in {p.name for p in rules.profiles}:
            raise PolicyEditError(f"the policy has no child (profile) named {name!r}")
        text = write_rules(text, (), with_site(rules.profile(name), site, listed))
    return text


def write_retention(text: str, days: int, alert_days: int) -> str:
    """`text` with `[events] retention_days` and `alert_retention_days` set; the rest untouched.

    A value the file already says (or leaves to the policy's default) is not rewritten, so
    saving the days as they are gives back the very same text, and no empty `[events]` is
    added for defaults.  The range is the agent's to check (filters/policy/model.py).
    """
    try:
        doc = tomlkit.parse(text)
    except tomlkit.exceptions.ParseError as error:
        raise PolicyEditError(f"the policy file is not valid TOML: {error}") from None
    defaults = EventSettings()
    wanted = {
        "retention_days": (days, defaults.retention_days),
        "alert_retention_days": (alert_days, defaults.alert_retention_days),
    }
    current = _table(_plain(doc.get("events")))
    if all(current.get(key, default) == value for key, (value, default) in wanted.items()):
        return text
    events = _child(doc, "events", inline=False)
    for key, (value, default) in wanted.items():
        _set(events, key, value, default)
    return tomlkit.dumps(doc)


def write_inspect_mode(text: str, mode: str) -> str:
    """`text` with `[inspect] mode` set to `mode` ("needed" or "everything"); the rest untouched.

    The `always` and `never` lists and the file's comments stay as written.  A mode the file
    already says, or leaves to the policy's default (no `[inspect]`, or no `mode` in it: the
    default of `InspectSettings`), is not rewritten, so no table is added for the default.
    An unknown mode is refused (PolicyEditError) before the text is read.
    """
    if mode not in set(InspectMode):
        known = ", ".join(str(m) for m in InspectMode)
        raise PolicyEditError(f"no inspect mode {mode!r}; expected one of: {known}")
    try:
        doc = tomlkit.parse(text)
    except tomlkit.exceptions.ParseError as error:
        raise PolicyEditError(f"the policy file is not valid TOML: {error}") from None
    default = str(InspectSettings().mode)
    if _table(_plain(doc.get("inspect"))).get("mode", default) == mode:
        return text
    _set(_child(doc, "inspect", inline=False), "mode", mode, default)
    return tomlkit.dumps(doc)
