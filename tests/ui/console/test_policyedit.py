"""The Rules page's policy editor: each change gives the expected TOML, and nothing else moves.

Every edited text is also parsed by the agent's own policy model, so an edit that writes valid
TOML the agent would read differently (a key landing in the wrong table) fails here.
"""

from __future__ import annotations

import dataclasses
import textwrap

import pytest

from abhaya.filters.policy.load import parse_policy
from abhaya.filters.policy.model import CategoryAction, ImageAction, InspectMode
from abhaya.ui.console.policyedit import (
    CategorySetting,
    KeywordList,
    PolicyEditError,
    ProfileSettings,
    Window,
    add_site,
    read_rules,
    with_site,
    write_inspect_mode,
    write_retention,
    write_rules,
)
from tests.conftest import POLICY

COMMENTED = textwrap.dedent(
    """\
    # The family's rules.  Written by hand; keep this comment.
    version = 1
    timezone = "Asia/Kolkata"
    default_profile = "child"

    # Zero tolerance.
    [categories.csam]
    action = "block"

    [categories.gambling]
    action = "block"        # no betting
    ask_parent = true

    [categories.games]
    action = "warn"
    allow_continue = true

    [profiles.child]
    safe_search = true      # always on for the little one
    allow = ["khanacademy.org"]   # school
    block = []
    categories = { games = "block" }

    [[profiles.child.schedule]]
    days = ["mon", "tue"]
    start = "16:00"
    end = "20:00"

    # The older one.
    [profiles.teen]
    images = { threshold = 0.7 }

    [events]
    retention_days = 30     # a short history
    """
)


def _edit(text: str, name: str = "child", **changes: object) -> str:
    rules = read_rules(text)
    profile = dataclasses.replace(rules.profile(name), **changes)  # type: ignore[arg-type]
    return write_rules(text, rules.categories, profile)


def _changed_lines(before: str, after: str) -> tuple[list[str], list[str]]:
    old, new = before.splitlines(), after.splitlines()
    return [line for line in old if line not in new], [line for line in new if line not in old]


def test_what_the_page_shows_of_a_policy() -> None:
    rules = read_rules(COMMENTED)
    assert rules.default_profile == "child"
    assert rules.categories == (
        CategorySetting("csam", "block"),
        CategorySetting("gambling", "block", ask_parent=True),
        CategorySetting("games", "warn", allow_continue=True),
    )
    child = rules.profile("child")
    assert child.allow == ("khanacademy.org",) and child.block == ()
    assert child.overrides == {"games": "block"}
    assert child.schedule == (Window(("mon", "tue"), "16:00", "20:00"),)
    teen = rules.profile("teen")
    assert teen.images_threshold == 0.7 and teen.images_action is None and teen.safe_search


def test_an_unchanged_page_gives_back_the_same_text_byte_for_byte() -> None:
    for text in (COMMENTED, textwrap.dedent(POLICY)):
        rules = read_rules(text)
        for profile in rules.profiles:
            assert write_rules(text, rules.categories, profile) == text


def test_blocking_a_site_changes_only_that_line_and_keeps_its_comment() -> None:
    after = _edit(COMMENTED, block=("games.example",))
    assert _changed_lines(COMMENTED, after) == (["block = []"], ['block = ["games.example"]'])
    assert parse_policy(after, "edited").profiles["child"].block == ("games.example",)


def test_a_list_with_a_comment_keeps_it_when_changed() -> None:
    after = _edit(COMMENTED, allow=("khanacademy.org", "wikipedia.org"))
    assert 'allow = ["khanacademy.org", "wikipedia.org"]   # school' in after
    assert "# The family's rules.  Written by hand; keep this comment." in after
    assert "retention_days = 30     # a short history" in after


@pytest.mark.parametrize(
    ("changes", "expected_lines"),
    [
        ({"safe_search": False}, ["safe_search = false      # always on for the little one"]),
        (
            {"overrides": {"games": "block", "gambling": "warn"}},
            ['categories = { games = "block", gambling = "warn"}'],
        ),
        ({"overrides": {}}, []),
    ],
)
def test_each_profile_change_gives_the_expected_toml(
    changes: dict[str, object], expected_lines: list[str]
) -> None:
    after = _edit(COMMENTED, **changes)
    _, added = _changed_lines(COMMENTED, after)
    assert added == expected_lines
    parse_policy(after, "edited")


def test_a_category_for_every_child_is_changed_in_its_own_table() -> None:
    rules = read_rules(COMMENTED)
    categories = tuple(
        dataclasses.replace(c, action="warn", allow_continue=True) if c.name == "gambling" else c
        for c in rules.categories
    )
    after = write_rules(COMMENTED, categories, rules.profile("child"))
    removed, added = _changed_lines(COMMENTED, after)
    assert removed == ['action = "block"        # no betting']
    assert added == ['action = "warn"        # no betting']
    assert after.count("allow_continue = true") == 2
    policy = parse_policy(after, "edited")
    assert policy.categories["gambling"].action is CategoryAction.WARN
    assert policy.categories["gambling"].allow_continue and policy.categories["gambling"].ask_parent


def test_the_schedule_is_edited_in_place_extended_and_emptied() -> None:
    two = (
        Window(("mon", "tue"), "15:00", "20:00"),
        Window(("sat", "sun"), "10:00", "12:00"),
    )
    after = _edit(COMMENTED, schedule=two)
    removed, added = _changed_lines(COMMENTED, after)
    assert removed == ['start = "16:00"']
    assert added == ['start = "15:00"', 'days = ["sat", "sun"]', 'start = "10:00"', 'end = "12:00"']
    windows = parse_policy(after, "edited").profiles["child"].schedule
    assert [(w.start, w.end, tuple(w.days)) for w in windows] == [
        ("15:00", "20:00", ("mon", "tue")),
        ("10:00", "12:00", ("sat", "sun")),
    ]
    emptied = _edit(after, schedule=())
    assert "[[profiles.child.schedule]]" not in emptied
    assert parse_policy(emptied, "edited").profiles["child"].schedule == ()


def test_days_written_in_another_order_are_the_same_window() -> None:
    text = COMMENTED.replace('days = ["mon", "tue"]', 'days = ["tue", "mon"]')
    assert _edit(text, schedule=(Window(("mon", "tue"), "16:00", "20:00"),)) == text
    later = _edit(text, schedule=(Window(("mon", "tue"), "16:00", "21:00"),))
    assert _changed_lines(text, later) == (['end = "20:00"'], ['end = "21:00"'])


def test_a_schedule_written_as_an_array_stays_one() -> None:
    text = "[profiles.child]\nschedule = []          # any time\n"
    after = _edit(text, schedule=(Window(("fri",), "18:00", "21:00"),))
    assert after == (
        '[profiles.child]\nschedule = [{days = ["fri"], start = "18:00", end = "21:00"}]'
        "          # any time\n"
    )


def test_a_new_schedule_is_its_own_table_and_the_profile_keeps_its_keys() -> None:
    after = _edit(COMMENTED, "teen", schedule=(Window(("sat",), "09:00", "24:00"),))
    policy = parse_policy(after, "edited")
    assert policy.profiles["teen"].schedule[0].end == "24:00"
    assert policy.profiles["teen"].images.threshold == 0.7
    assert "[[profiles.teen.schedule]]" in after


def test_image_and_chat_settings_are_added_changed_and_returned_to_the_default() -> None:
    after = _edit(COMMENTED, images_threshold=0.5, images_action="block", chat_grooming_alert=4.0)
    policy = parse_policy(after, "edited").profiles["child"]
    assert policy.images.threshold == 0.5 and policy.images.action is ImageAction.BLOCK
    assert policy.chat.grooming_alert == 4.0 and policy.chat.enabled
    teen = _edit(COMMENTED, "teen", images_threshold=None, images_enabled=False)
    teen_table = teen.split("[profiles.teen]")[1].split("[events]")[0]
    assert "enabled = false" in teen_table and "threshold" not in teen_table
    off = parse_policy(teen, "edited").profiles["teen"].images
    assert off.threshold is None and not off.enabled


def test_a_profile_the_file_only_implies_is_written_as_a_table() -> None:
    text = "version = 1\n"
    rules = read_rules(text)
    assert [p.name for p in rules.profiles] == ["child"]
    after = write_rules(text, (), dataclasses.replace(rules.profiles[0], block=("x.example",)))
    assert parse_policy(after, "edited").profiles["child"].block == ("x.example",)


def test_a_change_made_meanwhile_elsewhere_stays_and_the_parents_change_is_added() -> None:
    shown = read_rules(COMMENTED)
    page = dataclasses.replace(shown.profile("child"), block=("games.example",))
    categories = tuple(
        dataclasses.replace(c, ask_parent=True) if c.name == "games" else c
        for c in shown.categories
    )
    meanwhile = COMMENTED.replace(
        'allow = ["khanacademy.org"]   # school',
        'allow = ["khanacademy.org", "ncert.example"]   # school, and the textbooks',
    ).replace('action = "block"        # no betting', 'action = "warn"        # now a warning')
    after = write_rules(meanwhile, categories, page, base=shown)
    removed, added = _changed_lines(meanwhile, after)
    assert removed == ["block = []"]
    assert added == ['block = ["games.example"]']
    assert after.count("ask_parent = true") == meanwhile.count("ask_parent = true") + 1
    policy = parse_policy(after, "edited")
    assert policy.profiles["child"].allow == ("khanacademy.org", "ncert.example")
    assert policy.categories["gambling"].action is CategoryAction.WARN
    assert policy.categories["games"].ask_parent


def test_a_text_that_is_not_toml_is_refused_in_words() -> None:
    with pytest.raises(PolicyEditError, match="not valid TOML"):
        read_rules("[profiles.child\n")
    with pytest.raises(PolicyEditError, match="not valid TOML"):
        write_rules("[profiles.child\n", (), ProfileSettings("child"))


def test_the_keyword_lists_and_time_zone_are_read() -> None:
    rules = read_rules(textwrap.dedent(POLICY))
    assert rules.timezone == "Asia/Kolkata"
    assert rules.keyword_lists == (
        KeywordList("csam", "keywords/csam.txt"),
        KeywordList("gambling", "keywords/gambling.txt"),
        KeywordList("self_harm", "keywords/self_harm.txt"),
    )
    assert read_rules(COMMENTED).keyword_lists == () and read_rules("").timezone == "UTC"


def test_a_childs_own_words_are_added_beside_its_keys_and_leave_no_trace_when_removed() -> None:
    after = _edit(COMMENTED, words=("kazoo", "blue pelican"), lists_off=("gambling",))
    _, added = _changed_lines(COMMENTED, after)
    assert added == ['keywords = {words = ["kazoo", "blue pelican"], lists_off = ["gambling"]}']
    keywords = parse_policy(after, "edited").profiles["child"].keywords
    assert keywords.words == ("kazoo", "blue pelican") and keywords.lists_off == ("gambling",)
    assert read_rules(after).profile("child").words == ("kazoo", "blue pelican")
    fewer = _edit(after, lists_off=())
    assert _changed_lines(after, fewer)[1] == ['keywords = {words = ["kazoo", "blue pelican"] }']
    assert _edit(fewer, words=()) == COMMENTED


def test_own_words_in_a_table_written_by_hand_are_edited_in_place() -> None:
    text = COMMENTED.replace(
        "# The older one.", '[profiles.child.keywords]\nwords = ["kazoo"]\n\n# The older one.'
    )
    after = _edit(text, words=("kazoo", "ocarina"))
    assert _changed_lines(text, after) == (['words = ["kazoo"]'], ['words = ["kazoo", "ocarina"]'])
    assert parse_policy(after, "edited").profiles["child"].keywords.words == ("kazoo", "ocarina")


# -- one site from an event (the Activity page) ------------------------------------------------


def test_allowing_a_site_adds_it_to_the_childs_list_and_keeps_the_comment() -> None:
    after = add_site(COMMENTED, ("child",), "bet.example", "allow")
    assert _changed_lines(COMMENTED, after) == (
        ['allow = ["khanacademy.org"]   # school'],
        ['allow = ["khanacademy.org", "bet.example"]   # school'],
    )
    assert "bet.example" in parse_policy(after, "edited").profiles["child"].allow


def test_blocking_a_site_for_every_child_takes_it_off_their_allow_lists() -> None:
    text = add_site(COMMENTED, ("child",), "www.khanacademy.org", "allow")
    after = add_site(text, ("child", "teen"), "khanacademy.org", "block")
    policy = parse_policy(after, "edited")
    assert policy.profiles["child"].allow == ()  # the site and a host within it are gone
    assert policy.profiles["child"].block == ("khanacademy.org",)
    assert policy.profiles["teen"].block == ("khanacademy.org",)
    assert policy.profiles["teen"].images.threshold == 0.7
    assert "# The older one." in after and "retention_days = 30     # a short history" in after


def test_a_site_already_listed_gives_back_the_same_text() -> None:
    assert add_site(COMMENTED, ("child",), "khanacademy.org", "allow") == COMMENTED


@pytest.mark.parametrize(
    ("allow", "block", "listed", "expected"),
    [
        # allowing takes the site and what is within it off the block list, nothing else
        ((), ("bet.example", "www.bet.example", "bet.example/odds", "abet.example"), "allow",
         (("bet.example",), ("abet.example",))),
        # blocking takes an allow of a host or a path within it off the allow list
        (("m.bet.example", "school.example"), (), "block",
         (("school.example",), ("bet.example",))),
        # hosts are compared without case; a listed entry is not added twice
        (("BET.example/Path",), ("bet.example",), "block", ((), ("bet.example",))),
    ],
)  # fmt: skip
def test_the_other_list_loses_only_entries_within_the_site(
    allow: tuple[str, ...],
    block: tuple[str, ...],
    listed: str,
    expected: tuple[tuple[str, ...], tuple[str, ...]],
) -> None:
    changed = with_site(ProfileSettings("child", allow=allow, block=block), "bet.example", listed)
    assert (changed.allow, changed.block) == expected


def test_a_child_not_in_the_policy_or_an_unknown_list_is_refused() -> None:
    with pytest.raises(PolicyEditError, match="no child"):
        add_site(COMMENTED, ("nobody",), "bet.example", "allow")
    with pytest.raises(ValueError, match="no site list"):
        with_site(ProfileSettings("child"), "bet.example", "grey")


def test_retention_changes_only_its_lines_and_keeps_the_comment() -> None:
    after = write_retention(COMMENTED, 14, 200)
    removed, added = _changed_lines(COMMENTED, after)
    assert removed == ["retention_days = 30     # a short history"]
    assert added == ["retention_days = 14     # a short history", "alert_retention_days = 200"]
    events = parse_policy(after, "policy.toml").events
    assert (events.retention_days, events.alert_retention_days) == (14, 200)
    assert write_retention(COMMENTED, 30, 365) == COMMENTED  # as the file says: untouched


def test_retention_a_file_leaves_out_is_added_as_an_events_table() -> None:
    assert write_retention(POLICY, 90, 365) == POLICY  # the defaults: no empty [events]
    after = write_retention(POLICY, 7, 365)
    assert after.startswith(POLICY.rstrip("\n"))
    assert "[events]\nretention_days = 7\n" in after
    assert "alert_retention_days" not in after  # still the default, left to the policy
    events = parse_policy(after, "policy.toml").events
    assert (events.retention_days, events.alert_retention_days) == (7, 365)


def test_retention_in_an_inline_events_table_stays_inline() -> None:
    text = "version = 1\nevents = { keep_query = true, retention_days = 30 }\n"
    after = write_retention(text, 60, 400)
    first, line, *rest = after.splitlines()
    assert (first, rest) == ("version = 1", [])
    assert line.startswith("events = { keep_query = true, retention_days = 60, ")
    events = parse_policy(after, "policy.toml").events
    assert (events.keep_query, events.retention_days, events.alert_retention_days) == (
        True,
        60,
        400,
    )


def test_retention_of_a_text_that_is_not_toml_is_refused_in_words() -> None:
    with pytest.raises(PolicyEditError, match="not valid TOML"):
        write_retention("[events\nretention_days = 3", 10, 10)


INSPECTED = POLICY + textwrap.dedent(
    """\

    # Where secure sites are looked inside.
    [inspect]
    mode = "needed"          # fast at home
    always = ["forum.example"]   # the forum's pictures
    never = ["bank.example"]     # never the bank
    """
)


def test_the_inspect_mode_changes_only_its_line_and_keeps_comments_and_lists() -> None:
    after = write_inspect_mode(INSPECTED, "everything")
    removed, added = _changed_lines(INSPECTED, after)
    assert removed == ['mode = "needed"          # fast at home']
    assert added == ['mode = "everything"          # fast at home']
    inspect = parse_policy(after, "policy.toml").inspect
    assert inspect.mode is InspectMode.EVERYTHING
    assert (inspect.always, inspect.never) == (("forum.example",), ("bank.example",))
    assert write_inspect_mode(after, "needed") == INSPECTED  # and back, byte for byte
    assert write_inspect_mode(INSPECTED, "needed") == INSPECTED  # as the file says: untouched


def test_the_inspect_table_is_added_when_missing_and_the_default_adds_nothing() -> None:
    assert (
        parse_policy(POLICY, "policy.toml").inspect.mode is InspectMode.EVERYTHING
    )  # the reader's default
    assert write_inspect_mode(POLICY, "everything") == POLICY  # no empty [inspect]
    after = write_inspect_mode(POLICY, "needed")
    removed, added = _changed_lines(POLICY, after)
    assert removed == [] and added == ["[inspect]", 'mode = "needed"']
    policy = parse_policy(after, "policy.toml")
    assert policy.inspect.mode is InspectMode.NEEDED
    assert (
        policy.blocklist == parse_policy(POLICY, "policy.toml").blocklist
    )  # the last tables are still theirs
    lists_only = POLICY + '\n[inspect]\nnever = ["bank.example"]\n'
    assert write_inspect_mode(lists_only, "everything") == lists_only
    after = write_inspect_mode(lists_only, "needed")
    assert parse_policy(after, "policy.toml").inspect.never == ("bank.example",)
    assert parse_policy(after, "policy.toml").inspect.mode is InspectMode.NEEDED


def test_an_unknown_inspect_mode_or_a_text_that_is_not_toml_is_refused() -> None:
    with pytest.raises(PolicyEditError, match="no inspect mode 'sometimes'"):
        write_inspect_mode(INSPECTED, "sometimes")
    with pytest.raises(PolicyEditError, match="not valid TOML"):
        write_inspect_mode("[inspect\nmode = 1", "needed")
