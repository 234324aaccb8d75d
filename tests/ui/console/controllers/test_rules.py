"""The Rules page's logic without the page: the agent's refusal placed beside the part it names,
the form turned into the profile written, and whether the form holds edits not saved yet."""

from __future__ import annotations

from dataclasses import replace

import pytest

from abhaya.ui.console.controllers.rules import (
    Place,
    RulesForm,
    RulesState,
    place_of,
    profile_from,
    refusal_places,
    unsaved,
)
from abhaya.ui.console.policyedit import CategorySetting, ProfileSettings, Window, read_rules
from abhaya.ui.console.schedulegrid import (
    NothingAllowed,
    WeekGrid,
    block,
    grid_from_windows,
)
from tests.conftest import POLICY

PREFIX = "policy refused, the previous one stays in force: /home/p/policy.toml: "


@pytest.mark.parametrize(
    ("path", "place"),
    [
        ("categories.gambling.action", Place.CATEGORIES),
        ("profiles.child.categories.violence", Place.CATEGORIES),
        ("profiles.child.schedule.0.start", Place.SCHEDULE),
        ("profiles.child.block", Place.BLOCK),
        ("profiles.child.allow.2", Place.ALLOW),
        ("profiles.child.images.threshold", Place.IMAGES),
        ("profiles.child.chat.grooming_alert", Place.CHAT),
        ("profiles.child.safe_search", Place.SAFE_SEARCH),
        ("profiles.child.keywords.words", Place.KEYWORDS),
        ("profiles.child.keywords.lists_off", Place.KEYWORDS),
        ("profiles.child.language", Place.TOP),
        ("profiles.teen.schedule.0", Place.TOP),  # another child's: not on this page
    ],
)
def test_each_setting_the_agent_names_has_its_place(path: str, place: Place) -> None:
    assert place_of(path, "child") is place


def test_a_refusal_is_split_by_setting_in_plain_words() -> None:
    message = (
        PREFIX + "line 30: profiles.child.schedule.0: Value error, start and end are the same "
        "time; the window would be empty; line 12: profiles.child.chat.grooming_alert: "
        "Input should be greater than or equal to 1; profiles.teen.block: Input should be a "
        "valid tuple"
    )
    assert refusal_places(message, "child") == {
        Place.SCHEDULE: "start and end are the same time; the window would be empty",
        Place.CHAT: "Input should be greater than or equal to 1",
        Place.TOP: "profiles.teen.block: Input should be a valid tuple",
    }


def test_a_refusal_naming_no_setting_goes_to_the_top_whole() -> None:
    message = PREFIX + "lists/games.txt: cannot read the list: No such file"
    assert refusal_places(message, "child") == {Place.TOP: message}


def test_the_form_becomes_the_profile_written() -> None:
    saturday = WeekGrid.filled(False).painted(block((5, 20), (5, 23)), True)
    form = RulesForm(
        categories=(),
        allow_text="Khan.example\n\n school.example, khan.example ",
        block_text="games.example/play",
        schedule=saturday,
        words_text=" Blue Pelican \n\nkazoo\nkazoo\n",
        lists_off=("gambling",),
        images_threshold=0.0,
        images_action="",
        chat_grooming_alert=4.5,
    )
    profile = profile_from("child", form)
    assert profile.allow == ("khan.example", "school.example")
    assert profile.block == ("games.example/play",)
    assert profile.schedule == (Window(("sat",), "10:00", "12:00"),)
    assert profile.words == ("Blue Pelican", "kazoo")
    assert profile.lists_off == ("gambling",)
    assert profile.images_threshold is None and profile.images_action is None
    assert profile.chat_grooming_alert == 4.5


def test_a_schedule_the_grid_rounds_is_kept_until_the_grid_is_painted() -> None:
    shown = ProfileSettings("child", schedule=(Window(("mon",), "16:15", "18:10"),))
    reading = grid_from_windows(shown.schedule)
    assert not reading.exact
    untouched = RulesForm(categories=(), schedule=reading.grid)
    assert profile_from("child", untouched, shown).schedule == shown.schedule
    painted = RulesForm(categories=(), schedule=reading.grid.painted([(1, 0)], True))
    assert profile_from("child", painted, shown).schedule == (
        Window(("mon",), "16:30", "18:00"),
        Window(("tue",), "00:00", "00:30"),
    )
    unreadable = ProfileSettings("child", schedule=(Window(("mon",), "8:00", "9:00"),))
    kept = RulesForm(categories=(), schedule=None)
    assert profile_from("child", kept, unreadable).schedule == unreadable.schedule


def test_a_grid_with_nothing_allowed_is_not_turned_into_any_time() -> None:
    with pytest.raises(NothingAllowed):
        profile_from("child", RulesForm(categories=(), schedule=WeekGrid.filled(False)))


def _filled() -> tuple[RulesState, RulesForm]:
    """The child's rules of the tests' policy, and the form as the page fills it from them."""
    state = RulesState.of(read_rules(POLICY), "child", True, "policy.toml")
    assert state.schedule is not None
    profile = state.profile
    return state, RulesForm(
        categories=state.rules.categories,
        safe_search=profile.safe_search,
        allow_text="\n".join(profile.allow),
        block_text="\n".join(profile.block),
        schedule=state.schedule.grid,
    )


_GAMBLING_WARNS = CategorySetting("gambling", "warn", True, False)


@pytest.mark.parametrize(
    ("change", "is_unsaved"),
    [
        ({}, False),
        ({"block_text": "custom.example\n\n wiki.example/private\n"}, False),  # blank lines
        ({"block_text": "Custom.example, wiki.example/private custom.example"}, False),
        ({"words_text": "\n  \n"}, False),  # typed, and deleted again, but for blanks
        ({"block_text": "custom.example\nwiki.example/private\nnew.example"}, True),
        ({"block_text": "custom.example\nwiki.example/Private"}, True),  # a path keeps its case
        ({"safe_search": False}, True),
        ({"overrides": {"violence": "allow"}}, True),
        ({"schedule": WeekGrid.filled(True).painted([(0, 0)], False)}, True),
        ({"schedule": WeekGrid.filled(False)}, True),  # nothing allowed: cannot be saved
        ({"images_threshold": 0.4}, True),
    ],
)
def test_edits_are_unsaved_when_the_rules_they_write_differ(
    change: dict[str, object], is_unsaved: bool
) -> None:
    state, filled = _filled()
    assert unsaved(state, filled, replace(filled, **change)) is is_unsaved


def test_a_category_changed_for_every_child_is_unsaved() -> None:
    state, filled = _filled()
    categories = tuple(_GAMBLING_WARNS if c.name == "gambling" else c for c in filled.categories)
    assert unsaved(state, filled, replace(filled, categories=categories))
