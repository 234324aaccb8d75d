"""Trusting the per-install CA on Linux: the system store, and the NSS database of every
filtered account (Chromium's store) and of /etc/skel (for accounts made later).  Firefox keeps
its own store and is told to trust the CA by its enterprise policy (the browser concern)."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import PurePosixPath

from cryptography import x509

from abhaya.installer.base import Check
from abhaya.installer.ca.nss import (
    NICKNAME,
    NSS_DB,
    SKEL,
    TrustInNssDb,
    has_certificate,
    human_accounts,
)
from abhaya.installer.ca.system import BUNDLE, TrustInSystemStore
from abhaya.installer.host import Host
from abhaya.installer.settings import InstallSettings
from abhaya.installer.steps import Step

AGAIN = "run `sudo abhaya install` again"


@dataclass(frozen=True, slots=True)
class CaTrustLinux:
    title: str = "Trust this computer's certificate authority"

    def steps(self, settings: InstallSettings) -> list[Step]:
        source = settings.ca_cert_path
        steps: list[Step] = [
            TrustInSystemStore(
                source,
                settings.public_ca_path,
                "Trust the CA system-wide (programs that use the system's certificates: curl, "
                "Python, package tools); the copy is also the file Firefox's policy names",
            )
        ]
        for account in human_accounts(settings):
            home = PurePosixPath(account.pw_dir)
            steps.append(
                TrustInNssDb(
                    home / NSS_DB,
                    home,
                    account.pw_name,
                    source,
                    f"Trust the CA in {account.pw_name}'s Chromium and Chrome (their own "
                    "certificate database)",
                )
            )
        steps.append(
            TrustInNssDb(
                SKEL / NSS_DB,
                SKEL,
                None,
                source,
                "Trust the CA in Chromium and Chrome for accounts made after this install (the "
                "database new accounts are given)",
            )
        )
        return steps

    def checks(self, settings: InstallSettings, host: Host) -> list[Check]:
        try:
            cert = host.path(settings.ca_cert_path).read_bytes()
            x509.load_pem_x509_certificate(cert)
        except (OSError, ValueError) as err:
            return [
                Check(
                    "the agent's CA certificate is in place",
                    False,
                    f"{settings.ca_cert_path}: {err}",
                    AGAIN,
                )
            ]
        checks = [_public_copy(settings, host, cert), _in_bundle(host, cert)]
        for account in human_accounts(settings):
            home = PurePosixPath(account.pw_dir)
            if host.path(home).is_dir():
                checks.append(
                    _in_nss(host, cert, home / NSS_DB, account.pw_name, f"{account.pw_name}'s")
                )
        checks.append(_in_nss(host, cert, SKEL / NSS_DB, None, "new accounts'"))
        return checks


def _public_copy(settings: InstallSettings, host: Host, cert: bytes) -> Check:
    path = settings.public_ca_path
    try:
        copy = host.path(path).read_bytes()
    except OSError as err:
        return Check("the CA's public copy is in place", False, f"{path}: {err.strerror}", AGAIN)
    return Check(
        "the CA's public copy is the agent's certificate",
        copy == cert,
        "" if copy == cert else f"{path} differs from {settings.ca_cert_path}",
        f"{AGAIN} (it copies the agent's certificate and rebuilds the system store)",
    )


def _in_bundle(host: Host, cert: bytes) -> Check:
    try:
        bundle = host.path(BUNDLE).read_bytes()
    except OSError as err:
        bundle, detail = b"", f"{BUNDLE}: {err.strerror}"
    else:
        detail = f"{BUNDLE} does not contain it"
    found = cert.strip() in bundle
    return Check(
        "the system trusts the CA",
        found,
        "" if found else detail,
        "run `sudo update-ca-certificates`; if that does not help, " + AGAIN,
    )


def _in_nss(host: Host, cert: bytes, db: PurePosixPath, account: str | None, whose: str) -> Check:
    listed = has_certificate(host, db, account)
    found = listed is not None and _same(listed, cert)
    return Check(
        f"{whose} Chromium and Chrome trust the CA",
        found,
        "" if found else f"{db} has no {NICKNAME!r} matching the agent's certificate",
        f"{AGAIN} (it adds the CA to {db})",
    )


def _same(listed: str, cert: bytes) -> bool:
    """Whether one of the certificates `certutil -L -a` printed is `cert`."""
    wanted = x509.load_pem_x509_certificate(cert)
    try:
        return wanted in x509.load_pem_x509_certificates(listed.encode("ascii"))
    except ValueError:
        return False
