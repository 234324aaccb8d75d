"""The Rules page's logic: read the policy in force, turn the page into an edit, apply it.

The agent owns the policy and checks it whole: this page never decides whether a rule is
valid, it writes what the parent chose (`policyedit`, keeping the file's comments) and shows
the agent's refusal, in plain words, next to the part of the page the refusal names
(`profiles.child.schedule.0: ...` goes beside the schedule).  An agent on its embedded default
policy cannot be edited; the page says how to change that rather than offering a dead button.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass, field
from enum import StrEnum

from PySide6.QtCore import Signal

from abhaya.client import contract
from abhaya.client.api import ClientError
from abhaya.ui.console.controllers.base import Controller
from abhaya.ui.console.controllers.policysave import SaveOutcome, save_edit
from abhaya.ui.console.policyedit import (
    CategorySetting,
    PolicyEditError,
    PolicyRules,
    ProfileSettings,
    Window,
    read_rules,
    write_rules,
)
from abhaya.ui.console.runner import Runner
from abhaya.ui.console.schedulegrid import (
    GridReading,
    NothingAllowed,
    ScheduleGridError,
    WeekGrid,
    grid_from_windows,
    windows_from_grid,
)
from abhaya.ui.console.service import ConsoleService
from abhaya.ui.console.texts import Texts


class Place(StrEnum):
    """Where on the page a message is shown."""

    TOP = "top"
    CATEGORIES = "categories"
    ALLOW = "allow"
    BLOCK = "block"
    SAFE_SEARCH = "safe_search"
    SCHEDULE = "schedule"
    KEYWORDS = "keywords"
    IMAGES = "images"
    CHAT = "chat"


_PROFILE_PLACES = {
    "categories": Place.CATEGORIES,
    "allow": Place.ALLOW,
    "block": Place.BLOCK,
    "safe_search": Place.SAFE_SEARCH,
    "schedule": Place.SCHEDULE,
    "keywords": Place.KEYWORDS,
    "images": Place.IMAGES,
    "chat": Place.CHAT,
}
_SETTING = re.compile(r"(?:line \d+: )?((?:profiles|categories)\.[\w.\-]+): ")
_PYDANTIC_PREFIX = re.compile(r"^(Value error|Assertion failed), ")


def place_of(path: str, profile: str) -> Place:
    """The part of the page that shows the setting at dotted `path` (for this profile)."""
    parts = path.split(".")
    if parts[0] == "categories":
        return Place.CATEGORIES
    if len(parts) >= 3 and parts[0] == "profiles" and parts[1] == profile:
        return _PROFILE_PLACES.get(parts[2], Place.TOP)
    return Place.TOP


def _plain(text: str) -> str:
    return _PYDANTIC_PREFIX.sub("", text.strip().rstrip(";").strip())


def refusal_places(message: str, profile: str) -> dict[Place, str]:
    """The agent's refusal split by the settings it names, each placed on the page.

    The API's words are "policy refused, ...: FILE: line N: SETTING: why; line M: ...".  Each
    problem that names a setting of the categories or of the shown profile goes beside it; the
    rest (another profile's, a list that cannot be read) goes to the top, so nothing is lost.
    """
    found = list(_SETTING.finditer(message))
    if not found:
        return {Place.TOP: _plain(message)}
    places: dict[Place, list[str]] = {}
    for number, match in enumerate(found):
        end = found[number + 1].start() if number + 1 < len(found) else len(message)
        place = place_of(match.group(1), profile)
        why = _plain(message[match.end() : end])
        places.setdefault(place, []).append(
            f"{match.group(1)}: {why}" if place is Place.TOP else why
        )
    return {place: "\n".join(lines) for place, lines in places.items()}


@dataclass(frozen=True, slots=True)
class RulesState:
    """What the page shows: the policy's rules, one profile of them, and if it can change."""

    rules: PolicyRules
    profile: ProfileSettings
    editable: bool
    source: str
    schedule: GridReading | None = None
    """The profile's schedule as a week grid; None when its windows cannot be shown (then
    `schedule_problem` says why, and the page keeps the windows as they are)."""
    schedule_problem: str = ""

    @classmethod
    def of(cls, rules: PolicyRules, name: str, editable: bool, source: str) -> RulesState:
        profile = rules.profile(name)
        try:
            reading: GridReading | None = grid_from_windows(profile.schedule)
            problem = ""
        except ScheduleGridError as error:
            reading, problem = None, str(error)
        return cls(rules, profile, editable, source, reading, problem)


@dataclass(frozen=True, slots=True)
class RulesForm:
    """The page's widgets as they stand (raw: text as typed, 0 for "as for every child")."""

    categories: tuple[CategorySetting, ...]
    overrides: dict[str, str] = field(default_factory=dict)
    safe_search: bool = True
    allow_text: str = ""
    block_text: str = ""
    schedule: WeekGrid | None = None
    """The grid as painted; None when it could not be shown (the windows stay as they are)."""
    words_text: str = ""
    lists_off: tuple[str, ...] = ()
    images_enabled: bool = True
    images_threshold: float = 0.0
    images_action: str = ""
    chat_enabled: bool = True
    chat_grooming_alert: float = 0.0


def _sites(text: str) -> tuple[str, ...]:
    """One site a line (commas and spaces also separate); blanks and repeats dropped.

    The host is lower-cased as DNS does; a path after it keeps its case.
    """
    seen: dict[str, None] = {}
    for site in re.split(r"[\s,]+", text):
        host, slash, path = site.partition("/")
        if host:
            seen.setdefault(host.lower() + slash + path, None)
    return tuple(seen)


def _words(text: str) -> tuple[str, ...]:
    """One word or phrase a line; blanks and exact repeats dropped, inner spaces kept."""
    return tuple(dict.fromkeys(line.strip() for line in text.splitlines() if line.strip()))


def _schedule(form: RulesForm, shown: ProfileSettings) -> tuple[Window, ...]:
    """The windows to write: the shown ones while the grid still shows them (a schedule the
    grid rounds is never rewritten unless the parent paints), else the painted grid's.
    A grid with nothing allowed raises `NothingAllowed`."""
    if form.schedule is None:
        return shown.schedule
    try:
        if grid_from_windows(shown.schedule).grid == form.schedule:
            return shown.schedule
    except ScheduleGridError:
        pass  # the shown windows could not be read: the painted grid replaces them
    return windows_from_grid(form.schedule)


def profile_from(
    name: str, form: RulesForm, shown: ProfileSettings | None = None
) -> ProfileSettings:
    """The profile as the page has it; `shown` is the profile the page was filled from."""
    shown = shown if shown is not None else ProfileSettings(name)
    return ProfileSettings(
        name=name,
        safe_search=form.safe_search,
        allow=_sites(form.allow_text),
        block=_sites(form.block_text),
        overrides=dict(form.overrides),
        schedule=_schedule(form, shown),
        images_enabled=form.images_enabled,
        images_threshold=form.images_threshold or None,
        images_action=form.images_action or None,
        chat_enabled=form.chat_enabled,
        chat_grooming_alert=form.chat_grooming_alert or None,
        words=_words(form.words_text),
        lists_off=form.lists_off,
    )


def unsaved(state: RulesState, filled: RulesForm, now: RulesForm) -> bool:
    """Whether saving the page as it stands (`now`) would write other settings than saving it
    as it was filled from `state` (`filled`): the parent's edits not saved yet.

    The settings are compared, not the widgets' raw text or a flag set by each keystroke, so
    typing and undoing, a blank line or a repeated site, is no change; nor is a value the page
    can only show rounded.  A grid with nothing allowed is a change (it cannot be saved).
    """
    if now == filled:
        return False
    name = state.profile.name
    try:
        edited = profile_from(name, now, state.profile)
    except NothingAllowed:
        return True
    return now.categories != filled.categories or edited != profile_from(
        name, filled, state.profile
    )


Then = Callable[[], None] | None
"""What to do once a save went through and the page shows the policy then in force."""


class RulesController(Controller):
    loaded = Signal(object)
    """A RulesState, after each read of the policy or choice of profile."""
    refused = Signal(object)
    """A dict of Place -> words: the agent's refusal, placed (empty: clear old ones)."""
    told = Signal(str)

    def __init__(self, service: ConsoleService, runner: Runner, texts: Texts) -> None:
        super().__init__(service, runner, texts)
        self.state: RulesState | None = None
        self.profile_name: str | None = None

    def refresh(self, then: Then = None) -> None:
        self._runner.submit(
            self._service.policy, lambda answer: self._loaded(answer, then), self._failed
        )

    def choose_profile(self, name: str) -> None:
        if self.state is None or name == self.state.profile.name:
            return
        self.profile_name = name
        self.state = RulesState.of(self.state.rules, name, self.state.editable, self.state.source)
        self.refused.emit({})
        self.loaded.emit(self.state)

    def save(self, form: RulesForm, then: Then = None) -> None:
        """Apply the page's `form`; `then` runs only if the agent took it (a refusal is shown
        instead, and the parent stays on the page)."""
        state = self.state
        if state is None:
            return
        if not state.editable:
            self.refused.emit({Place.TOP: self._texts("rules.not_editable")})
            return
        try:
            profile = profile_from(state.profile.name, form, state.profile)
        except NothingAllowed:
            self.refused.emit({Place.SCHEDULE: self._texts("rulesgrid.nothing_allowed")})
            return
        self.told.emit(self._texts("rules.saving"))
        self._runner.submit(
            lambda: self._write(state.rules, form.categories, profile),
            lambda outcome: self._saved(outcome, then),
            lambda error: self._save_refused(error, profile.name),
        )

    def _write(
        self, base: PolicyRules, categories: tuple[CategorySetting, ...], profile: ProfileSettings
    ) -> SaveOutcome:
        """On the runner's thread: the page's changes onto the policy in force now, applied.

        The text is read again rather than the one the page was filled from, so a change made
        meanwhile elsewhere (`abhaya policy apply`) to another setting is kept.
        """
        return save_edit(
            self._service,
            lambda text: write_rules(text, categories, profile, base=base),
            self._texts("rules.not_editable"),
        )

    def _loaded(self, answer: contract.PolicyText, then: Then = None) -> None:
        try:
            rules = read_rules(answer["text"])
        except PolicyEditError as error:
            self.refused.emit({Place.TOP: str(error)})
            return
        names = [p.name for p in rules.profiles]
        name = self.profile_name
        if name is None or name not in names:
            name = rules.default_profile if rules.default_profile in names else names[0]
        self.profile_name = name
        self.state = RulesState.of(rules, name, answer["editable"], answer["source"])
        self.loaded.emit(self.state)
        if then is not None:
            then()

    def _saved(self, outcome: SaveOutcome, then: Then = None) -> None:
        if outcome.problem is not None:
            self.told.emit("")
            self.refused.emit({Place.TOP: outcome.problem})
            return
        self.refused.emit({})
        if outcome.applied is None:
            self.told.emit(self._texts("rules.unchanged"))
            if then is not None:
                then()
            return
        words = [self._texts("rules.saved")]
        words.extend(outcome.applied["notices"])
        self.told.emit("\n".join(words))
        self.refresh(then)

    def _save_refused(self, error: ClientError, profile: str) -> None:
        self.told.emit("")
        if error.status == 409:
            self.refused.emit({Place.TOP: self._texts("rules.not_editable")})
        elif error.status == 422:
            places = refusal_places(str(error), profile)
            if Place.TOP not in places:
                places[Place.TOP] = self._texts("rules.refused_fields")
            self.refused.emit(places)
        else:
            self.refused.emit({Place.TOP: self._texts("rules.refused", message=str(error))})

    def _failed(self, error: ClientError) -> None:
        self.told.emit(self._texts("rules.refused", message=str(error)))
