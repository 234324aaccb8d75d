"""Whether the system's trust store holds the agent's CA, as the agent's own account can tell.

Without that trust every inspected HTTPS site shows the child a certificate error instead of
the page or Abhaya's warning, so the console's first-start check and its dashboard say so.  The
agent can read the system bundle (world-readable: OpenSSL, curl, Python and GnuTLS programs
read it); it cannot honestly see the browsers' own stores: each account's Chromium database is
under that account's home (not readable by the agent's account) and Firefox trusts the CA by
its enterprise policy.  Those are checked by `sudo abhaya doctor --save`, whose results the
console reads beside this.  Where no bundle file exists (macOS, Windows, another layout) the
answer is "unknown" (None), never a guess.
"""

from __future__ import annotations

import ssl
import threading
from dataclasses import dataclass
from pathlib import Path

from cryptography import x509
from cryptography.hazmat.primitives import hashes

from abhaya.client import contract


def system_bundle() -> Path:
    """The bundle OpenSSL reads by default on this system (`SSL_CERT_FILE` is ignored: that is
    one process's own setting, not the system's store)."""
    return Path(ssl.get_default_verify_paths().openssl_cafile)


@dataclass(frozen=True, slots=True)
class _Seen:
    stamp: tuple[int, int]
    trusted: bool


class CaTrustCheck:
    """Answers the status call's `ca` field; the bundle is parsed again only when it changes
    (its size or modification time), since the status is asked every few seconds."""

    def __init__(self, cert: Path, bundle: Path) -> None:
        self._cert = x509.load_pem_x509_certificate(cert.read_bytes())
        self._fingerprint = self._cert.fingerprint(hashes.SHA256()).hex(":")
        self._bundle = bundle
        self._seen: _Seen | None = None
        self._lock = threading.Lock()

    def status(self) -> contract.CaStatus:
        return {
            "fingerprint_sha256": self._fingerprint,
            "trust_store": str(self._bundle),
            "system_trusted": self._trusted(),
        }

    def _trusted(self) -> bool | None:
        try:
            info = self._bundle.stat()
        except OSError:
            return None
        stamp = (info.st_mtime_ns, info.st_size)
        with self._lock:
            if self._seen is not None and self._seen.stamp == stamp:
                return self._seen.trusted
        try:
            certificates = x509.load_pem_x509_certificates(self._bundle.read_bytes())
        except OSError:
            return None
        except ValueError:  # no certificate in it at all (an empty or damaged bundle)
            certificates = []
        trusted = self._cert in certificates
        with self._lock:
            self._seen = _Seen(stamp, trusted)
        return trusted
