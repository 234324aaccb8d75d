"""The CA-trust check reads a trust bundle of the test's own, never the real system store."""

from __future__ import annotations

from pathlib import Path

import pytest
from cryptography.hazmat.primitives import serialization

from abhaya.agent.ca import create_ca, ensure_ca
from abhaya.agent.catrust import CaTrustCheck, system_bundle


def _other_pem() -> bytes:
    _, cert = create_ca()
    return cert.public_bytes(serialization.Encoding.PEM)


def test_the_ca_is_trusted_only_while_the_bundle_holds_it(tmp_path: Path) -> None:
    made = ensure_ca(tmp_path / "ca")
    bundle = tmp_path / "ca-certificates.crt"
    bundle.write_bytes(_other_pem())
    check = CaTrustCheck(made.public_cert, bundle)
    status = check.status()
    assert status["system_trusted"] is False
    assert status["fingerprint_sha256"] == made.fingerprint_sha256
    assert status["trust_store"] == str(bundle)

    bundle.write_bytes(_other_pem() + made.public_cert.read_bytes())
    assert check.status()["system_trusted"] is True  # a changed bundle is read again

    bundle.write_bytes(b"")
    assert check.status()["system_trusted"] is False


def test_no_bundle_means_unknown_not_untrusted(tmp_path: Path) -> None:
    made = ensure_ca(tmp_path / "ca")
    check = CaTrustCheck(made.public_cert, tmp_path / "missing.crt")
    assert check.status()["system_trusted"] is None


def test_the_system_bundle_ignores_this_processs_own_setting(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    """SSL_CERT_FILE changes what one process trusts, not what the computer's programs do."""
    monkeypatch.setenv("SSL_CERT_FILE", str(tmp_path / "own.pem"))
    assert system_bundle() != tmp_path / "own.pem"
