"""New profiles written into a policy text, and the agent's refusal split by child and field."""

from __future__ import annotations

import pytest

from abhaya.filters.policy.load import PolicyError, parse_policy
from abhaya.ui.console.childsetup import (
    ChildInput,
    Field,
    local_problems,
    policy_facts,
    refusal_fields,
    write_children,
)
from tests.conftest import POLICY

WITH_ACCOUNTS = (
    POLICY.replace("[profiles.teen]\n", '[profiles.teen]\nusers = ["meera"]\n')
    + '\n[device]\nunfiltered_accounts = ["parent"]\n'
)


def test_facts_name_the_accounts_already_claimed() -> None:
    assert not policy_facts(POLICY).has_children
    facts = policy_facts(WITH_ACCOUNTS)
    assert facts.has_children
    assert dict(facts.claimed) == {"meera": "teen", "parent": ""}
    assert facts.profiles == ("child", "teen", "night")


def test_children_are_added_and_the_rest_of_the_file_stays() -> None:
    children = [ChildInput(" Asha ", "under_9", "hi", "asha"), ChildInput("Ravi K", "16_17", "en")]
    written = write_children(WITH_ACCOUNTS, children, policy_facts(WITH_ACCOUNTS))
    assert written.startswith(WITH_ACCOUNTS.split("[profiles.night]")[0])
    policy = parse_policy(written, "walkthrough")
    assert list(policy.profiles) == ["child", "teen", "night", "asha", "ravi_k"]
    assert policy.profiles["asha"].users == ("asha",)
    assert policy.profiles["ravi_k"].users == ()
    assert policy.default_profile == "child"


def test_what_only_the_console_knows_is_refused_before_the_agent_is_asked() -> None:
    facts = policy_facts(WITH_ACCOUNTS)
    children = [
        ChildInput("  ", "9_12", "en"),
        ChildInput("Teen", "9_12", "en", "asha"),
        ChildInput("asha", "9_12", "en", "asha"),
        ChildInput("Asha", "9_12", "en"),
    ]
    assert local_problems(children, facts) == {
        0: {Field.NAME: "walkthrough.name_missing"},
        1: {Field.NAME: "walkthrough.name_taken"},
        2: {Field.ACCOUNT: "walkthrough.account_twice"},
        3: {Field.NAME: "walkthrough.name_taken"},
    }


def _refusal(text: str) -> str:
    with pytest.raises(PolicyError) as raised:
        parse_policy(text, "/etc/abhaya/policy.toml")
    return f"policy refused, the previous one stays in force: {raised.value}"


def test_the_agents_refusal_goes_beside_the_field_it_names() -> None:
    children = [ChildInput("ok", "9_12", "en"), ChildInput("आशा", "9_12", "hi", " bad")]
    written = write_children(POLICY, children, policy_facts(POLICY))
    refusal = refusal_fields(_refusal(written), children)
    assert set(refusal.fields) == {1}
    assert "should match pattern" in refusal.fields[1][Field.NAME]
    assert refusal.fields[1][Field.ACCOUNT] == "user ' bad' is not an OS account name"
    assert refusal.rest == ()


@pytest.mark.parametrize(
    ("message", "fields", "rest"),
    [
        (
            "policy refused: p.toml: line 9: profiles.asha.users: Value error, user ' x' is "
            "not an OS account name; line 3: profiles.teen.language: bad",
            {0: {Field.ACCOUNT: "user ' x' is not an OS account name"}},
            ("profiles.teen.language: bad",),
        ),
        (
            "policy refused: p.toml: (top level): Value error, user 'a' is named by profiles "
            "'teen' and 'asha'",
            {},
            ("(top level): user 'a' is named by profiles 'teen' and 'asha'",),
        ),
        ("the agent is busy", {}, ("the agent is busy",)),
    ],
)
def test_refusals_naming_no_childs_field_are_kept_whole(
    message: str, fields: dict[int, dict[Field, str]], rest: tuple[str, ...]
) -> None:
    refusal = refusal_fields(message, [ChildInput("asha", "9_12", "en", " x")])
    assert refusal.fields == fields
    assert refusal.rest == rest
