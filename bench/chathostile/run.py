"""Hostile chat traffic through a real agent: it must keep serving, and not keep the memory.

The agent runs in a child process of its own (so its RSS is its alone), with a chat inbox
that counts what it is offered, and test names routed to servers this script starts on
loopback: a Discord-shaped gateway over wss:// (zlib-stream), a plain JSON chat over ws:// that
the policy names, and an HTTPS origin for REST sends and one normal page.  Then 10,000
generated hostile messages (random bytes, 1 MB frames, deep nesting, non-UTF-8, cut JSON,
chat JSON with huge texts) go through: WebSocket messages both ways (the servers echo) and
JSON or form request bodies.  Afterwards the proxy must still answer a normal request and the
chat connections must still carry a message; the agent's RSS growth is reported.

Run by hand, never in CI (see bench/chathostile/README.md):

    .venv/bin/python bench/chathostile/run.py [--messages 10000] [--seed 7]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import logging
import os
import random
import signal
import ssl
import subprocess
import sys
import tempfile
import threading
import time
import zlib
from collections import Counter
from contextlib import ExitStack
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from benchkit.proxychild import rss_kib  # noqa: E402

from abhaya.agent.memtrim import PERIODIC_S  # noqa: E402

MB = 1024 * 1024
POLICY = """\
version = 1
[search_model]
enabled = false
[chat]
[[chat.sites]]
host = "kidchat.example"
"""
NAMES = ["gateway.discord.gg", "discord.com", "kidchat.example", "www.example.org"]


# ---- the agent's side (child process) ---------------------------------------------------------


class CountingInbox:
    def __init__(self) -> None:
        self.offered = 0
        self.chars = 0

    def offer(self, profile: str, message: object) -> None:
        self.offered += 1
        self.chars += len(getattr(message, "text", ""))


class Route:
    def __init__(self, routes: dict[tuple[str, int], int]) -> None:
        self._routes = routes

    def server_connect(self, data: object) -> None:
        server = data.server  # type: ignore[attr-defined]
        port = self._routes.get((str(server.address[0]), int(server.address[1])))
        if port is not None:
            server.address = ("127.0.0.1", port)


def child(args: argparse.Namespace) -> int:
    from abhaya.agent.config import RunConfig
    from abhaya.agent.proxy import Agent

    # The agent's warnings (mitmproxy's too) go to agent.log, for a run that fails.
    logging.basicConfig(level=logging.WARNING, format="%(asctime)s %(name)s %(message)s")
    routes = {(host, int(port)): int(to) for host, port, to in json.loads(args.routes)}
    folder = Path(args.folder)
    # --no-chat: chat reading off in the policy (the baseline); --watch: the agent's own chat
    # watch (the shipped model and the real store); otherwise the counting inbox.
    policy = POLICY.replace("[chat]\n", "[chat]\nenabled = false\n") if args.no_chat else POLICY
    (folder / "policy.toml").write_text(policy)
    config = RunConfig(
        host="127.0.0.1",
        port=0,
        data_dir=folder / "data",
        policy_path=folder / "policy.toml",
        upstream_ca=Path(args.upstream_ca),
        allow_local_ports=frozenset(routes.values()),
        model_dir=Path(os.environ["ABHAYA_MODEL_DIR"])
        if "ABHAYA_MODEL_DIR" in os.environ
        else None,
    )
    inbox = CountingInbox()
    own = args.no_chat or args.watch
    agent = Agent(config, extra_addons=[Route(routes)], chat=None if own else inbox)

    def ready(running: Agent) -> None:
        (folder / "port").write_text(str(running.addresses[0][1]))

    asyncio.run(agent.run(on_ready=ready, handle_signals=True))
    counts: Counter[str] = agent.services.chat_reading  # the chat reader's own counts
    report: dict[str, object] = {"offered": inbox.offered, "chars": inbox.chars, "counts": counts}
    if agent.chat_watch is not None:
        health = agent.chat_watch.health()
        report["offered"] = counts["messages"]
        report["watch"] = {
            "checked": health.checked,
            "alerts": health.alerts,
            "dropped": health.dropped,
            "failed": health.failed,
        }
    print(json.dumps(report))
    return 0


# ---- the servers and the client (this process) -----------------------------------------------


def tls_server_context(names: list[str], folder: Path) -> tuple[ssl.SSLContext, Path]:
    import trustme

    ca = trustme.CA()
    ca_file = folder / "upstream-ca.pem"
    ca.cert_pem.write_to_path(str(ca_file))
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    ca.issue_cert(*names).configure_cert(context)
    return context, ca_file


def echo_ws(context: ssl.SSLContext | None) -> tuple[object, int]:
    from websockets.sync.server import ServerConnection, serve

    def handler(conn: ServerConnection) -> None:
        for message in conn:
            conn.send(message)

    server = serve(handler, "127.0.0.1", 0, ssl=context, max_size=None, compression=None)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return server, int(server.socket.getsockname()[1])


class Origin(BaseHTTPRequestHandler):
    def do_GET(self) -> None:  # noqa: N802
        length = int(self.headers.get("Content-Length", 0))
        while length > 0:
            length -= len(self.rfile.read(min(length, MB)))
        self.send_response(200)
        self.send_header("Content-Length", "2")
        self.end_headers()
        self.wfile.write(b"ok")

    do_POST = do_GET  # noqa: N815

    def log_message(self, format: str, *args: object) -> None:  # noqa: A002
        pass


def https_origin(context: ssl.SSLContext) -> tuple[ThreadingHTTPServer, int]:
    server = ThreadingHTTPServer(("127.0.0.1", 0), Origin)
    server.socket = context.wrap_socket(
        server.socket, server_side=True, do_handshake_on_connect=False
    )
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return server, int(server.server_address[1])


def hostile(rng: random.Random, n: int) -> bytes | str:
    """One generated hostile message; kind by n, contents from the seeded generator."""
    kind = n % 10
    if kind == 0:
        return rng.randbytes(rng.randrange(1, 4096))
    if kind == 1 and n % 100 == 1:
        return rng.randbytes(MB)  # 1 MB of noise, one in a hundred
    if kind == 1:
        return b"\xff\xfe\xc0\x80" + rng.randbytes(200)  # not UTF-8
    if kind == 2:
        depth = rng.randrange(1000, 200_000)
        return "[" * depth + "]" * depth
    if kind == 3:
        return '{"text": {' * rng.randrange(100, 5000)
    if kind == 4:
        return json.dumps({"room": str(n), "text": "x" * rng.randrange(1, 900_000)})
    if kind == 5 and n % 100 == 5:
        return '{"text": "' + "y" * MB + '"}'  # 1 MB of JSON, over the cap
    if kind == 5:
        return json.dumps([{"text": f"t{i}", "room": i} for i in range(rng.randrange(1, 5000))])
    if kind == 6:
        return '{"op": 0, "t": "MESSAGE_CREATE", "d": {"content": "' + "z" * 100
    if kind == 7:
        return b"\x00\x00\xff\xff" * rng.randrange(1, 5000)
    if kind == 8:
        return json.dumps({"a": [1.5e308] * 1000, "b": "9" * 4000, "c": None})
    return "message " + "\u202e" * rng.randrange(1, 2000)  # bidi controls


def zlib_ready() -> tuple[zlib._Compress, bytes]:
    deflate = zlib.compressobj()
    ready = json.dumps({"op": 0, "t": "READY", "s": 1, "d": {"user": {"id": "1"}}}).encode()
    return deflate, deflate.compress(ready) + deflate.flush(zlib.Z_SYNC_FLUSH)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--messages", type=int, default=10_000)
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument(
        "--no-chat",
        action="store_true",
        help="run the agent with chat reading off (the baseline: chat traffic not read)",
    )
    parser.add_argument(
        "--watch",
        action="store_true",
        help="run the agent with its own chat watch (the shipped model, the real store)",
    )
    parser.add_argument("--child", action="store_true", help=argparse.SUPPRESS)
    parser.add_argument("--folder", help=argparse.SUPPRESS)
    parser.add_argument("--routes", help=argparse.SUPPRESS)
    parser.add_argument("--upstream-ca", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.child:
        return child(args)
    with tempfile.TemporaryDirectory(prefix="abhaya-chathostile-") as temp, ExitStack() as stack:
        return run(args, Path(temp), stack)


def run(args: argparse.Namespace, folder: Path, stack: ExitStack) -> int:
    import httpx
    from websockets.sync.client import ClientConnection, connect

    context, ca_file = tls_server_context(NAMES, folder)
    gateway, gateway_port = echo_ws(context)
    plain, plain_port = echo_ws(None)
    origin, origin_port = https_origin(context)
    routes = [
        ("gateway.discord.gg", 443, gateway_port),
        ("kidchat.example", 80, plain_port),
        ("discord.com", 443, origin_port),
        ("kidchat.example", 443, origin_port),
        ("www.example.org", 443, origin_port),
    ]
    env = {**os.environ, "PYTHON_KEYRING_BACKEND": "keyring.backends.fail.Keyring"}
    log = (folder / "agent.log").open("wb")
    agent = subprocess.Popen(
        [
            sys.executable,
            __file__,
            "--child",
            *(["--no-chat"] if args.no_chat else []),
            *(["--watch"] if args.watch else []),
            "--folder",
            str(folder),
            "--routes",
            json.dumps(routes),
            "--upstream-ca",
            str(ca_file),
        ],
        env=env,
        stdout=subprocess.PIPE,
        stderr=log,
    )
    try:
        deadline = time.monotonic() + 60
        while not (folder / "port").exists():
            if agent.poll() is not None or time.monotonic() > deadline:
                print((folder / "agent.log").read_text()[-3000:])
                raise SystemExit("the agent did not start")
            time.sleep(0.1)
        proxy = f"http://127.0.0.1:{(folder / 'port').read_text()}"
        agent_ca = folder / "data" / "ca" / "abhaya-ca.pem"
        client_tls = ssl.create_default_context(cafile=str(agent_ca))
        http = httpx.Client(proxy=proxy, verify=client_tls, timeout=60)

        def normal_request() -> int:
            return http.get("https://www.example.org/").status_code

        def gateway_ws() -> ClientConnection:
            return stack.enter_context(
                connect(
                    "wss://gateway.discord.gg/?encoding=json&v=9&compress=zlib-stream",
                    proxy=proxy,
                    ssl=client_tls,
                    max_size=None,
                    open_timeout=30,
                )
            )

        plain_ws = stack.enter_context(
            connect("ws://kidchat.example/chat", proxy=proxy, max_size=None)
        )
        # Warm up every path once, then take the baseline.
        assert normal_request() == 200
        warm = gateway_ws()
        _, ready = zlib_ready()
        warm.send(ready)
        warm.recv(timeout=30)
        warm.close()
        for _ in range(20):
            plain_ws.send(json.dumps({"room": "r", "text": "warm"}))
            plain_ws.recv(timeout=30)
        time.sleep(1)
        before, _ = rss_kib(agent.pid)

        n = 0
        rng = random.Random(args.seed)
        sent: Counter[str] = Counter()
        started = time.monotonic()
        gw = None
        for n in range(args.messages):
            if n and n % 1000 == 0:
                rss, _ = rss_kib(agent.pid)
                print(f"{n} messages, {time.monotonic() - started:.0f} s, RSS {rss / 1024:.1f} MiB")
            message = hostile(rng, n)
            route = n % 4
            if route == 0:  # the gateway: a new connection every 50, READY then hostile
                if gw is None or n % 200 == 0:
                    if gw is not None:
                        gw.close()
                    gw = gateway_ws()
                    gw.send(ready)
                    gw.recv(timeout=30)
                gw.send(message)
                assert gw.recv(timeout=60) == message
                sent["gateway websocket"] += 1
            elif route in (1, 2):  # the plain JSON chat, echoed back (read both ways)
                plain_ws.send(message)
                assert plain_ws.recv(timeout=60) == message
                sent["json websocket"] += 1
            else:  # request bodies: Discord REST sends, a JSON chat's form and JSON posts
                body = (
                    message.encode("utf-8", "surrogatepass")
                    if isinstance(message, str)
                    else message
                )
                url, kind = [
                    ("https://discord.com/api/v9/channels/1/messages", "application/json"),
                    ("https://kidchat.example/send", "application/json"),
                    ("https://kidchat.example/send", "application/x-www-form-urlencoded"),
                ][n // 4 % 3]
                answer = http.post(url, content=body, headers={"Content-Type": kind})
                assert answer.status_code == 200, answer.status_code
                sent["request body"] += 1
        elapsed = time.monotonic() - started
        if gw is not None:
            gw.close()
        # Still serving: a normal page, a normal chat message on the connection held open.
        assert normal_request() == 200
        plain_ws.send(json.dumps({"room": "r", "text": "after"}))
        assert json.loads(plain_ws.recv(timeout=30))["text"] == "after"
        time.sleep(1)
        after, peak = rss_kib(agent.pid)
        settle_seconds = _until_idle(agent.pid)
        time.sleep(PERIODIC_S + 1)  # the agent's periodic trim has run at least once
        settle_seconds += PERIODIC_S + 1
        settled, peak = rss_kib(agent.pid)
        plain_ws.close()
        http.close()
    except BaseException:
        print(f"failed at message {n}; the agent's log ends:", file=sys.stderr)
        print((folder / "agent.log").read_text(errors="replace")[-4000:], file=sys.stderr)
        raise
    finally:
        agent.send_signal(signal.SIGTERM)
        out, _ = agent.communicate(timeout=60)
        log.close()
        for server in (gateway, plain):
            server.shutdown()  # type: ignore[attr-defined]
        origin.shutdown()
    report = json.loads(out.decode().strip().splitlines()[-1])
    print(f"hostile messages: {sum(sent.values())} in {elapsed:.1f} s ({dict(sent)})")
    print(
        f"agent RSS: {before / 1024:.1f} MiB before, {after / 1024:.1f} MiB after "
        f"(+{(after - before) / 1024:.1f} MiB), peak {peak / 1024:.1f} MiB"
    )
    print(
        f"agent RSS once idle ({settle_seconds:.0f} s later: queued messages checked, then a "
        f"periodic trim): {settled / 1024:.1f} MiB (+{(settled - before) / 1024:.1f} MiB)"
    )
    print("after the run: a normal page 200, the chat connection still carries messages")
    print(f"offered to the inbox: {report['offered']} messages ({report['chars']} characters)")
    if "watch" in report:
        print(f"chat watch: {report['watch']}")
    for key, value in sorted(report["counts"].items()):
        print(f"  {key}: {value}")
    return 0 if (settled - before) / 1024 < 50 else 1


def _until_idle(pid: int, quiet: float = 2.0, limit: float = 180.0) -> float:
    """Wait until the agent has used no CPU to speak of for `quiet` seconds (its chat watch
    has checked what was queued, and given memory back a second later); the seconds waited."""
    import psutil

    process = psutil.Process(pid)
    started = time.monotonic()
    last, still_since = sum(process.cpu_times()[:2]), time.monotonic()
    while time.monotonic() - started < limit:
        time.sleep(0.25)
        now = sum(process.cpu_times()[:2])
        if now - last > 0.02:
            last, still_since = now, time.monotonic()
        elif time.monotonic() - still_since >= quiet:
            break
    return time.monotonic() - started


if __name__ == "__main__":
    sys.exit(main())
