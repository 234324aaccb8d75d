"""The agent's account, folders, policy and CA, installed into a scratch root as root."""

from __future__ import annotations

import pwd
import stat

from cryptography import x509
from cryptography.hazmat.primitives import hashes

from abhaya.installer.account.linux import AccountLinux
from abhaya.installer.host import Host
from abhaya.installer.plan import apply_plan, uninstall
from abhaya.installer.settings import InstallSettings, TargetOS
from tests.installer.conftest import account_name, concern_plan, needs_root, snapshot


def _settings(user: str) -> InstallSettings:
    return InstallSettings(
        TargetOS.LINUX, ("/opt/abhaya/bin/abhaya",), policy_text="version = 1\n", service_user=user
    )


@needs_root
def test_the_account_owns_its_folders_and_alone_reads_the_cas_key(scratch: Host) -> None:
    user = account_name()
    settings = _settings(user)
    before = snapshot(scratch.root)
    concern = AccountLinux()
    apply_plan(concern_plan(concern, settings), scratch)
    try:
        account = pwd.getpwnam(user)
        data = scratch.path(settings.data_dir)
        key = data / "ca" / "mitmproxy-ca.pem"
        assert stat.S_IMODE(data.stat().st_mode) == 0o700
        assert stat.S_IMODE(key.stat().st_mode) == 0o600
        assert key.stat().st_uid == account.pw_uid
        policy = scratch.path("/etc/abhaya/policy/policy.toml")
        assert policy.read_text() == "version = 1\n"
        assert (policy.stat().st_uid, stat.S_IMODE(policy.stat().st_mode)) == (
            account.pw_uid,
            0o640,
        )
        cert = x509.load_pem_x509_certificate((data / "ca" / "abhaya-ca.pem").read_bytes())
        assert cert.subject == cert.issuer
        config = scratch.path("/etc/abhaya").stat()
        assert (config.st_uid, config.st_gid, stat.S_IMODE(config.st_mode)) == (
            0,
            account.pw_gid,
            0o750,
        )
        assert all(check.ok for check in concern.checks(settings, scratch))
        key.chmod(0o644)
        loose = concern.checks(settings, scratch)
        assert not loose[0].ok
        assert "chmod 600" in loose[0].fix
    finally:
        outcome = uninstall(scratch)
    assert outcome.failed == []
    assert user not in {entry.pw_name for entry in pwd.getpwall()}
    assert snapshot(scratch.root) == before


@needs_root
def test_each_install_makes_its_own_ca(scratch: Host) -> None:
    user = account_name()
    concern = AccountLinux()
    settings = _settings(user)
    fingerprints = []
    for _ in range(2):
        apply_plan(concern_plan(concern, settings), scratch)
        pem = scratch.path(settings.ca_cert_path).read_bytes()
        fingerprints.append(x509.load_pem_x509_certificate(pem).fingerprint(hashes.SHA256()))
        uninstall(scratch)
    assert fingerprints[0] != fingerprints[1]
