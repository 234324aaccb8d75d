"""CA trust on Linux, on real parts: the real `update-ca-certificates` on a scratch root laid
out as Debian's, real NSS databases in the homes of real test accounts (made with useradd and
removed after), a real TLS server on loopback and real clients (Python's ssl, `certutil -V`)."""

from __future__ import annotations

import hashlib
import os
import secrets
import shutil
import ssl
import stat
import subprocess
import tempfile
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path, PurePosixPath

import pytest
import trustme

from abhaya.agent.ca import ensure_ca
from abhaya.installer.ca.linux import CaTrustLinux
from abhaya.installer.ca.nss import NICKNAME
from abhaya.installer.host import Host
from abhaya.installer.plan import Plan, apply_plan, uninstall
from abhaya.installer.settings import InstallSettings, TargetOS
from tests.installer.conftest import concern_plan
from tests.tlsparts import Signed, handshake, load_ca, sign, tls_server

pytestmark = pytest.mark.skipif(
    os.geteuid() != 0, reason="makes test accounts and runs certutil as them: needs root"
)

SITE = "site.abhaya-test.example"
LEAF = "abhaya-test-site"
"""The site certificate's nickname in the test account's own database (no trust of its own)."""


@dataclass(frozen=True, slots=True)
class Machine:
    host: Host
    settings: InstallSettings
    kid: str
    """Has a Chromium database before the install, holding the site certificate untrusted."""
    new_kid: str
    """Has no database: the install makes one."""
    parent: str
    """Unfiltered: the install leaves the account's home alone."""
    leaf: Signed

    @property
    def bundle(self) -> Path:
        return self.host.path("/etc/ssl/certs/ca-certificates.crt")

    def db(self, account: str) -> Path:
        return self.host.path(f"/home/{account}/.pki/nssdb")

    def plan(self) -> Plan:
        concern = CaTrustLinux()
        return concern_plan(concern, self.settings)


def run(*argv: str, input_text: str | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run(argv, input=input_text, capture_output=True, text=True, check=False)


def as_user(account: str, *argv: str, input_text: str | None = None) -> None:
    done = run("runuser", "-u", account, "--", *argv, input_text=input_text)
    assert done.returncode == 0, done.stderr


def verifies(account: str, db: Path) -> bool:
    """Whether `account`'s NSS database accepts the site certificate for a TLS server."""
    done = run(
        "runuser", "-u", account, "--",
        "certutil", "-V", "-d", f"sql:{db}", "-n", LEAF, "-u", "V",
    )  # fmt: skip
    return done.returncode == 0


def add_account(name: str, root: Path) -> None:
    made = run("useradd", "--user-group", "--no-create-home", "--home-dir", f"/home/{name}",
               "--shell", "/bin/bash", name)  # fmt: skip
    assert made.returncode == 0, made.stderr
    home = root / "home" / name
    home.mkdir(mode=0o750)
    shutil.chown(home, name, name)
    (home / ".bashrc").write_text("# the account's own\n")
    shutil.chown(home / ".bashrc", name, name)


def remove_account(name: str) -> None:
    run("userdel", name)


def debian_layout(root: Path) -> None:
    """The parts of a Debian root the system store uses, with one CA of the machine's own
    (listed in ca-certificates.conf), built by the real tool as the package would."""
    for folder in ("etc/ssl/certs", "usr/local/share/ca-certificates", "home", "etc/skel",
                   "usr/share/ca-certificates/mozilla"):  # fmt: skip
        (root / folder).mkdir(parents=True, mode=0o755)
    (root / "etc/skel/.bashrc").write_text("# new accounts start with this\n")
    trustme.CA().cert_pem.write_to_path(str(root / "usr/share/ca-certificates/mozilla/Own.crt"))
    (root / "etc/ca-certificates.conf").write_text("# the machine's own\nmozilla/Own.crt\n")
    # A hook like ca-certificates-java's: it reads "+PATH" / "-PATH" lines on its input.
    hook = root / "etc/ca-certificates/update.d/record"
    hook.parent.mkdir(parents=True)
    hook.write_text(f"#!/bin/sh\ncat >> {hook_log(root)}\n")
    hook.chmod(0o755)
    done = run(
        "update-ca-certificates",
        "--certsconf", str(root / "etc/ca-certificates.conf"),
        "--certsdir", str(root / "usr/share/ca-certificates"),
        "--localcertsdir", str(root / "usr/local/share/ca-certificates"),
        "--etccertsdir", str(root / "etc/ssl/certs"),
        "--hooksdir", str(root / "etc/ca-certificates/update.d"),
    )  # fmt: skip
    assert done.returncode == 0, done.stderr


def hook_log(root: Path) -> Path:
    """What the store's hooks were told, kept beside the root (not in it: the snapshots)."""
    return root.with_name(root.name + ".hooks.log")


@pytest.fixture
def machine() -> Iterator[Machine]:
    # Not pytest's tmp_path: its parents are private to root, and the test accounts must reach
    # their homes under this root.
    root = Path(tempfile.mkdtemp(prefix="abhaya-ca-root-"))
    os.chmod(root, 0o755)
    tag = secrets.token_hex(3)
    names = [f"abhtest-kid-{tag}", f"abhtest-new-{tag}", f"abhtest-par-{tag}"]
    try:
        debian_layout(root)
        for name in names:
            add_account(name, root)
        settings = InstallSettings(TargetOS.LINUX, ("abhaya",), unfiltered_accounts=(names[2],))
        host = Host(root=root)
        made = ensure_ca(host.path(settings.data_dir / "ca"))
        leaf = sign(load_ca(made.key_and_cert), SITE)
        kid_db = host.path(f"/home/{names[0]}/.pki/nssdb")
        as_user(names[0], "mkdir", "-p", "-m", "0700", str(kid_db))
        as_user(names[0], "certutil", "-N", "-d", f"sql:{kid_db}", "--empty-password")
        as_user(names[0], "certutil", "-A", "-d", f"sql:{kid_db}", "-n", LEAF, "-t", ",,", "-a",
                input_text=leaf.cert_pem.decode())  # fmt: skip
        yield Machine(host, settings, names[0], names[1], names[2], leaf)
    finally:
        for name in names:
            remove_account(name)
        shutil.rmtree(root)
        hook_log(root).unlink(missing_ok=True)


def snapshot(root: Path, databases: list[Path]) -> dict[str, object]:
    """Every file, folder and link under `root`: kind, mode, owner and content hash.  The NSS
    databases that were there before are SQLite files that adding and deleting rewrite in
    place, so for them what is compared is what they hold (`certutil -L`)."""
    seen: dict[str, object] = {}
    for folder, dirs, files in os.walk(root):
        for name in dirs + files:
            path = Path(folder) / name
            info = path.lstat()
            what: object
            if stat.S_ISLNK(info.st_mode):
                what = ("link", os.readlink(path))
            elif stat.S_ISDIR(info.st_mode):
                what = ("folder", info.st_mode, info.st_uid, info.st_gid)
            elif path.parent in databases and name in ("cert9.db", "key4.db"):
                what = ("nss", info.st_mode, info.st_uid)
            else:
                digest = hashlib.sha256(path.read_bytes()).hexdigest()
                what = ("file", info.st_mode, info.st_uid, info.st_gid, digest)
            seen[str(path.relative_to(root))] = what
    for db in databases:
        listed = run("certutil", "-L", "-d", f"sql:{db}")
        seen[f"{db} holds"] = listed.stdout
    return seen


def test_sites_the_agent_signs_are_trusted_after_install_and_not_after_uninstall(
    machine: Machine, tmp_path: Path
) -> None:
    host, kid = machine.host, machine.kid
    kid_db = machine.db(kid)
    before = snapshot(host.root, [kid_db])
    with tls_server(tmp_path, [machine.leaf]) as port:
        with pytest.raises(ssl.SSLCertVerificationError):
            handshake(port, SITE, machine.bundle)
        assert not verifies(kid, kid_db)

        apply_plan(machine.plan(), host)
        apply_plan(machine.plan(), host)  # twice is once

        handshake(port, SITE, machine.bundle)
        assert verifies(kid, kid_db)
        assert NICKNAME in run("certutil", "-L", "-d", f"sql:{kid_db}").stdout

        public = host.path(machine.settings.public_ca_path)
        assert public.read_bytes() == host.path(machine.settings.ca_cert_path).read_bytes()
        assert public.stat().st_mode & 0o777 == 0o644
        new_db = machine.db(machine.new_kid)
        assert new_db.stat().st_uid == new_db.parent.stat().st_uid != 0
        assert (new_db / "cert9.db").stat().st_uid == new_db.stat().st_uid
        assert NICKNAME in run("certutil", "-L", "-d", f"sql:{new_db}").stdout
        assert not machine.db(machine.parent).parent.exists()
        assert all(check.ok for check in CaTrustLinux().checks(machine.settings, host))

        outcome = uninstall(host)
        assert not outcome.failed

        with pytest.raises(ssl.SSLCertVerificationError):
            handshake(port, SITE, machine.bundle)
        assert not verifies(kid, kid_db)
    assert snapshot(host.root, [kid_db]) == before
    # The hooks (Java's keystore) heard of the CA's arrival and of its removal.
    told = hook_log(host.root).read_text().splitlines()
    pem = f"{host.root}/etc/ssl/certs/abhaya-ca.pem"
    assert told[-2:] == [f"+{pem}", f"-{pem}"]


def test_an_account_made_after_the_install_trusts_the_ca(machine: Machine) -> None:
    """A new account gets its Chromium database from /etc/skel, with the CA already in it."""
    apply_plan(machine.plan(), machine.host)
    name = f"abhtest-late-{secrets.token_hex(3)}"
    home = Path(tempfile.mkdtemp(prefix="abhaya-ca-home-"))
    home.rmdir()
    try:
        skel = str(machine.host.path("/etc/skel"))
        made = run("useradd", "--create-home", "--skel", skel, "--home-dir", str(home),
                   "--user-group", "--shell", "/bin/bash", name)  # fmt: skip
        assert made.returncode == 0, made.stderr
        db = home / ".pki/nssdb"
        as_user(name, "certutil", "-A", "-d", f"sql:{db}", "-n", LEAF, "-t", ",,", "-a",
                input_text=machine.leaf.cert_pem.decode())  # fmt: skip
        assert verifies(name, db)
    finally:
        run("userdel", "--remove", name)
        shutil.rmtree(home, ignore_errors=True)
    uninstall(machine.host)


def test_checks_say_what_is_missing_and_how_to_fix_it(machine: Machine) -> None:
    checks = CaTrustLinux().checks
    apply_plan(machine.plan(), machine.host)
    kid_db = machine.db(machine.kid)
    as_user(machine.kid, "certutil", "-D", "-d", f"sql:{kid_db}", "-n", NICKNAME)
    machine.host.path(machine.settings.public_ca_path).write_text("not the agent's\n")
    failed = {check.name: check for check in checks(machine.settings, machine.host) if not check.ok}
    assert set(failed) == {
        "the CA's public copy is the agent's certificate",
        f"{machine.kid}'s Chromium and Chrome trust the CA",
    }
    assert all("abhaya install" in check.fix for check in failed.values())

    apply_plan(machine.plan(), machine.host)  # installing again mends both
    assert all(check.ok for check in checks(machine.settings, machine.host))

    uninstall(machine.host)
    after = {check.name: check.ok for check in checks(machine.settings, machine.host)}
    assert after["the system trusts the CA"] is False
    assert after[f"{machine.kid}'s Chromium and Chrome trust the CA"] is False
    assert after["new accounts' Chromium and Chrome trust the CA"] is False


def test_a_dry_run_needs_no_certificate_yet(machine: Machine) -> None:
    """The CA is made by an earlier step of the same install: the plan only names it."""
    shutil.rmtree(machine.host.path(machine.settings.data_dir))
    text = machine.plan().render()
    assert f"copy {machine.settings.ca_cert_path} to {machine.settings.public_ca_path}" in text
    assert "then run: update-ca-certificates" in text
    assert f"runuser -u {machine.new_kid} -- certutil -A -d sql:/home/{machine.new_kid}/" in text
    assert machine.parent not in text
    assert "certutil -A -d sql:/etc/skel/.pki/nssdb" in text


def test_a_missing_certificate_fails_the_install_and_rolls_it_back(machine: Machine) -> None:
    before = snapshot(machine.host.root, [machine.db(machine.kid)])
    machine.host.path(machine.settings.ca_cert_path).unlink()
    with pytest.raises(Exception, match="cannot read"):
        apply_plan(machine.plan(), machine.host)
    after = snapshot(machine.host.root, [machine.db(machine.kid)])
    del before[str(PurePosixPath("var/lib/abhaya/ca/abhaya-ca.pem"))]
    assert after == before
