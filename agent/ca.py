"""The per-install certificate authority that lets the proxy show pages for HTTPS sites.

Its private key never leaves the data folder and is readable by the agent's user alone.  The
CA is written here (with mitmproxy's own generator) rather than by mitmproxy's store, because
that store also writes PKCS#12 copies of the key, which Abhaya does not keep.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from mitmproxy import certs

CA_BASENAME = "mitmproxy"
"""mitmproxy's store looks for `<basename>-ca.pem`; the name is fixed by mitmproxy."""
PUBLIC_CERT_NAME = "abhaya-ca.pem"
CA_COMMON_NAME = "Abhaya local filtering CA"
_KEY_SIZE = 2048


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
        key, cert = certs.create_ca(organization="Abhaya", cn=CA_COMMON_NAME, key_size=_KEY_SIZE)
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


def _write_private(path: Path, data: bytes) -> None:
    """Create the file with mode 0600 from the start, so the key is never briefly readable."""
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "wb") as handle:
        handle.write(data)
