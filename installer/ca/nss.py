"""Trust in an NSS database: the store Chromium (and Chrome) read on Linux, one per account in
`~/.pki/nssdb`, plus the one in `/etc/skel` that new accounts start with.

`certutil` runs as the account that owns the database (through `runuser`), so the files it
makes are that account's own and root never writes by path inside a folder a child controls.
A database the install made is removed on undo, but only while it holds nothing else (no other
certificate, no key): Chromium keeps the account's own imported certificates there.
"""

from __future__ import annotations

import pwd
import shlex
from dataclasses import dataclass
from pathlib import PurePosixPath
from typing import ClassVar

from abhaya.agent.ca import CA_COMMON_NAME
from abhaya.installer.host import Host, InstallError
from abhaya.installer.settings import InstallSettings
from abhaya.installer.steps import Argv, JsonValue, Undo

NICKNAME = CA_COMMON_NAME
"""The name the CA has in every NSS database; undo deletes by it."""
TRUST = "C,,"
"""A CA trusted to issue site (TLS server) certificates, and nothing else (no mail, no code)."""
NSS_DB = PurePosixPath(".pki/nssdb")
"""Where Chromium keeps an account's database, under its home folder."""
SKEL = PurePosixPath("/etc/skel")
NOBODY_UID = 65534
NO_LOGIN_SHELLS = frozenset({"/usr/sbin/nologin", "/sbin/nologin", "/bin/false", "/usr/bin/false"})
_MAX_COPIES = 16
"""Certificates under our nickname deleted at most (a stale CA from an older install)."""


def human_accounts(settings: InstallSettings) -> list[pwd.struct_passwd]:
    """The accounts people log in to (uid from `first_human_uid`, a login shell), one per home
    folder, minus the unfiltered (parents') accounts: their traffic never reaches the agent,
    so their browsers are not asked to trust a CA they never need."""
    seen: set[str] = set()
    accounts = []
    for account in sorted(pwd.getpwall(), key=lambda a: a.pw_uid):
        if not settings.first_human_uid <= account.pw_uid < NOBODY_UID:
            continue
        if account.pw_shell in NO_LOGIN_SHELLS or account.pw_dir in seen:
            continue
        if account.pw_name in settings.unfiltered_accounts:
            continue
        seen.add(account.pw_dir)
        accounts.append(account)
    return accounts


def as_account(account: str | None, argv: Argv) -> Argv:
    """`argv` run as `account` (None: as root, for /etc/skel)."""
    return argv if account is None else ("runuser", "-u", account, "--", *argv)


def sql_db(host: Host, db: PurePosixPath) -> str:
    return f"sql:{host.path(db)}"


def has_certificate(host: Host, db: PurePosixPath, account: str | None) -> str | None:
    """The PEM certificate(s) under our nickname in `db`, or None when there is none."""
    listed = host.run(
        as_account(account, ("certutil", "-L", "-d", sql_db(host, db), "-n", NICKNAME, "-a")),
        check=False,
    )
    return (
        listed.stdout if listed.returncode == 0 and "BEGIN CERTIFICATE" in listed.stdout else None
    )


def _delete_ours(host: Host, db: PurePosixPath, account: str | None) -> None:
    delete = as_account(account, ("certutil", "-D", "-d", sql_db(host, db), "-n", NICKNAME))
    for _ in range(_MAX_COPIES):
        if has_certificate(host, db, account) is None:
            return
        host.run(delete)
    raise InstallError(f"cannot remove {NICKNAME!r} from {db}: it is still there")


def _holds_nothing_else(host: Host, db: PurePosixPath, account: str | None) -> bool:
    listed = host.run(as_account(account, ("certutil", "-L", "-d", sql_db(host, db))))
    certificates = [line for line in listed.stdout.splitlines()[3:] if line.strip()]
    keys = host.run(as_account(account, ("certutil", "-K", "-d", sql_db(host, db))), check=False)
    return (
        not certificates and keys.returncode != 0 and "no keys found" in keys.stdout + keys.stderr
    )


@dataclass(frozen=True, slots=True)
class TrustInNssDb:
    """The CA (read from `source` when applied) trusted for sites in the database `db`, which
    is made first if `home` has none; skipped when `home` does not exist."""

    kind: ClassVar[str] = "nss-ca"
    db: PurePosixPath
    home: PurePosixPath
    account: str | None
    """Who owns the database (None: root, for /etc/skel)."""
    source: PurePosixPath
    why: str

    @property
    def key(self) -> str:
        return f"nss:{self.db}"

    def _argv(self, *argv: str) -> str:
        return shlex.join(as_account(self.account, argv))

    def describe(self) -> list[str]:
        db = f"sql:{self.db}"
        return [
            self.why,
            f"  run: {self._argv('certutil', '-N', '-d', db, '--empty-password')}"
            f"  (only if {self.db} has no database yet; nothing if {self.home} does not exist)",
            f"  run: {self._argv('certutil', '-A', '-d', db, '-n', NICKNAME, '-t', TRUST, '-a')}"
            f"  (the certificate {self.source} on its input)",
        ]

    def _folders(self) -> list[PurePosixPath]:
        """The folders between the home folder and the database, outermost first."""
        relative = self.db.relative_to(self.home)
        return [self.home.joinpath(*relative.parts[: n + 1]) for n in range(len(relative.parts))]

    def apply(self, host: Host, previous: Undo | None) -> Undo:
        data: dict[str, JsonValue] = {"db": str(self.db), "account": self.account}
        if self.account is not None:
            try:
                pwd.getpwnam(self.account)
            except KeyError:
                return Undo(self.kind, self.key, f"nothing ({self.account} is gone)", data)
        if not host.path(self.home).is_dir():
            return Undo(self.kind, self.key, f"nothing ({self.home} does not exist)", data)
        try:
            pem = host.path(self.source).read_text(encoding="ascii")
        except (OSError, ValueError) as err:
            raise InstallError(f"cannot read the CA certificate {self.source}: {err}") from None
        if previous is not None and "created" in previous.data:
            made = previous.data.get("made") or []
            created = bool(previous.data.get("created"))
        else:
            made = [str(f) for f in self._folders() if not host.path(f).exists()]
            created = not host.path(self.db / "cert9.db").exists()
        for folder in self._folders():
            if not host.path(folder).exists():
                host.run(as_account(self.account, ("mkdir", "-m", "0700", str(host.path(folder)))))
        if not host.path(self.db / "cert9.db").exists():
            host.run(
                as_account(
                    self.account,
                    ("certutil", "-N", "-d", sql_db(host, self.db), "--empty-password"),
                )
            )
        _delete_ours(host, self.db, self.account)
        add = ("certutil", "-A", "-d", sql_db(host, self.db), "-n", NICKNAME, "-t", TRUST, "-a")
        host.run(as_account(self.account, add), input_text=pem)
        summary = f"remove {NICKNAME!r} from {self.db}"
        if created:
            summary += " (and the database, if it holds nothing else)"
        return Undo(self.kind, self.key, summary, {**data, "created": created, "made": made})

    @classmethod
    def undo(cls, host: Host, record: Undo) -> None:
        if "created" not in record.data:
            return  # the step was skipped: nothing was done
        db = PurePosixPath(str(record.data["db"]))
        account = record.data.get("account")
        account = account if isinstance(account, str) else None
        if account is not None:
            try:
                pwd.getpwnam(account)
            except KeyError:
                return  # the account (and what was in its home) is no longer ours to change
        if host.path(db / "cert9.db").exists():
            _delete_ours(host, db, account)
            if not record.data.get("created") or not _holds_nothing_else(host, db, account):
                return
            files = [str(host.path(db / name)) for name in ("cert9.db", "key4.db", "pkcs11.txt")]
            host.run(as_account(account, ("rm", "-f", "--", *files)))
        made = record.data.get("made") or []
        assert isinstance(made, list)
        for folder in reversed(made):
            # Not empty (the account put something there): it stays.
            host.run(as_account(account, ("rmdir", "--", str(host.path(str(folder))))), check=False)
