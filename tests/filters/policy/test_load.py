"""Policy files: what is accepted, and what is refused with a reason a person can act on."""

from __future__ import annotations

from pathlib import Path

import pytest

from abhaya.filters.policy.compile import load_policy
from abhaya.filters.policy.load import PolicyError, parse_policy, read_policy
from abhaya.filters.policy.model import CategoryAction
from tests.conftest import POLICY, write_policy

MINIMAL = 'version = 1\n[categories.adult]\naction = "block"\n'


def test_default_policy_is_complete() -> None:
    compiled = load_policy()
    assert set(compiled.policy.categories) >= {
        "csam",
        "adult",
        "self_harm",
        "gambling",
        "violence",
        "anonymizers",
    }
    assert compiled.profile().name == "child"
    assert compiled.problems == ()
    assert {item.category for item in compiled.book.zero_lists} == {"csam"}
    assert {item.category for item in compiled.profile().lists} == {
        "adult",
        "self_harm",
        "gambling",
        "violence",
        "anonymizers",
    }
    assert len(compiled.book.keywords) > 0
    assert compiled.profile().action_for("self_harm") is CategoryAction.WARN


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("version = 1\n[categories.adult\n", "line 2"),
        ("version = 2\n", "version 2 is not supported"),
        ('timezone = "Mars/Olympus"\n', "unknown time zone"),
        ('[categories.csam]\naction = "warn"\n', "zero tolerance"),
        ('[categories.csam]\naction = "block"\nask_parent = true\n', "zero tolerance"),
        ('[profiles.child.categories]\ncsam = "allow"\n', "no override"),
        ('[categories.adult]\naction = "maybe"\n', "line 2: categories.adult.action"),
        ('[categories.adult]\nacton = "block"\n', "categories.adult.acton"),
        ('[[blocklist]]\npath = "x.txt"\ncategory = "sports"\n', "sports"),
        ('default_profile = "kid"\n', "default_profile 'kid' is not a profile"),
        (
            '[[profiles.child.schedule]]\nstart = "25:00"\nend = "08:00"\n',
            "line 2: profiles.child.schedule.0.start",
        ),
        ('[[profiles.child.schedule]]\nstart = "08:00"\nend = "08:00"\n', "empty"),
        ('[categories.Adult]\naction = "block"\n', "categories.Adult"),
        (
            '[profiles.child]\nusers = ["asha"]\n[profiles.teen]\nusers = ["ravi", "asha"]\n',
            "user 'asha' is named by profiles 'child' and 'teen'; "
            "a user may belong to one profile only",
        ),
        ('[profiles.child]\nusers = ["asha", "asha"]\n', "user 'asha' is named twice"),
        ('[profiles.child]\nusers = [" asha"]\n', "not an OS account name"),
        ('[profiles.child]\nusers = [""]\n', "not an OS account name"),
        ("[chat]\nenabled = 2\n", "line 2: chat.enabled"),
        ('[chat]\nread = "all"\n', "chat.read: Extra inputs"),
        ("[chat]\nthresholds = { grooming = 0.5 }\n", "the chat model has no label grooming"),
        ("[chat]\nthresholds = { secrecy = 0 }\n", "chat.thresholds.secrecy"),
        ("[chat]\ngrooming_alert = 0.5\n", "chat.grooming_alert"),
        ("[profiles.child.chat]\ngrooming_alert = 50\n", "profiles.child.chat.grooming_alert"),
        ("[profiles.child.chat]\nread = false\n", "profiles.child.chat.read: Extra inputs"),
        (
            '[[chat.sites]]\nhost = "chat example"\n',
            "line 2: chat.sites.0.host: Value error, bad host",
        ),
        ('[[chat.sites]]\nhost = "chat.example"\nadapter = "discord"\n', "chat.sites.0.adapter"),
        ('[[chat.sites]]\nhost = "chat.example"\npaths = ["send"]\n', "bad path pattern 'send'"),
        (
            '[[chat.sites]]\nhost = "chat.example"\ntext_fields = [""]\n',
            "chat.sites.0.text_fields.0",
        ),
        ('[[chat.sites]]\npaths = ["/send"]\n', "chat.sites.0.host: Field required"),
        ("[images]\nthreshold = 0\n", "line 2: images.threshold"),
        ("[images]\nthreshold = 1.5\n", "images.threshold"),
        ('[images]\naction = "hide"\n', "line 2: images.action"),
        ('[images]\nunscannable = "warn"\n', "images.unscannable"),
        ("[images]\npage_min_images = 0\n", "images.page_min_images"),
        ("[profiles.child.images]\nthreshold = -1\n", "profiles.child.images.threshold"),
        ('[profiles.child.images]\nunscannable = "allow"\n', "Extra inputs"),
        (
            '[profiles.child]\nsafe_search = true\n[profiles.child.keywords]\nwords = ["!!!"]\n',
            "line 4: profiles.child.keywords.words: Value error, word '!!!' has no letters",
        ),
        (
            '[profiles.child.keywords]\nwords = ["Pubg", "PUBG"]\n',
            "words 'Pubg' and 'PUBG' are the same word",
        ),
        ('[profiles.child.keywords]\nwords = [" "]\n', "word ' ' is empty"),
        (
            '[profiles.child]\nsafe_search = true\nkeywords = { words = ["?"] }\n',
            "line 3: profiles.child.keywords.words: Value error, word '?' has no letters",
        ),
        ("[profiles.child]\nimages = { threshold = 2 }\n", "line 2: profiles.child.images"),
        ('[profiles.child.keywords]\nwords = ["a\\tb"]\n', "invisible characters"),
        (f'[profiles.child.keywords]\nwords = ["{"x" * 101}"]\n', "longer than 100 characters"),
        (
            '[profiles.child.keywords]\nlists_off = ["csam"]\n',
            "line 2: profiles.child.keywords.lists_off: Value error, the 'csam' keyword list",
        ),
        (
            '[profiles.child.keywords]\nlists_off = ["dating"]\n',
            "categories used but not defined under [categories]: dating",
        ),
        ('[profiles.child.keywords]\nlists_off = ["sports"]\n', "profiles.child.keywords"),
        ("[profiles.child.keywords]\nwords_off = []\n", "words_off: Extra inputs"),
    ],
)
def test_invalid_policies_are_refused_with_the_reason(text: str, message: str) -> None:
    with pytest.raises(PolicyError) as caught:
        parse_policy(text, "family.toml")
    assert str(caught.value).startswith("family.toml: ")
    assert message in str(caught.value)


def test_minimal_policy_gets_defaults() -> None:
    policy = parse_policy(MINIMAL, "p.toml")
    assert policy.default_profile == "child"
    assert policy.category("csam").action is CategoryAction.BLOCK
    assert policy.profiles["child"].safe_search


def test_unreadable_policy_names_the_file(tmp_path: Path) -> None:
    missing = tmp_path / "nope.toml"
    with pytest.raises(PolicyError, match="nope.toml: cannot read"):
        read_policy(missing)


def test_missing_list_is_refused_naming_it(tmp_path: Path) -> None:
    lists = {"lists/adult.txt": "adult.example\n"}
    text = MINIMAL + '[[blocklist]]\npath = "lists/absent.txt"\ncategory = "adult"\n'
    with pytest.raises(PolicyError, match="absent.txt"):
        load_policy(write_policy(tmp_path, text, lists))


def test_bad_policy_entries_are_refused(tmp_path: Path) -> None:
    text = MINIMAL + '[profiles.child]\nallow = ["exa mple.com"]\n'
    with pytest.raises(PolicyError, match="profiles.child.allow"):
        load_policy(write_policy(tmp_path, text, {}))


def test_malformed_list_lines_are_reported_with_file_and_line(tmp_path: Path) -> None:
    lists = {"lists/adult.txt": "adult.example\nbad..example\nfine.example\n"}
    text = MINIMAL + '[[blocklist]]\npath = "lists/adult.txt"\ncategory = "adult"\n'
    compiled = load_policy(write_policy(tmp_path, text, lists))
    assert len(compiled.problems) == 1
    assert "adult.txt:2" in compiled.problems[0]
    assert len(compiled.profile().lists[0].domains) == 2


def test_lists_are_relative_to_the_policy_file(tmp_path: Path) -> None:
    compiled = load_policy(write_policy(tmp_path / "elsewhere", POLICY))
    assert all(
        Path(item.source).is_relative_to(tmp_path / "elsewhere")
        for item in compiled.profile().lists
    )
