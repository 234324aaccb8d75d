"""The local origin server: nginx when installed, else a tiny asyncio server in its own process.

The origin must never be the bottleneck, so it answers every GET with the same small page and
no per-request work.  nginx runs from a temporary config in the foreground (`daemon off`,
`master_process off`), as a child of the benchmark, never as a system service.

Run as a script (`python origin.py PORT BODYFILE`) it is the asyncio fallback server.
"""

from __future__ import annotations

import asyncio
import shutil
import sys
from pathlib import Path

NGINX_CONF = """\
daemon off;
master_process off;
worker_processes 1;
pid {dir}/nginx.pid;
error_log {dir}/nginx-error.log warn;
events {{ worker_connections 1024; }}
http {{
    access_log off;
    client_body_temp_path {dir}/nginx-body;
    proxy_temp_path {dir}/nginx-proxy;
    keepalive_requests 10000000;
    keepalive_timeout 120s;
    open_file_cache max=16;
    server {{
        listen 127.0.0.1:{port};
        location / {{
            root {dir};
            default_type text/html;
            try_files /page.html =404;
        }}
    }}
}}
"""


def nginx_command(folder: Path, port: int, page: bytes) -> list[str] | None:
    """Write an nginx config serving `page` for every path; None when nginx is not installed."""
    binary = shutil.which("nginx") or (
        "/usr/sbin/nginx" if Path("/usr/sbin/nginx").exists() else None
    )
    if binary is None:
        return None
    (folder / "page.html").write_bytes(page)
    conf = folder / "nginx.conf"
    conf.write_text(NGINX_CONF.format(dir=folder, port=port), encoding="utf-8")
    return [binary, "-p", str(folder), "-e", str(folder / "nginx-error.log"), "-c", str(conf)]


def python_command(folder: Path, port: int, page: bytes) -> list[str]:
    """The asyncio fallback origin, run in its own interpreter so it has its own GIL."""
    body = folder / "page.html"
    body.write_bytes(page)
    return [sys.executable, str(Path(__file__).resolve()), str(port), str(body)]


class _Origin(asyncio.Protocol):
    """Answers each request head with the canned response; keep-alive, GET only."""

    def __init__(self, response: bytes) -> None:
        self._response = response
        self._buffer = b""
        self._transport: asyncio.Transport | None = None

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        assert isinstance(transport, asyncio.Transport)
        self._transport = transport

    def data_received(self, data: bytes) -> None:
        assert self._transport is not None
        self._buffer += data
        while (end := self._buffer.find(b"\r\n\r\n")) >= 0:
            self._buffer = self._buffer[end + 4 :]
            self._transport.write(self._response)


async def _serve(port: int, page: bytes) -> None:
    response = (
        b"HTTP/1.1 200 OK\r\nContent-Type: text/html\r\n"
        + f"Content-Length: {len(page)}\r\n\r\n".encode("ascii")
        + page
    )
    loop = asyncio.get_running_loop()
    server = await loop.create_server(lambda: _Origin(response), "127.0.0.1", port)
    async with server:
        await server.serve_forever()


if __name__ == "__main__":
    asyncio.run(_serve(int(sys.argv[1]), Path(sys.argv[2]).read_bytes()))
