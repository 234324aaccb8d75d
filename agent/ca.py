"""The per-install certificate authority that lets the proxy show pages for HTTPS sites.

Its private key never leaves the data folder and is readable by the agent's user alone.  The
CA is written here rather than by mitmproxy's store, because that store also writes PKCS#12
copies of the key, which Abhaya does not keep, and because mitmproxy's generator makes a CA that
may sign other CAs: ours has a path length of 0, so a client that trusts it accepts only site
certificates it signed directly, never a certificate authority that someone made with its key.
"""

from __future__ import annotations

import datetime as dt
import os
from dataclasses import dataclass
from pathlib import Path

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

CA_BASENAME = "mitmproxy"
"""mitmproxy's store looks for `<basename>-ca.pem`; the name is fixed by mitmproxy."""
PUBLIC_CERT_NAME = "abhaya-ca.pem"
CA_COMMON_NAME = "Abhaya local filtering CA"
CA_ORGANIZATION = "Abhaya"
_KEY_SIZE = 2048
_VALID_FOR = dt.timedelta(days=3650)
"""Ten years, as mitmproxy's own CA: the CA goes with an uninstall, not with age."""
_BACKDATED = dt.timedelta(days=2)
"""Valid from two days back, so a clock a little behind does not reject it."""

CA_KEY_USAGE = x509.KeyUsage(
    digital_signature=False,
    content_commitment=False,
    key_encipherment=False,
    data_encipherment=False,
    key_agreement=False,
    key_cert_sign=True,
    crl_sign=True,
    encipher_only=False,
    decipher_only=False,
)
"""A CA's key signs certificates (and revocation lists), nothing else."""


@dataclass(frozen=True, slots=True)
class CaFiles:
    key_and_cert: Path
    """Private key + certificate: mode 0600, read by mitmproxy."""
    public_cert: Path
    """The certificate alone, for browsers and the OS trust store."""
    fingerprint_sha256: str


def ensure_ca(ca_dir: Path) -> CaFiles:
    """Create the CA on first run, tighten permissions, and remove any PKCS#12 copies."""
    ca_dir.mkdir(parents=True, exist_ok=True)
    os.chmod(ca_dir, 0o700)
    key_file = ca_dir / f"{CA_BASENAME}-ca.pem"
    public = ca_dir / PUBLIC_CERT_NAME
    if not key_file.exists():
        key, cert = create_ca()
        pem_key = key.private_bytes(
            encoding=serialization.Encoding.PEM,
            format=serialization.PrivateFormat.TraditionalOpenSSL,
            encryption_algorithm=serialization.NoEncryption(),
        )
        _write_private(key_file, pem_key + cert.public_bytes(serialization.Encoding.PEM))
    os.chmod(key_file, 0o600)
    cert = x509.load_pem_x509_certificate(key_file.read_bytes())
    pem_cert = cert.public_bytes(serialization.Encoding.PEM)
    for name in (PUBLIC_CERT_NAME, f"{CA_BASENAME}-ca-cert.pem"):
        target = ca_dir / name
        if not target.exists() or target.read_bytes() != pem_cert:
            target.write_bytes(pem_cert)
        os.chmod(target, 0o644)
    for stray in ca_dir.glob("*.p12"):
        stray.unlink()
    fingerprint = cert.fingerprint(hashes.SHA256()).hex(":")
    return CaFiles(key_file, public, fingerprint)


def create_ca() -> tuple[rsa.RSAPrivateKey, x509.Certificate]:
    """A new CA key and self-signed certificate that may sign site certificates only.

    As mitmproxy's own (`mitmproxy.certs.create_ca`: serverAuth, keyCertSign and cRLSign), but
    with `pathLenConstraint` 0: its key cannot make an intermediate CA that clients accept.
    """
    key = rsa.generate_private_key(public_exponent=65537, key_size=_KEY_SIZE)
    name = x509.Name(
        [
            x509.NameAttribute(NameOID.COMMON_NAME, CA_COMMON_NAME),
            x509.NameAttribute(NameOID.ORGANIZATION_NAME, CA_ORGANIZATION),
        ]
    )
    now = dt.datetime.now(dt.UTC)
    usage = CA_KEY_USAGE
    cert = (
        x509.CertificateBuilder()
        .serial_number(x509.random_serial_number())
        .subject_name(name)
        .issuer_name(name)
        .not_valid_before(now - _BACKDATED)
        .not_valid_after(now + _VALID_FOR)
        .public_key(key.public_key())
        .add_extension(x509.BasicConstraints(ca=True, path_length=0), critical=True)
        .add_extension(x509.ExtendedKeyUsage([ExtendedKeyUsageOID.SERVER_AUTH]), critical=False)
        .add_extension(usage, critical=True)
        .add_extension(x509.SubjectKeyIdentifier.from_public_key(key.public_key()), critical=False)
        .sign(private_key=key, algorithm=hashes.SHA256())
    )
    return key, cert


def _write_private(path: Path, data: bytes) -> None:
    """Create the file with mode 0600 from the start, so the key is never briefly readable."""
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "wb") as handle:
        handle.write(data)
