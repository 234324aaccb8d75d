"""A proxy under measurement in a child process of its own, so its RSS and CPU time are its
alone: either the real agent, built as `abhaya run` builds it, or bare mitmproxy (the same
mitmproxy, in-process, the options that matter set as the agent sets them, no Abhaya addons).

Both get `Route`, a small addon that connects the benchmark's names to one HTTPS origin on
loopback and puts the name back once connected (as the agent's destination addon does for real
names), so mitmproxy reuses upstream connections as it would for real names.

This file run as `proxychild.py --child ...` is the child; `ProxyProcess` starts and stops it.
`ProxyPool` runs several agents on one port (`SO_REUSEPORT`), to measure what worker processes
would give before the agent has them.
On SIGTERM the child stops and prints one JSON line: the image screener's counts (the agent)
and, with `--profile FILE`, it has written cProfile statistics of its event-loop thread there,
taken between SIGUSR1 and SIGUSR2 (`ProxyProcess.profile`).

Run by hand only, never in CI: see the README of each bench that uses it.
"""

from __future__ import annotations

import argparse
import asyncio
import gc
import json
import logging
import os
import signal
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import psutil

ABHAYA = "abhaya"
BARE = "mitmproxy"


class Route:
    """Connects the routed names (any port) to the origin on loopback, and puts the name back
    once connected, so that mitmproxy reuses the connection for the next request to that name
    (without it, every request of a keep-alive client connection opens a new upstream one)."""

    def __init__(self, names: set[str], port: int) -> None:
        self._names = names
        self._port = port
        self._routed: dict[object, object] = {}

    def server_connect(self, data: object) -> None:
        server = data.server  # type: ignore[attr-defined]
        if server.address is not None and str(server.address[0]) in self._names:
            self._routed[server] = server.address
            server.address = ("127.0.0.1", self._port)

    def server_connected(self, data: object) -> None:
        self._restore(data)

    def server_connect_error(self, data: object) -> None:
        self._restore(data)

    def _restore(self, data: object) -> None:
        server = data.server  # type: ignore[attr-defined]
        name = self._routed.pop(server, None)
        if name is not None:
            object.__setattr__(server, "address", name)


# ---- the child --------------------------------------------------------------------------------

ANSWER = "192.0.2.1"
"""What the benchmark's names resolve to in the child: an address of no machine (TEST-NET-1),
as a real name's DNS answer is an address elsewhere; `Route` then connects to the origin."""


def answer_names_locally(names: set[str]) -> None:
    """Resolve the benchmark's names in this process without asking DNS, as an /etc/hosts entry
    (or a warm resolver cache) would, everything else as before.

    The agent resolves a CONNECT's name before the tunnel opens (its destination check).  The
    names here do not exist, so each lookup goes to the machine's resolver: on this VM forty
    lookups at once took 5 s (the resolver's retry timeout), which would measure the sandbox's
    DNS rather than the proxy.  Bare mitmproxy never resolves them (`Route` maps them first).
    """
    import socket

    original = socket.getaddrinfo

    def getaddrinfo(host: object, port: object, *args: object, **kwargs: object) -> object:
        name = host.decode() if isinstance(host, bytes) else host
        if isinstance(name, str) and name.lower().rstrip(".") in names:
            number = int(port) if isinstance(port, (int, str)) and str(port).isdigit() else 0
            return [(socket.AF_INET, socket.SOCK_STREAM, socket.IPPROTO_TCP, "", (ANSWER, number))]
        return original(host, port, *args, **kwargs)  # type: ignore[arg-type]

    socket.getaddrinfo = getaddrinfo  # type: ignore[assignment]


def route_relayed_tunnels(origin_port: int) -> None:
    """Send the tunnels the agent relays itself (`abhaya.agent.tunnels`, outside mitmproxy and
    so outside `Route`) to the origin: a name answered with `ANSWER` connects there."""
    from abhaya.agent import tunnels

    original = tunnels.open_upstream

    async def open_upstream(host: str, port: int) -> Any:
        if host == ANSWER:
            return await original("127.0.0.1", origin_port)
        return await original(host, port)

    tunnels.open_upstream = open_upstream


def listen_with_reuse_port() -> None:
    """Make every asyncio server this process opens share its port (`SO_REUSEPORT`), the
    proxy's included, so that several agent processes bound to one port each take a share of
    its connections, the kernel spreading them by a hash of their addresses.  (The control
    API's server gets the option too; it listens on a port of its own, so that changes nothing.)

    For `ProxyPool` only, a measurement of issue #12's "worker processes" lever: the agent has
    no worker mode, and mitmproxy 11 opens its sockets itself (`asyncio.start_server` in
    `mitmproxy.proxy.mode_servers`), with no option for this.
    """
    from mitmproxy.proxy import mode_servers

    original = asyncio.start_server

    async def start_server(*args: Any, **kwargs: Any) -> asyncio.Server:
        return await original(*args, reuse_port=True, **kwargs)

    mode_servers.asyncio.start_server = start_server  # type: ignore[attr-defined]


class GcPauses:
    """How long the garbage collector stopped the proxy, per generation (`gc.callbacks`): a
    full collection of a large heap stops the event loop for as long as it takes."""

    def __init__(self) -> None:
        self.pauses: dict[int, list[float]] = {0: [], 1: [], 2: []}
        self._started = 0.0
        gc.callbacks.append(self._callback)

    def _callback(self, phase: str, info: dict[str, int]) -> None:
        if phase == "start":
            self._started = time.perf_counter()
        else:
            self.pauses[info["generation"]].append(time.perf_counter() - self._started)

    def reset(self) -> None:
        for times in self.pauses.values():
            times.clear()

    def report(self) -> dict[str, object]:
        return {
            f"gen{generation}": {
                "count": len(times),
                "total_ms": round(sum(times) * 1000, 1),
                "max_ms": round(max(times, default=0.0) * 1000, 1),
            }
            for generation, times in self.pauses.items()
        }


async def _bare(args: argparse.Namespace, route: Route, folder: Path, pauses: GcPauses) -> None:
    """Bare mitmproxy: the parts of mitmproxy and the traffic options that
    `abhaya.agent.proxy.Agent.run` uses (taken from there, so they stay the same)."""
    from mitmproxy import master, options

    from abhaya.agent.proxy import mitmproxy_addons, traffic_options

    opts = options.Options()
    proxy = master.Master(opts, event_loop=asyncio.get_running_loop())
    proxy.addons.add(*mitmproxy_addons())
    proxy.addons.add(route)
    (folder / "ca").mkdir(parents=True, exist_ok=True)
    opts.update(
        **traffic_options("127.0.0.1", 0, folder / "ca"),
        ssl_verify_upstream_trusted_ca=args.upstream_ca,
    )
    loop = asyncio.get_running_loop()
    for signum in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(signum, proxy.shutdown)

    async def announce() -> None:
        proxyserver = proxy.addons.get("proxyserver")
        while not (proxyserver.is_running and proxyserver.listen_addrs()):
            await asyncio.sleep(0.02)
        pauses.reset()  # start-up (imports, loading) is not what serving costs
        (folder / "port").write_text(str(proxyserver.listen_addrs()[0][1]))

    task = asyncio.create_task(announce())
    await proxy.run()
    task.cancel()


def _abhaya(
    args: argparse.Namespace, route: Route, folder: Path, pauses: GcPauses
) -> dict[str, object]:
    from abhaya.agent import heap
    from abhaya.agent.config import RunConfig
    from abhaya.agent.proxy import Agent

    if args.no_heap_freeze:  # the agent as before `agent.heap`, to measure what it changes
        heap.settle = lambda: 0.0

    if args.share_port:
        listen_with_reuse_port()
    route_relayed_tunnels(args.origin_port)
    config = RunConfig(
        host="127.0.0.1",
        port=args.share_port,
        data_dir=folder / "data",
        policy_path=Path(args.policy) if args.policy else None,
        upstream_ca=Path(args.upstream_ca),
        allow_local_ports=frozenset({args.origin_port}),
        model_dir=Path(args.model_dir) if args.model_dir else None,
        relay_tunnels=not args.no_tunnel_relay,
    )
    agent = Agent(config, extra_addons=[route])

    def ready(running: Agent) -> None:
        pauses.reset()  # start-up (imports, the models, the lists) is not what serving costs
        (folder / "port").write_text(str(running.addresses[0][1]))

    asyncio.run(agent.run(on_ready=ready, handle_signals=True))
    images = agent.services.images
    return {"counts": dict(images.counts) if images is not None else {}}


def child(args: argparse.Namespace) -> int:
    logging.basicConfig(level=logging.WARNING, format="%(asctime)s %(name)s %(message)s")
    os.umask(0o077)
    folder = Path(args.folder)
    names = set(json.loads(args.names))
    route = Route(names, args.origin_port)
    if args.local_names:
        answer_names_locally(names)
    profiler = None
    if args.profile:
        import cProfile

        profiler = cProfile.Profile()
        # Only while the parent says so (`ProxyProcess.profile`): start-up (the policy, the
        # models) is not what a page load costs.  The handlers run on the main thread, the
        # event loop's, which is the thread profiled.
        signal.signal(signal.SIGUSR1, lambda *_: profiler.enable())
        signal.signal(signal.SIGUSR2, lambda *_: profiler.disable())
    pauses = GcPauses()
    report: dict[str, object] = {}
    if args.kind == BARE:
        asyncio.run(_bare(args, route, folder, pauses))
    else:
        report = _abhaya(args, route, folder, pauses)
    if profiler is not None:
        profiler.disable()
        profiler.dump_stats(args.profile)
    report["gc"] = pauses.report()
    print(json.dumps(report), flush=True)
    return 0


# ---- the parent -------------------------------------------------------------------------------


def rss_kib(pid: int) -> tuple[int, int]:
    """(VmRSS, VmHWM) of a process, in KiB."""
    fields = {}
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        key, _, value = line.partition(":")
        fields[key] = value.strip()
    return int(fields["VmRSS"].split()[0]), int(fields["VmHWM"].split()[0])


class ProxyProcess:
    """One proxy (`kind`: ABHAYA or BARE) in a child process; `stop()` returns the child's
    final JSON report.  `policy` is the agent's policy text (None: the embedded default);
    `local_names`: the names resolve in the child without DNS (`answer_names_locally`)."""

    def __init__(
        self,
        folder: Path,
        *,
        kind: str,
        names: list[str],
        origin_port: int,
        upstream_ca: Path,
        label: str,
        policy: str | None = None,
        model_dir: Path | None = None,
        profile: Path | None = None,
        local_names: bool = False,
        heap_freeze: bool = True,
        share_port: int = 0,
        tunnel_relay: bool = True,
    ) -> None:
        self.folder = folder
        self.label = label
        self.kind = kind
        folder.mkdir(parents=True, exist_ok=True)
        command = [
            sys.executable,
            __file__,
            "--child",
            "--kind",
            kind,
            "--folder",
            str(folder),
            "--names",
            json.dumps(names),
            "--origin-port",
            str(origin_port),
            "--upstream-ca",
            str(upstream_ca),
        ]
        if policy is not None:
            (folder / "policy.toml").write_text(policy)
            command += ["--policy", str(folder / "policy.toml")]
        if model_dir is not None:
            command += ["--model-dir", str(model_dir)]
        if profile is not None:
            command += ["--profile", str(profile)]
        if local_names:
            command.append("--local-names")
        if not heap_freeze:
            command.append("--no-heap-freeze")
        if not tunnel_relay:
            command.append("--no-tunnel-relay")
        if share_port:
            if kind != ABHAYA:
                raise ValueError("only the agent shares a port (ProxyPool)")
            command += ["--share-port", str(share_port)]
        # The database key in a key file (keyring's `fail` backend), as on a machine without a
        # Secret Service.
        env = {**os.environ, "PYTHON_KEYRING_BACKEND": "keyring.backends.fail.Keyring"}
        self._log = (folder / "proxy.log").open("wb")
        self.process = subprocess.Popen(command, env=env, stdout=subprocess.PIPE, stderr=self._log)
        self.pid = self.process.pid
        self._ps = psutil.Process(self.pid)

    def wait_ready(self, timeout: float = 120) -> str:
        """The proxy URL, once it listens."""
        deadline = time.monotonic() + timeout
        while not (self.folder / "port").exists() or not (self.folder / "port").read_text():
            if self.process.poll() is not None or time.monotonic() > deadline:
                print(self.log_tail(), file=sys.stderr)
                raise SystemExit(f"the proxy ({self.label}) did not start")
            time.sleep(0.1)
        return f"http://127.0.0.1:{(self.folder / 'port').read_text()}"

    @property
    def pids(self) -> list[int]:
        return [self.pid]

    @property
    def ca_file(self) -> Path:
        """The CA the proxy signs its certificates with (the browser must trust it)."""
        if self.kind == BARE:
            return self.folder / "ca" / "mitmproxy-ca-cert.pem"
        return self.folder / "data" / "ca" / "abhaya-ca.pem"

    def cpu_seconds(self) -> float:
        """User and system CPU time of the proxy process so far, all its threads."""
        times = self._ps.cpu_times()
        return float(times.user + times.system)

    def profile(self, on: bool) -> None:
        """Start or stop the child's profiler (it must have been started with `profile`)."""
        self.process.send_signal(signal.SIGUSR1 if on else signal.SIGUSR2)
        time.sleep(0.2)  # the event loop wakes for the signal and runs the handler

    def alive(self) -> bool:
        return self.process.poll() is None

    def log_tail(self, chars: int = 4000) -> str:
        return (self.folder / "proxy.log").read_text(errors="replace")[-chars:]

    def stop(self) -> dict[str, object]:
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
        try:
            out, _ = self.process.communicate(timeout=60)
        except subprocess.TimeoutExpired:
            self.process.kill()
            out, _ = self.process.communicate()
        self._log.close()
        lines = out.decode(errors="replace").strip().splitlines()
        return json.loads(lines[-1]) if lines else {}


class ProxyPool:
    """`workers` agents in child processes of their own, listening on one port with
    `SO_REUSEPORT` (`listen_with_reuse_port`) and signing with one CA (the first one's, copied
    to the others before they start), so a browser sees one proxy.  Each has its own store,
    models and caches: what worker processes would cost in memory, before any sharing.  The
    same interface as `ProxyProcess` where the benchmarks use it; CPU time is the sum."""

    def __init__(self, folder: Path, *, workers: int, label: str, **options: Any) -> None:
        import shutil
        import socket

        self.label = label
        self.kind = ABHAYA
        self.folder = folder
        with socket.socket() as probe:  # a free port; every worker binds it with SO_REUSEPORT
            probe.bind(("127.0.0.1", 0))
            port = probe.getsockname()[1]
        first = ProxyProcess(
            folder / "w0", kind=ABHAYA, label=f"{label}/0", share_port=port, **options
        )
        first.wait_ready()
        self.workers = [first]
        for index in range(1, workers):
            data = folder / f"w{index}" / "data"
            data.mkdir(parents=True)
            shutil.copytree(first.folder / "data" / "ca", data / "ca")
            self.workers.append(
                ProxyProcess(
                    folder / f"w{index}",
                    kind=ABHAYA,
                    label=f"{label}/{index}",
                    share_port=port,
                    **options,
                )
            )

    def wait_ready(self, timeout: float = 120) -> str:
        return [worker.wait_ready(timeout) for worker in self.workers][0]

    @property
    def ca_file(self) -> Path:
        return self.workers[0].ca_file

    @property
    def pids(self) -> list[int]:
        return [worker.pid for worker in self.workers]

    def cpu_seconds(self) -> float:
        return sum(worker.cpu_seconds() for worker in self.workers)

    def alive(self) -> bool:
        return all(worker.alive() for worker in self.workers)

    def log_tail(self, chars: int = 4000) -> str:
        return "".join(
            f"[{worker.label}]\n{worker.log_tail(chars // len(self.workers))}"
            for worker in self.workers
        )

    def stop(self) -> dict[str, object]:
        """The first worker's report, with every worker's collector pauses under "gc"."""
        reports = [worker.stop() for worker in self.workers]
        return {**reports[0], "gc": [report.get("gc") for report in reports]}


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--child", action="store_true", required=True)
    parser.add_argument("--kind", choices=[ABHAYA, BARE], required=True)
    parser.add_argument("--folder", required=True)
    parser.add_argument("--names", required=True)
    parser.add_argument("--origin-port", type=int, required=True)
    parser.add_argument("--upstream-ca", required=True)
    parser.add_argument("--policy")
    parser.add_argument("--model-dir")
    parser.add_argument("--profile")
    parser.add_argument("--local-names", action="store_true")
    parser.add_argument("--no-heap-freeze", action="store_true")
    parser.add_argument("--share-port", type=int, default=0)
    parser.add_argument("--no-tunnel-relay", action="store_true")
    return child(parser.parse_args())


if __name__ == "__main__":
    sys.exit(main())
