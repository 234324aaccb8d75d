"""The per-install CA signs site certificates only, and a CA already on disk is kept."""

from __future__ import annotations

import ssl
from pathlib import Path

import pytest
from cryptography import x509
from cryptography.x509.oid import ExtendedKeyUsageOID

from abhaya.agent.ca import CA_COMMON_NAME, ensure_ca
from tests.tlsparts import handshake, load_ca, sign, tls_server

SITE = "site.abhaya-test.example"


def test_a_new_ca_may_sign_sites_but_no_other_ca(tmp_path: Path) -> None:
    made = ensure_ca(tmp_path / "ca")
    cert = x509.load_pem_x509_certificate(made.public_cert.read_bytes())
    constraints = cert.extensions.get_extension_for_class(x509.BasicConstraints)
    assert constraints.critical
    assert constraints.value.ca is True
    assert constraints.value.path_length == 0
    usage = cert.extensions.get_extension_for_class(x509.KeyUsage).value
    assert usage.key_cert_sign and usage.crl_sign and not usage.digital_signature
    extended = cert.extensions.get_extension_for_class(x509.ExtendedKeyUsage).value
    assert list(extended) == [ExtendedKeyUsageOID.SERVER_AUTH]
    assert cert.subject.rfc4514_string() == f"O=Abhaya,CN={CA_COMMON_NAME}"


def test_a_client_that_trusts_the_ca_accepts_its_sites_and_refuses_its_sub_cas(
    tmp_path: Path,
) -> None:
    """With the CA's key, someone could make an intermediate CA; clients must refuse what
    that intermediate signs, so a leaked key cannot mint a CA that outlives the install."""
    made = ensure_ca(tmp_path / "ca")
    ca = load_ca(made.key_and_cert)
    with tls_server(tmp_path, [sign(ca, SITE)]) as port:
        handshake(port, SITE, made.public_cert)
    intermediate = sign(ca, "Intermediate made with the key", ca=True)
    with (
        tls_server(tmp_path, [sign(intermediate, SITE), intermediate]) as port,
        pytest.raises(ssl.SSLCertVerificationError, match="path length"),
    ):
        handshake(port, SITE, made.public_cert)


def test_an_existing_ca_is_kept(tmp_path: Path) -> None:
    first = ensure_ca(tmp_path / "ca")
    before = first.key_and_cert.read_bytes()
    again = ensure_ca(tmp_path / "ca")
    assert again.key_and_cert.read_bytes() == before
    assert again.fingerprint_sha256 == first.fingerprint_sha256
    assert first.key_and_cert.stat().st_mode & 0o777 == 0o600
    assert first.public_cert.stat().st_mode & 0o777 == 0o644
