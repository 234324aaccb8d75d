"""The policy file's typed model.

The policy is the one file a parent or a school edits.  It is validated completely before it is
used: a policy that fails here is refused with the reason, and the policy already in force stays.
Rules that protect children whatever the file says (the zero-tolerance `csam` category) are
enforced here, so no later code has to remember them.
"""

from __future__ import annotations

import re
import zoneinfo
from enum import StrEnum
from typing import Annotated, ClassVar, Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from abhaya.filters import textnorm
from abhaya.filters.chatlabels import CHAT_LABELS
from abhaya.filters.querymodel import MODEL_CATEGORIES
from abhaya.filters.search import HostPatterns, PathPatterns
from abhaya.filters.verdict import ZERO_TOLERANCE, Category

__all__ = [
    "ZERO_TOLERANCE",
    "Category",
    "CategoryRule",
    "Policy",
    "Profile",
    "ProfileKeywords",
]

_NAME = re.compile(r"^[a-z][a-z0-9_]{0,31}$")


class CategoryAction(StrEnum):
    """What the policy asks for when a category's list matches."""

    ALLOW = "allow"
    WARN = "warn"
    BLOCK = "block"


class ListFormatName(StrEnum):
    """List formats a policy may name; `auto` sniffs the file or folder."""

    AUTO = "auto"
    HOSTS = "hosts"
    PLAIN = "plain"
    ADBLOCK = "adblock"
    UT1 = "ut1"


class Day(StrEnum):
    MON = "mon"
    TUE = "tue"
    WED = "wed"
    THU = "thu"
    FRI = "fri"
    SAT = "sat"
    SUN = "sun"


ALL_DAYS: tuple[Day, ...] = tuple(Day)

Name = Annotated[str, Field(pattern=_NAME.pattern)]


class _Strict(BaseModel):
    """Unknown keys are errors: a typo in a policy must not silently weaken it."""

    model_config = ConfigDict(extra="forbid", frozen=True)


class CategoryRule(_Strict):
    """How the policy treats one category (`[categories.NAME]`)."""

    action: CategoryAction = CategoryAction.BLOCK
    ask_parent: bool = False
    """Whether the warning page offers to ask a parent (the request flow comes later)."""
    allow_continue: bool = False
    """For `warn`: whether the page offers "continue anyway" (a short, logged allowance)."""


class Window(_Strict):
    """A time window when browsing is allowed, in the policy's time zone.

    `end` may be "24:00"; a window whose end is before its start runs past midnight into the
    next day (fri 20:00-01:00 covers Friday night and the first hour of Saturday).
    """

    days: tuple[Day, ...] = ALL_DAYS
    start: str
    end: str

    @field_validator("start", "end")
    @classmethod
    def _clock(cls, value: str) -> str:
        minutes_of(value)
        return value

    @model_validator(mode="after")
    def _not_empty(self) -> Window:
        if minutes_of(self.start) == minutes_of(self.end):
            raise ValueError("start and end are the same time; the window would be empty")
        if not self.days:
            raise ValueError("a window needs at least one day")
        return self


def minutes_of(clock: str) -> int:
    """Minutes since midnight of an "HH:MM" string; "24:00" is allowed as an end."""
    match = re.fullmatch(r"([01]\d|2[0-4]):([0-5]\d)", clock)
    if match is None:
        raise ValueError(f"time {clock!r} is not HH:MM (24-hour clock)")
    minutes = int(match.group(1)) * 60 + int(match.group(2))
    if minutes > 24 * 60:
        raise ValueError(f"time {clock!r} is past 24:00")
    return minutes


GroomingAlert = Annotated[float, Field(ge=1.0, le=20.0)]
"""A thread's grooming evidence for an alert: personal questions and gifts weigh 1, secrecy
and isolation 1.5, sexual remarks and app moves 2, photo and meeting requests 2.5."""


class ProfileChat(_Strict):
    """A profile's own chat settings (`[profiles.NAME.chat]`); unset ones follow `[chat]`."""

    enabled: bool = True
    """False: this profile's chats are not read at all (a parent's or a teacher's account)."""
    grooming_alert: GroomingAlert | None = None


ImageScore = Annotated[float, Field(gt=0, le=1)]
"""An image classifier score (0..1): at or over a threshold, an image is flagged."""


class ImageAction(StrEnum):
    """What the proxy does with an image the classifier flags."""

    BLUR = "blur"  # a heavily blurred copy of the same size: the page keeps its layout
    BLOCK = "block"  # a plain placeholder of the same size
    LOG = "log"  # delivered as it is; only recorded for the parent


class UnscannableAction(StrEnum):
    """What the proxy does with an image that could not be checked (broken, too large, late)."""

    BLOCK = "block"  # a placeholder: what was not checked is not shown
    ALLOW = "allow"  # delivered as it is; counted in the status


class ProfileImages(_Strict):
    """A profile's own image settings (`[profiles.NAME.images]`); unset ones follow `[images]`."""

    enabled: bool = True
    """False: this profile's images are not screened by the classifier (known-image hashes are
    matched for every profile: that check has no opt-out)."""
    threshold: ImageScore | None = None
    action: ImageAction | None = None


MAX_WORD_CHARS = 100
"""The longest word or phrase a profile may add; the keyword files' own limit."""


class ProfileKeywords(_Strict):
    """A profile's own search words, and the keyword lists it does not use
    (`[profiles.NAME.keywords]`).

    The lists themselves (`[[keywords]]`) are the policy's, shared by every profile; a
    profile only turns some of them off, or adds words of its own.  A search with one of the
    profile's words is blocked as the parent's own rule, like a site on its `block` list."""

    words: tuple[str, ...] = ()
    """Words or phrases this child's searches are blocked for, matched as the lists are
    (whole words, whatever the spelling: `filters.keywords`)."""
    lists_off: tuple[Category, ...] = ()
    """Categories whose keyword lists this profile does not use (never csam)."""

    @field_validator("words")
    @classmethod
    def _words(cls, value: tuple[str, ...]) -> tuple[str, ...]:
        seen: dict[str, str] = {}
        for word in value:
            if not word.strip() or not word.isprintable():
                raise ValueError(f"word {word!r} is empty or has invisible characters")
            if len(word) > MAX_WORD_CHARS:
                raise ValueError(
                    f"word {word[:40]!r}... is longer than {MAX_WORD_CHARS} characters"
                )
            canonical = textnorm.normalize(word)
            if not canonical:
                raise ValueError(f"word {word!r} has no letters or digits to search for")
            if canonical in seen:
                raise ValueError(f"words {seen[canonical]!r} and {word!r} are the same word")
            seen[canonical] = word
        return value

    @field_validator("lists_off")
    @classmethod
    def _csam_always_used(cls, value: tuple[Category, ...]) -> tuple[Category, ...]:
        if ZERO_TOLERANCE in value:
            raise ValueError(f"the '{ZERO_TOLERANCE}' keyword list is always used; it has no off")
        return value


class Profile(_Strict):
    language: str = ""
    """Language of warning pages ("en", "hi"); empty means the browser's Accept-Language."""
    safe_search: bool = True
    allow: tuple[str, ...] = ()
    """Domains or domain/path rules always allowed for this profile (never for csam)."""
    block: tuple[str, ...] = ()
    """Domains or domain/path rules always blocked for this profile."""
    categories: dict[Category, CategoryAction] = Field(default_factory=dict)
    """Per-profile override of a category's action."""
    schedule: tuple[Window, ...] = ()
    """When browsing is allowed; no windows means at any time."""
    users: tuple[str, ...] = ()
    """OS accounts whose requests this profile decides; the others get `default_profile`."""
    chat: ProfileChat = Field(default_factory=ProfileChat)
    """This child's chats: read or not, and how much grooming evidence raises an alert."""
    images: ProfileImages = Field(default_factory=ProfileImages)
    """This child's images: screened or not, at which score, and what is done with them."""
    keywords: ProfileKeywords = Field(default_factory=ProfileKeywords)
    """This child's own search words, and the policy's keyword lists it does not use."""
    private_browsing: bool = True
    """False: browsers' private windows and guest mode are turned off by the installed browser
    policies.  Those policies are set for the whole computer, so one profile asking is enough."""

    @field_validator("users")
    @classmethod
    def _account_names(cls, value: tuple[str, ...]) -> tuple[str, ...]:
        for name in value:
            if not name or name != name.strip() or not name.isprintable():
                raise ValueError(f"user {name!r} is not an OS account name")
        return value

    @field_validator("categories")
    @classmethod
    def _csam_not_overridden(
        cls, value: dict[Category, CategoryAction]
    ) -> dict[Category, CategoryAction]:
        if ZERO_TOLERANCE in value and value[ZERO_TOLERANCE] is not CategoryAction.BLOCK:
            raise ValueError(f"category {ZERO_TOLERANCE!r} is always blocked; it has no override")
        return value


class ListRef(_Strict):
    path: str
    category: Category
    format: ListFormatName = ListFormatName.AUTO


class AllowListRef(_Strict):
    path: str
    format: ListFormatName = ListFormatName.AUTO


class KeywordRef(_Strict):
    path: str
    category: Category


class HashListRef(_Strict):
    """A list of known-image PDQ hashes (`[[hashlist]]`; format in `filters/lists/hashlist.py`)."""

    path: str
    category: Category
    name: str = ""
    """The list's name in events and evidence; empty means the file's `# name:` or its name."""


class EventSettings(_Strict):
    """What the event log keeps, and for how long."""

    keep_query: bool = False
    """Store URLs with their query string (search text); off by default for the child's privacy."""
    MAX_RETENTION_DAYS: ClassVar[int] = 3650
    """Ten years; the console's day fields stop here too."""
    retention_days: int = Field(default=90, ge=1, le=MAX_RETENTION_DAYS)
    alert_retention_days: int = Field(default=365, ge=1, le=MAX_RETENTION_DAYS)


class AccessSettings(_Strict):
    """Children's requests for access ("ask a parent")."""

    MAX_EXPIRY_HOURS: ClassVar[int] = 7 * 24
    request_expiry_hours: int = Field(default=24, ge=1, le=MAX_EXPIRY_HOURS)
    """A request not answered within this time expires: it can no longer be approved (the
    child asks again), so a parent never approves something asked for long ago by mistake."""


class SearchModelSettings(_Strict):
    """The on-device query model: a second opinion on searches the rules leave undecided."""

    enabled: bool = True
    thresholds: dict[Category, Annotated[float, Field(gt=0, le=1)]] = Field(default_factory=dict)
    """Per category (csam, self_harm, adult), the score at or over which a search is judged;
    unset ones keep the model's tuned thresholds.  Lower finds more and wrongly warns more."""

    @field_validator("thresholds")
    @classmethod
    def _scored(cls, value: dict[Category, float]) -> dict[Category, float]:
        unknown = sorted(set(value) - MODEL_CATEGORIES)
        if unknown:
            scored = ", ".join(sorted(MODEL_CATEGORIES))
            raise ValueError(f"the query model scores only {scored}, not {', '.join(unknown)}")
        return value


FieldName = Annotated[str, Field(min_length=1, max_length=64)]


class ChatSiteRule(_Strict):
    """A chat site the policy adds (`[[chat.sites]]`), read by the generic JSON adapter."""

    host: str
    """A host pattern as in `chat_sites.toml`: "chat.example" covers its subdomains too."""
    adapter: Literal["json"] = "json"
    name: str = ""
    """The site name its messages carry; empty means the host."""
    paths: tuple[str, ...] = ("*",)
    """Requests whose bodies are read ("*" any path, "/api/send" that path and below)."""
    websocket_paths: tuple[str, ...] = ("*",)
    """WebSocket connections whose messages are read."""
    text_fields: tuple[FieldName, ...] = ()
    """JSON keys holding the text; empty means the common ones (text, message, content, ...)."""
    thread_fields: tuple[FieldName, ...] = ()
    """JSON keys holding the thread id; empty means the common ones (thread, channel, room, ...)."""
    sender_fields: tuple[FieldName, ...] = ()
    """JSON keys saying whose a message is; empty means the common ones (sender, from, ...)."""

    @field_validator("host")
    @classmethod
    def _host_pattern(cls, value: str) -> str:
        HostPatterns.compile((value,))
        return value

    @field_validator("paths", "websocket_paths")
    @classmethod
    def _path_patterns(cls, value: tuple[str, ...]) -> tuple[str, ...]:
        PathPatterns.compile(value)
        return value

    @property
    def site_name(self) -> str:
        return self.name or self.host


class ChatSettings(_Strict):
    """Reading chat messages on chat sites for the chat-risk classifier (`[chat]`)."""

    enabled: bool = True
    """Whether chat traffic is read at all (it is never changed or held either way)."""
    sites: tuple[ChatSiteRule, ...] = ()
    """Sites added to the ones Abhaya knows (`filters/data/chat_sites.toml`); matched first."""
    thresholds: dict[str, Annotated[float, Field(gt=0, le=1)]] = Field(default_factory=dict)
    """Per message label (personal_info, secrecy, ...), the score at or over which a message
    shows it; unset ones keep the model's tuned thresholds.  Lower finds more, wrongly too."""
    grooming_alert: GroomingAlert | None = None
    """The grooming evidence that raises an alert; unset keeps the tracker's (3: two stages,
    or a photo or meeting request with one more).  A profile can set its own."""
    keep_text: bool = True
    """Keep the words of flagged messages for the parent to read with an alert; False keeps
    only their time, sender and labels (a school that must not store pupils' messages)."""

    @field_validator("thresholds")
    @classmethod
    def _labels(cls, value: dict[str, float]) -> dict[str, float]:
        unknown = sorted(set(value) - set(CHAT_LABELS))
        if unknown:
            raise ValueError(
                f"the chat model has no label {', '.join(unknown)} "
                f"(its labels: {', '.join(CHAT_LABELS)})"
            )
        return value


class ImageSettings(_Strict):
    """Screening the images of inspected pages with the on-device classifier (`[images]`)."""

    enabled: bool = True
    threshold: ImageScore | None = None
    """The score at or over which an image is flagged; unset keeps the model's own default,
    chosen so that no benign test photo is flagged.  Lower finds more, wrongly too."""
    action: ImageAction = ImageAction.BLUR
    unscannable: UnscannableAction = UnscannableAction.BLOCK
    """Images that could not be checked: broken or hostile files, more pixels or bytes than
    the limits, or a check that took too long.  A filter fails closed: block by default."""
    page_share: Annotated[float, Field(gt=0, le=1)] = 0.5
    """When at least this share of a page's screened images is flagged (and at least
    `page_min_images` were), the site gets a warning page instead, for an hour."""
    page_min_images: int = Field(default=6, ge=1, le=1000)


class InspectMode(StrEnum):
    """Which TLS connections the proxy decrypts (`[inspect] mode`)."""

    NEEDED = "needed"  # only where a check must read the content (see `filters.inspect`)
    EVERYTHING = "everything"  # every connection not under `never`


class InspectSettings(_Strict):
    """`[inspect]`: where the content of encrypted connections is looked at.

    Every connection is filtered by its name either way; only what is decrypted can have its
    searches, page addresses, images and chats checked.  A policy without this section
    inspects everything: an older policy keeps what it had, and leaving it out never means
    less is looked at."""

    mode: InspectMode = InspectMode.EVERYTHING
    always: tuple[str, ...] = ()
    """Domains always decrypted in `needed` mode (a site whose images or search box matter)."""
    never: tuple[str, ...] = ()
    """Domains never decrypted unless their name is blocked or warned (banking, health,
    government, certificate-pinned OS and update services); still filtered by name."""


class DeviceSettings(_Strict):
    """`[device]`: how `abhaya install` sets up this computer (read at install time)."""

    unfiltered_accounts: tuple[str, ...] = ()
    """OS accounts whose web traffic does not go through the agent (the parents' own), so the
    installed routing lets them reach the web directly.  Every other person's account is
    routed through the agent, and gets nothing when the agent is down."""

    @field_validator("unfiltered_accounts")
    @classmethod
    def _account_names(cls, value: tuple[str, ...]) -> tuple[str, ...]:
        for name in value:
            if not name or name != name.strip() or not name.isprintable():
                raise ValueError(f"account {name!r} is not an OS account name")
        return value


class Policy(_Strict):
    """The whole policy file."""

    version: int = 1
    timezone: str = "UTC"
    jurisdiction: str = "in"
    default_profile: Name = "child"
    passthrough: tuple[str, ...] = ()
    """The older name of `[inspect] never`, still read: both lists are one list."""
    categories: dict[Category, CategoryRule] = Field(default_factory=dict)
    profiles: dict[Name, Profile] = Field(default_factory=lambda: {"child": Profile()})
    blocklist: tuple[ListRef, ...] = ()
    allowlist: tuple[AllowListRef, ...] = ()
    keywords: tuple[KeywordRef, ...] = ()
    hashlist: tuple[HashListRef, ...] = ()
    events: EventSettings = Field(default_factory=EventSettings)
    access: AccessSettings = Field(default_factory=AccessSettings)
    search_model: SearchModelSettings = Field(default_factory=SearchModelSettings)
    chat: ChatSettings = Field(default_factory=ChatSettings)
    images: ImageSettings = Field(default_factory=ImageSettings)
    inspect: InspectSettings = Field(default_factory=InspectSettings)
    device: DeviceSettings = Field(default_factory=DeviceSettings)

    @field_validator("version")
    @classmethod
    def _known_version(cls, value: int) -> int:
        if value != 1:
            raise ValueError(f"policy version {value} is not supported (this Abhaya reads 1)")
        return value

    @field_validator("timezone")
    @classmethod
    def _known_zone(cls, value: str) -> str:
        try:
            zoneinfo.ZoneInfo(value)
        except (zoneinfo.ZoneInfoNotFoundError, ValueError) as err:
            raise ValueError(f"unknown time zone {value!r}") from err
        return value

    @model_validator(mode="after")
    def _consistent(self) -> Policy:
        csam = self.categories.get(ZERO_TOLERANCE)
        if csam is not None and (
            csam.action is not CategoryAction.BLOCK or csam.ask_parent or csam.allow_continue
        ):
            raise ValueError(
                f"category {ZERO_TOLERANCE!r} is zero tolerance: action must be 'block', "
                "with no ask_parent and no allow_continue"
            )
        if self.default_profile not in self.profiles:
            raise ValueError(f"default_profile {self.default_profile!r} is not a profile")
        self._one_profile_per_user()
        known = set(self.categories) | {ZERO_TOLERANCE}
        used = {ref.category for ref in self.blocklist} | {ref.category for ref in self.keywords}
        used |= {ref.category for ref in self.hashlist}
        for profile in self.profiles.values():
            used |= set(profile.categories) | set(profile.keywords.lists_off)
        unknown = sorted(used - known)
        if unknown:
            raise ValueError(
                f"categories used but not defined under [categories]: {', '.join(unknown)}"
            )
        return self

    def _one_profile_per_user(self) -> None:
        """A user named twice would make the profile depend on the order of the file."""
        owner: dict[str, str] = {}
        for profile_name, profile in self.profiles.items():
            for user in profile.users:
                if user in owner:
                    where = (
                        f"twice in profile {profile_name!r}"
                        if owner[user] == profile_name
                        else f"by profiles {owner[user]!r} and {profile_name!r}"
                    )
                    raise ValueError(
                        f"user {user!r} is named {where}; a user may belong to one profile only"
                    )
                owner[user] = profile_name
        for account in self.device.unfiltered_accounts:
            if account in owner:
                raise ValueError(
                    f"account {account!r} is under [device] unfiltered_accounts and in profile "
                    f"{owner[account]!r}; an unfiltered account's browsing never reaches a profile"
                )

    def category(self, name: Category) -> CategoryRule:
        """The category's settings; csam is always block even when the file omits it."""
        if name == ZERO_TOLERANCE:
            return self.categories.get(name, CategoryRule())
        return self.categories[name]
