"""Certificates signed by the agent's own CA, and a real TLS server on loopback that serves
them, for tests that ask whether a trust store accepts what the agent signs."""

from __future__ import annotations

import contextlib
import datetime as dt
import socket
import ssl
import threading
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

from abhaya.agent.ca import CA_KEY_USAGE


@dataclass(frozen=True, slots=True)
class Signed:
    cert: x509.Certificate
    key: rsa.RSAPrivateKey

    @property
    def cert_pem(self) -> bytes:
        return self.cert.public_bytes(serialization.Encoding.PEM)

    @property
    def key_pem(self) -> bytes:
        return self.key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )


def load_ca(key_and_cert: Path) -> Signed:
    """The CA as the agent keeps it: key and certificate in mitmproxy-ca.pem."""
    data = key_and_cert.read_bytes()
    key = serialization.load_pem_private_key(data, password=None)
    assert isinstance(key, rsa.RSAPrivateKey)
    return Signed(x509.load_pem_x509_certificate(data), key)


def sign(issuer: Signed, name: str, *, ca: bool = False) -> Signed:
    """A site certificate for `name` (or, with `ca`, an intermediate CA) signed by `issuer`."""
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    now = dt.datetime.now(dt.UTC)
    builder = (
        x509.CertificateBuilder()
        .serial_number(x509.random_serial_number())
        .subject_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, name)]))
        .issuer_name(issuer.cert.subject)
        .not_valid_before(now - dt.timedelta(hours=1))
        .not_valid_after(now + dt.timedelta(days=2))
        .public_key(key.public_key())
        .add_extension(
            x509.AuthorityKeyIdentifier.from_issuer_public_key(issuer.key.public_key()),
            critical=False,
        )
        .add_extension(x509.SubjectKeyIdentifier.from_public_key(key.public_key()), critical=False)
    )
    if ca:
        builder = builder.add_extension(
            x509.BasicConstraints(ca=True, path_length=None), critical=True
        ).add_extension(
            CA_KEY_USAGE,
            critical=True,
        )
    else:
        builder = (
            builder.add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
            .add_extension(x509.SubjectAlternativeName([x509.DNSName(name)]), critical=False)
            .add_extension(x509.ExtendedKeyUsage([ExtendedKeyUsageOID.SERVER_AUTH]), critical=False)
        )
    return Signed(builder.sign(issuer.key, hashes.SHA256()), key)


@contextlib.contextmanager
def tls_server(folder: Path, chain: list[Signed]) -> Iterator[int]:
    """A TLS server on 127.0.0.1 presenting `chain` (site certificate first); yields its port.
    Each connection completes (or fails) its handshake, then is closed."""
    cert_file = folder / "server-chain.pem"
    key_file = folder / "server-key.pem"
    cert_file.write_bytes(b"".join(link.cert_pem for link in chain))
    key_file.write_bytes(chain[0].key_pem)
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.load_cert_chain(cert_file, key_file)
    listener = socket.create_server(("127.0.0.1", 0))
    listener.settimeout(0.2)
    stop = threading.Event()

    def serve() -> None:
        while not stop.is_set():
            try:
                connection, _ = listener.accept()
            except TimeoutError:
                continue
            connection.settimeout(5)
            with contextlib.suppress(OSError), context.wrap_socket(connection, server_side=True):
                pass

    thread = threading.Thread(target=serve, daemon=True)
    thread.start()
    try:
        yield listener.getsockname()[1]
    finally:
        stop.set()
        thread.join()
        listener.close()


def handshake(port: int, name: str, cafile: Path) -> None:
    """A real TLS client that trusts only `cafile`; raises ssl.SSLCertVerificationError when the
    server's certificate does not verify."""
    context = ssl.create_default_context(cafile=str(cafile))
    with (
        socket.create_connection(("127.0.0.1", port), timeout=5) as raw,
        context.wrap_socket(raw, server_hostname=name),
    ):
        pass
