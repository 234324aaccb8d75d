"""Profiles chosen by OS user: the lookup `compile_policy` builds from `users = [...]`."""

from __future__ import annotations

from pathlib import Path

import pytest

from abhaya.filters.policy.compile import load_policy
from tests.conftest import POLICY, write_policy

WITH_USERS = POLICY.replace(
    "[profiles.teen]\n", '[profiles.teen]\nusers = ["ravi", "Meera"]\n'
).replace("[profiles.night]\n", '[profiles.night]\nusers = ["asha"]\n')


@pytest.mark.parametrize(
    ("user", "profile"),
    [
        ("ravi", "teen"),
        ("Meera", "teen"),
        ("asha", "night"),
        ("meera", "child"),  # account names are matched exactly
        ("guest", "child"),  # named by no profile: the default
        ("", "child"),  # the connection could not be attributed: the default
    ],
)
def test_each_user_gets_the_profile_that_names_it(tmp_path: Path, user: str, profile: str) -> None:
    compiled = load_policy(write_policy(tmp_path, WITH_USERS))
    assert compiled.profile_for_user(user) is compiled.profiles[profile]


def test_without_users_everybody_gets_the_default(tmp_path: Path) -> None:
    compiled = load_policy(write_policy(tmp_path))
    assert dict(compiled.users) == {}
    assert compiled.profile_for_user("ravi") is compiled.profile()
