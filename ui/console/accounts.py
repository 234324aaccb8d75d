"""The OS accounts a child may use on this computer, offered by the walk-through.

The console runs on the computer the agent filters (the API listens on loopback only), so its
own account list is the agent's.  The accounts offered are those people log in to: a uid from
1000 (the first one `adduser` gives a person on Debian and Ubuntu) and a login shell, the same
rule the installer uses when it trusts the CA in each person's browser.
"""

from __future__ import annotations

import pwd

from abhaya.installer.ca.nss import NO_LOGIN_SHELLS, NOBODY_UID

FIRST_PERSON_UID = 1000


def person_accounts() -> tuple[str, ...]:
    """Login accounts of people here, by uid; one name per uid (the first the OS lists)."""
    names: dict[int, str] = {}
    for account in pwd.getpwall():
        if not FIRST_PERSON_UID <= account.pw_uid < NOBODY_UID:
            continue
        if account.pw_shell in NO_LOGIN_SHELLS:
            continue
        names.setdefault(account.pw_uid, account.pw_name)
    return tuple(names[uid] for uid in sorted(names))
