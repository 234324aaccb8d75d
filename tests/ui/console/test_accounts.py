"""The accounts offered for a child are people's login accounts of this computer."""

from __future__ import annotations

import pwd

from abhaya.installer.ca.nss import NO_LOGIN_SHELLS
from abhaya.ui.console.accounts import FIRST_PERSON_UID, person_accounts


def test_system_accounts_and_accounts_without_a_login_are_not_offered() -> None:
    offered = person_accounts()
    assert "root" not in offered and "nobody" not in offered
    by_name = {account.pw_name: account for account in pwd.getpwall()}
    for name in offered:
        assert by_name[name].pw_uid >= FIRST_PERSON_UID
        assert by_name[name].pw_shell not in NO_LOGIN_SHELLS
    uids = [by_name[name].pw_uid for name in offered]
    assert uids == sorted(set(uids))
