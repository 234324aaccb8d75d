"""Abhaya's filtering proxy against a direct connection, bare mitmproxy and e2guardian.

All four are measured in ONE run, interleaved over several rounds, so the ratios hold on a
shared, noisy machine: a slow spell hits every configuration alike.  Plain HTTP on loopback for
all four (like-for-like: no TLS interception cost anywhere).  wrk sends keep-alive requests in
absolute form to each proxy; the origin is nginx (or a tiny asyncio server) serving a 1 kB page.

    /work/venv/bin/python bench/proxy/run.py [--quick] [--work-dir DIR]

See README.md beside this file for the set-up, the configurations and the caveats.
"""

from __future__ import annotations

import argparse
import http.client
import os
import platform
import statistics
import sys
import tempfile
import time
from collections.abc import Callable, Iterator, Sequence
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass
from pathlib import Path

import e2g
import origin
from data import BenchData, generate
from loadgen import Sample, run_wrk, wrk_binary
from procs import Child, ChildError, free_port, pinned, pinning, port_open

CONFIGS = ("direct", "mitmproxy", "abhaya", "e2guardian")
READY_LINE = "Abhaya is filtering on"
# Options Abhaya's Agent sets on mitmproxy (agent/proxy.py); bare mitmdump gets the same.
MITM_OPTIONS = (
    "connection_strategy=lazy",
    "stream_large_bodies=1m",
    "body_size_limit=32m",
    "onboarding=false",
    "http3=false",
    "ssl_insecure=false",
)
TARGET_RATIO = 0.85
TARGET_ADDED_P50_MS = 2.0


@dataclass(frozen=True)
class Endpoint:
    port: int
    targets: Path  # the wrk targets file
    host_header: str | None


def main(argv: Sequence[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    args.configs = tuple(c for c in CONFIGS if c in args.configs.split(","))
    if args.quick:
        args.rounds, args.duration, args.warmup = 3, 3.0, 1.0
    wrk_binary()  # fail early with an install hint
    with _work_dir(args.work_dir) as folder, ExitStack() as stack:
        try:
            return _run(args, folder, stack)
        except (ChildError, RuntimeError, FileNotFoundError) as err:
            print(f"\nbenchmark failed: {err}\n(logs in {folder})", file=sys.stderr)
            return 1


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="3 rounds of 3 s (smoke test)")
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--duration", type=float, default=8.0, help="seconds per measurement")
    parser.add_argument("--warmup", type=float, default=2.0, help="seconds before each one")
    parser.add_argument(
        "--connections",
        default="8,1",
        help="comma-separated wrk connection counts, one measured phase each (default 8,1)",
    )
    parser.add_argument("--domains", type=int, default=1_000_000)
    parser.add_argument("--keywords", type=int, default=10_000)
    parser.add_argument("--work-dir", type=Path, help="keep lists and logs here (default: temp)")
    parser.add_argument("--startup-timeout", type=float, default=600.0)
    parser.add_argument(
        "--configs",
        default=",".join(CONFIGS),
        help=f"comma-separated subset of {','.join(CONFIGS)} (default: all)",
    )
    return parser


@contextmanager
def _work_dir(given: Path | None) -> Iterator[Path]:
    if given is not None:
        given.mkdir(parents=True, exist_ok=True)
        yield given.resolve()
        return
    with tempfile.TemporaryDirectory(prefix="abhaya-proxy-bench-") as tmp:
        yield Path(tmp)


def _run(args: argparse.Namespace, folder: Path, stack: ExitStack) -> int:
    pins = pinning()
    load_core, proxy_core = pins if pins else (None, None)
    _print_machine(pins, args)

    t0 = time.monotonic()
    data = generate(folder, args.domains, args.keywords)
    print(
        f"generated {args.domains:,} domains and {len(data.keywords):,} keywords "
        f"in {time.monotonic() - t0:.1f} s"
    )
    ports = {name: free_port() for name in ("origin", *CONFIGS[1:])}
    wanted = args.configs
    origin_port = ports["origin"]
    origin_host = f"127.0.0.1:{origin_port}"

    def start(name: str, command: list[str], core: str | None) -> Child:
        """Start a child whose stop is registered before anything else can fail."""
        child = Child(name, pinned(command, core), folder)
        stack.callback(child.stop)
        return child

    # Origin, on the load generator's core: the proxy core is the proxy's alone.
    nginx = origin.nginx_command(folder, origin_port, data.page)
    origin_kind = "nginx" if nginx else "python asyncio"
    server = start(
        "origin", nginx or origin.python_command(folder, origin_port, data.page), load_core
    )
    server.wait_port(origin_port, 30)
    print(f"origin: {origin_kind} on {origin_host}, {len(data.page)} B page")

    children: dict[str, Child] = {}
    if "mitmproxy" in wanted:
        mitmdump = Path(sys.executable).with_name("mitmdump")
        mitm_cmd = [
            str(mitmdump),
            "--listen-host",
            "127.0.0.1",
            "--listen-port",
            str(ports["mitmproxy"]),
            "-q",
            "--set",
            f"confdir={folder / 'mitm-conf'}",
        ]
        for option in MITM_OPTIONS:
            mitm_cmd += ["--set", option]
        children["mitmproxy"] = start("mitmproxy", mitm_cmd, proxy_core)
        took = children["mitmproxy"].wait_port(ports["mitmproxy"], 60)
        print(f"mitmproxy (bare mitmdump) ready in {took:.1f} s")

    if "e2guardian" in wanted:
        e2g_cmd = e2g.configure(
            folder / "e2guardian",
            ports["e2guardian"],
            origin_port,
            data.domains_file,
            data.keywords,
        )
        children["e2guardian"] = start("e2guardian", e2g_cmd, proxy_core)
        took = children["e2guardian"].wait_port(ports["e2guardian"], args.startup_timeout)
        print(f"e2guardian ready in {took:.1f} s (lists loaded)")

    abhaya_logs: list[Child] = []
    if "abhaya" in wanted:
        abhaya_logs = _start_abhaya(
            folder, data, ports["abhaya"], origin_port, proxy_core, start, args.startup_timeout
        )
        children["abhaya"] = abhaya_logs[-1]

    endpoints = {
        n: e for n, e in _endpoints(folder, data, origin_port, ports).items() if n in wanted
    }
    _verify(data, endpoints, origin_host)

    phases = [int(c) for c in args.connections.split(",")]
    results = {c: _measure(args, endpoints, load_core, c) for c in phases}
    rss = {name: child.rss() for name, child in children.items()}
    for connections, samples in results.items():
        _report(samples, connections, origin_kind, args)
    print("\nRSS after load: " + ", ".join(f"{n} {b / 2**20:.0f} MiB" for n, b in rss.items()))
    print(f"load average after: {', '.join(f'{x:.2f}' for x in os.getloadavg())}")
    if abhaya_logs:
        _report_abhaya_log(abhaya_logs)
    return 0


def _start_abhaya(
    folder: Path,
    data: BenchData,
    port: int,
    origin_port: int,
    core: str | None,
    start: Callable[[str, list[str], str | None], Child],
    timeout: float,
) -> list[Child]:
    """Cold start (compiles the lists into the cache), stop, then the warm start we measure.

    The origin runs on this machine, which Abhaya refuses to connect to unless its port is
    allowed deliberately."""
    policy = folder / "policy.toml"
    (folder / "keywords.txt").write_text("\n".join(data.keywords) + "\n", encoding="utf-8")
    policy.write_text(POLICY, encoding="utf-8")
    command = [
        sys.executable,
        "-m",
        "abhaya.agent.cli",
        "run",
        "--listen",
        f"127.0.0.1:{port}",
        "--policy",
        str(policy),
        "--data-dir",
        str(folder / "abhaya-data"),
        "--allow-local-port",
        str(origin_port),
    ]
    started: list[Child] = []
    for attempt in ("cold", "warm"):
        child = start(f"abhaya-{attempt}", command, core)
        started.append(child)
        took = child.wait_until(_banner_seen(child), timeout, f"'{READY_LINE}' line")
        print(f"abhaya {attempt} start: ready in {took:.1f} s")
        if attempt == "cold":
            child.stop()
            deadline = time.monotonic() + 10
            while port_open(port) and time.monotonic() < deadline:
                time.sleep(0.1)
    return started


def _banner_seen(child: Child) -> Callable[[], bool]:
    return lambda: READY_LINE in child.output()


POLICY = """\
version = 1
timezone = "UTC"
default_profile = "child"

[categories.adult]
action = "block"

[profiles.child]
safe_search = true

[[blocklist]]
path = "domains.txt"
category = "adult"

[[keywords]]
path = "keywords.txt"
category = "adult"
"""


def _endpoints(
    folder: Path, data: BenchData, origin_port: int, ports: dict[str, int]
) -> dict[str, Endpoint]:
    direct = folder / "targets-direct.txt"
    direct.write_text("\n".join(data.paths) + "\n", encoding="ascii")
    proxied = folder / "targets-proxy.txt"
    proxied.write_text(
        "\n".join(f"http://127.0.0.1:{origin_port}{p}" for p in data.paths) + "\n", "ascii"
    )
    host = f"127.0.0.1:{origin_port}"
    out = {"direct": Endpoint(origin_port, direct, None)}
    for name in CONFIGS[1:]:
        out[name] = Endpoint(ports[name], proxied, host)
    return out


def _get(port: int, target: str, host: str) -> tuple[int, bytes]:
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
    try:
        conn.request("GET", target, headers={"Host": host})
        response = conn.getresponse()
        return response.status, response.read()
    finally:
        conn.close()


def _verify(data: BenchData, endpoints: dict[str, Endpoint], origin_host: str) -> None:
    """Every benchmark request must be allowed and answered with the page, through each proxy.

    Then one listed domain and one listed keyword show that the lists are really loaded.
    """
    for name, ep in endpoints.items():
        prefix = "" if name == "direct" else f"http://{origin_host}"
        bad = []
        for path in data.paths:
            status, body = _get(ep.port, prefix + path, origin_host)
            if status != 200 or body != data.page:
                bad.append(f"{path} -> {status}, {len(body)} B")
        if bad:
            raise RuntimeError(
                f"{name}: {len(bad)} of {len(data.paths)} allowed requests were "
                "not answered with the origin page, e.g.\n  " + "\n  ".join(bad[:5])
            )
        line = f"verified {name}: {len(data.paths)} allowed targets answered with the page"
        if name in ("abhaya", "e2guardian"):
            checks = {
                "listed domain": (f"http://{data.blocked_domain}/", data.blocked_domain),
                "listed keyword": (
                    f"http://{origin_host}/search?q=" + data.blocked_term.replace(" ", "+"),
                    origin_host,
                ),
            }
            for label, (url, host) in checks.items():
                status, body = _get(ep.port, url, host)
                verdict = "stopped" if body != data.page else "NOT stopped (page served)"
                line += f"; {label} -> {status} {verdict}"
        print(line)


def _measure(
    args: argparse.Namespace, endpoints: dict[str, Endpoint], core: str | None, connections: int
) -> dict[str, list[Sample]]:
    names = list(endpoints)
    samples: dict[str, list[Sample]] = {name: [] for name in names}
    total = args.rounds * len(names) * (args.duration + args.warmup)
    print(
        f"\nmeasuring with {connections} connection(s): {args.rounds} rounds x {len(names)} "
        "configs x "
        f"({args.warmup:g} s warm-up + {args.duration:g} s), about {total / 60:.1f} min"
    )
    for r in range(args.rounds):
        order = names[r % len(names) :] + names[: r % len(names)]  # rotate the order each round
        for name in order:
            ep = endpoints[name]
            run_wrk(ep.port, ep.targets, ep.host_header, args.warmup, connections, core)
            s = run_wrk(ep.port, ep.targets, ep.host_header, args.duration, connections, core)
            samples[name].append(s)
            print(
                f"  round {r + 1} {name:<10} {s.rps:9.0f} req/s  p50 {s.p50_ms:6.2f} ms  "
                f"p99 {s.p99_ms:6.2f} ms  errors {s.errors}",
                flush=True,
            )
    return samples


def _report(
    samples: dict[str, list[Sample]],
    connections: int,
    origin_kind: str,
    args: argparse.Namespace,
) -> None:
    med = {
        name: (
            statistics.median(s.rps for s in runs),
            statistics.median(s.p50_ms for s in runs),
            statistics.median(s.p99_ms for s in runs),
        )
        for name, runs in samples.items()
    }
    base = med.get("mitmproxy")
    print(
        f"\n## Proxy benchmark: medians of {args.rounds} rounds, {args.duration:g} s each, "
        f"{connections} keep-alive connection(s), origin {origin_kind}\n"
    )
    print(
        "| configuration | requests/s | p50 ms | p99 ms | throughput vs mitmproxy "
        "| added p50 ms vs mitmproxy | errors |"
    )
    print("|---|---:|---:|---:|---:|---:|---:|")
    for name in samples:
        rps, p50, p99 = med[name]
        errors = sum(s.errors for s in samples[name])
        ratio = f"{rps / base[0]:.2f}x" if base else "-"
        added = f"{p50 - base[1]:+.2f}" if base else "-"
        label = LABELS[name].format(domains=args.domains, keywords=args.keywords)
        print(f"| {label} | {rps:,.0f} | {p50:.2f} | {p99:.2f} | {ratio} | {added} | {errors} |")
    if base and "abhaya" in med:
        paired = [
            a.rps / m.rps for a, m in zip(samples["abhaya"], samples["mitmproxy"], strict=True)
        ]
        ratio_abhaya = med["abhaya"][0] / base[0]
        added_p50 = med["abhaya"][1] - base[1]
        print(f"\nper-round abhaya/mitmproxy throughput: {', '.join(f'{x:.2f}' for x in paired)}")
        print(
            f"target throughput >= {TARGET_RATIO}x bare mitmproxy: {ratio_abhaya:.2f}x "
            f"{'MET' if ratio_abhaya >= TARGET_RATIO else 'NOT MET'}"
        )
        print(
            f"target added p50 <= {TARGET_ADDED_P50_MS} ms: {added_p50:+.2f} ms "
            f"{'MET' if added_p50 <= TARGET_ADDED_P50_MS else 'NOT MET'}"
        )


LABELS = {
    "direct": "direct to origin",
    "mitmproxy": "bare mitmproxy (mitmdump)",
    "abhaya": "Abhaya ({domains:,} domains, {keywords:,} keywords)",
    "e2guardian": "e2guardian (same lists)",
}
_NOTEWORTHY = ("Traceback", "Error", "ERROR", "WARNING", "CRITICAL", "skipped", "failed")


def _report_abhaya_log(children: list[Child]) -> None:
    """Warnings and errors Abhaya wrote (cold and warm start) are shown, never hidden."""
    for child in children:
        lines = child.errors().splitlines()
        noteworthy = [ln for ln in lines if any(k in ln for k in _NOTEWORTHY)]
        print(f"\n{child.name} stderr: {len(lines)} lines, {len(noteworthy)} warnings/errors")
        for ln in noteworthy[:15]:
            print(f"  {ln}")


def _print_machine(pins: tuple[str, str] | None, args: argparse.Namespace) -> None:
    cpu = next(
        (
            ln.split(":", 1)[1].strip()
            for ln in Path("/proc/cpuinfo").read_text().splitlines()
            if ln.startswith("model name")
        ),
        platform.processor(),
    )
    print(
        f"machine: {cpu}, {os.cpu_count()} CPUs, Python {platform.python_version()}, "
        f"load average {', '.join(f'{x:.2f}' for x in os.getloadavg())}"
    )
    if pins:
        print(f"pinning: wrk and origin on CPU {pins[0]}, each proxy on CPU {pins[1]}")
    else:
        print("pinning: none (taskset missing or fewer than 2 CPUs); expect more noise")
    print(f"lists: {args.domains:,} domains, {args.keywords:,} keywords")


if __name__ == "__main__":
    sys.exit(main())
