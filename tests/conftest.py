"""Shared factories for the test suite.

`policy_dir` writes a complete, small policy with generated lists into a temporary folder, so
tests exercise the real loaders and compilers rather than hand-built structures.  Terms and
domains are invented; nothing explicit is needed to test the positive paths.
"""

from __future__ import annotations

import datetime as dt
import os
import tempfile
import textwrap
from pathlib import Path

import pytest

# The query model's encoder is built here once (seconds) and shared by every agent and CLI run
# of the suite, and by later runs: the cache checks itself and is rebuilt when it does not match.
TEST_MODEL_DIR = Path(tempfile.gettempdir()) / f"abhaya-test-models-{os.getuid()}"
os.environ["ABHAYA_MODEL_DIR"] = str(TEST_MODEL_DIR)  # for `abhaya run/check` in subprocesses

# A Monday, 10:00 in Asia/Kolkata.
MONDAY_MORNING = dt.datetime(2026, 11, 30, 4, 30, tzinfo=dt.UTC)

LISTS = {
    "lists/csam.txt": "csam-test.invalid\n",
    "lists/adult.txt": "# category: adult\nadult.example\nalso-adult.example\n",
    "lists/gambling.hosts": "0.0.0.0 bet.example casino.example # two names\n",
    "lists/anon.txt": "[Adblock Plus 2.0]\n||proxy.example^\n@@||ok.proxy.example^\n",
    "lists/violence/domains": "gore.example\n",
    "lists/violence/urls": "news.example/graphic\n",
    "lists/allow.txt": "school.example\n",
    "lists/games.txt": "games.example\n",
    "keywords/csam.txt": "# category: csam\nzanzibar quokka\n",
    "keywords/gambling.txt": "online casino\nsatta matka\n",
    "keywords/self_harm.txt": "want to vanish forever\n",
}

POLICY = """\
version = 1
timezone = "Asia/Kolkata"
jurisdiction = "in"
default_profile = "child"
passthrough = ["bank.example"]

[categories.csam]
action = "block"
[categories.adult]
action = "block"
[categories.gambling]
action = "block"
ask_parent = true
[categories.anonymizers]
action = "block"
[categories.violence]
action = "block"
[categories.self_harm]
action = "warn"
[categories.games]
action = "warn"
allow_continue = true

[profiles.child]
safe_search = true
allow = ["csam-test.invalid", "allowed-adult.adult.example", "www.google.com"]
block = ["custom.example", "wiki.example/private"]

[profiles.teen]
safe_search = false
categories = { gambling = "warn", adult = "allow" }

[profiles.night]
[[profiles.night.schedule]]
days = ["mon", "tue", "wed", "thu", "fri"]
start = "16:00"
end = "20:00"

[[blocklist]]
path = "lists/csam.txt"
category = "csam"
[[blocklist]]
path = "lists/adult.txt"
category = "adult"
[[blocklist]]
path = "lists/gambling.hosts"
category = "gambling"
[[blocklist]]
path = "lists/anon.txt"
category = "anonymizers"
[[blocklist]]
path = "lists/violence"
category = "violence"
[[blocklist]]
path = "lists/games.txt"
category = "games"
[[allowlist]]
path = "lists/allow.txt"
[[keywords]]
path = "keywords/csam.txt"
category = "csam"
[[keywords]]
path = "keywords/gambling.txt"
category = "gambling"
[[keywords]]
path = "keywords/self_harm.txt"
category = "self_harm"
"""


def with_allowed_hours(policy: str, start: str, end: str) -> str:
    """`policy` (the test policy or one built on it) with the child's browsing allowed from
    `start` to `end` (HH:MM, in its time zone) on every day of the week."""
    window = f'[[profiles.child.schedule]]\nstart = "{start}"\nend = "{end}"\n\n'
    assert policy.count("[profiles.teen]\n") == 1, "the child's table is followed by the teen's"
    return policy.replace("[profiles.teen]\n", window + "[profiles.teen]\n")


def write_policy(folder: Path, policy: str = POLICY, lists: dict[str, str] | None = None) -> Path:
    """Write a policy and its lists into `folder`; returns the policy file's path."""
    for relative, content in (LISTS if lists is None else lists).items():
        path = folder / relative
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(content, encoding="utf-8")
    policy_file = folder / "policy.toml"
    policy_file.write_text(textwrap.dedent(policy), encoding="utf-8")
    return policy_file


@pytest.fixture
def policy_file(tmp_path: Path) -> Path:
    return write_policy(tmp_path / "policy")
