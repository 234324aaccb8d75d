"""The page-load benchmark's HTTPS origin: nginx on a free loopback port, HTTP/2 and HTTP/1.1
by ALPN, one certificate for every name from a throwaway `trustme` CA, each host's files under
`SITE/<host>/`.  Its access log records the protocol of every request, which is how the
benchmark sees what the proxies speak upstream.

nginx rather than a Python server: the origin must not be what is measured (it shares the two
cores with Chromium and the proxy), and it should speak HTTP/2 as real sites do.
"""

from __future__ import annotations

import os
import shutil
import signal
import socket
import subprocess
import time
from collections.abc import Mapping
from pathlib import Path

NGINX = shutil.which("nginx") or ("/usr/sbin/nginx" if Path("/usr/sbin/nginx").exists() else None)
CONFIG = """\
worker_processes 2;
daemon off;
pid {folder}/nginx.pid;
error_log {folder}/error.log warn;
{user}
events {{ worker_connections 4096; }}
http {{
    include /etc/nginx/mime.types;
    types {{ font/ttf ttf; }}
    default_type application/octet-stream;
    log_format bench '$host $server_protocol $status $request_uri';
    access_log {folder}/access.log bench;
    client_body_temp_path {folder}/tmp;
    sendfile on;
    tcp_nodelay on;
    keepalive_timeout 65;
    server {{
{listen}
        server_name _;
        ssl_certificate {folder}/cert.pem;
        ssl_certificate_key {folder}/key.pem;
        ssl_protocols TLSv1.2 TLSv1.3;
        root {site}/$host;
        add_header Cache-Control "max-age=600";
        add_header Access-Control-Allow-Origin "*";
    }}
}}
"""


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


class NginxOrigin:
    """nginx serving `site` for each name of `names` (name -> its loopback address), on one
    port of every address; `ca_file` is the CA its certificate is signed by."""

    def __init__(self, folder: Path, site: Path, names: Mapping[str, str]) -> None:
        import trustme

        if NGINX is None:
            raise SystemExit("nginx is needed: apt-get install nginx (Debian's package)")
        folder.mkdir(parents=True)
        (folder / "tmp").mkdir()
        ca = trustme.CA()
        self.ca_file = folder / "origin-ca.pem"
        ca.cert_pem.write_to_path(str(self.ca_file))
        cert = ca.issue_cert(*names)
        self.names = dict(names)
        cert.private_key_pem.write_to_path(str(folder / "key.pem"))
        (folder / "cert.pem").write_bytes(b"".join(p.bytes() for p in cert.cert_chain_pems))
        self.port = free_port()
        # 127.0.0.1 always: the proxies' `Route` connects every name there.
        self.addresses = sorted({"127.0.0.1", *names.values()})
        listen = "\n".join(f"        listen {a}:{self.port} ssl http2;" for a in self.addresses)
        self.log = folder / "access.log"
        self.log.touch()
        # Workers of a master run by root would be `nobody`, who cannot read a private temp dir.
        user = "user root;" if os.geteuid() == 0 else ""
        (folder / "nginx.conf").write_text(
            CONFIG.format(folder=folder, site=site, listen=listen, user=user)
        )
        self._stderr = (folder / "stderr.log").open("wb")
        self.process = subprocess.Popen(
            [NGINX, "-p", str(folder), "-c", str(folder / "nginx.conf")],
            stdout=self._stderr,
            stderr=self._stderr,
        )
        self._wait_listening(folder)
        self._offset = 0

    def _wait_listening(self, folder: Path) -> None:
        deadline = time.monotonic() + 15
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                break
            try:
                socket.create_connection((self.addresses[-1], self.port), timeout=1).close()
                return
            except OSError:
                time.sleep(0.05)
        self.close()
        raise SystemExit(
            "nginx did not start: "
            + (folder / "stderr.log").read_text(errors="replace")[-2000:]
            + (folder / "error.log").read_text(errors="replace")[-2000:]
            if (folder / "error.log").exists()
            else ""
        )

    def new_requests(self) -> list[tuple[str, str, str, str]]:
        """(host, protocol, status, path) of each request logged since the last call."""
        with self.log.open("rb") as log:
            log.seek(self._offset)
            data = log.read()
        complete = data.rpartition(b"\n")[0]
        self._offset += len(complete) + (1 if complete else 0)
        rows = []
        for line in complete.decode(errors="replace").splitlines():
            parts = line.split(" ", 3)
            if len(parts) == 4:
                rows.append((parts[0], parts[1], parts[2], parts[3]))
        return rows

    def close(self) -> None:
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGQUIT)  # graceful: finish, then exit
            try:
                self.process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
        self._stderr.close()
