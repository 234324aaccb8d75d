"""How much later pages load in Chromium through Abhaya than directly, and than through bare
mitmproxy (issue #12).

Three set-ups, interleaved round by round (the order rotating, so a slow spell of this shared
machine falls on each in turn):

- `direct`: Chromium to the origin, the names mapped to it with `--host-resolver-rules`;
- `mitmproxy`: bare mitmproxy 11 in a child process, the agent's traffic options (lazy
  connection strategy, stream_large_bodies, no body size limit), no Abhaya addon;
- `abhaya`: the agent in a child process, built as `abhaya run` builds it, with the embedded
  default policy (or `--policy FILE`), `--allow-local-port` set to the origin's port;
- with `--workers N`, another, `abhaya xN`: N such agents on one port (`SO_REUSEPORT`,
  `benchkit.proxychild.ProxyPool`), what worker processes would give (the agent has none);
- with `--without-relay`, another, `abhaya, no relay`: the agent with `--no-tunnel-relay`,
  every tunnel carried by mitmproxy as before `agent.tunnels`.

Two generated pages on a local nginx HTTPS origin (HTTP/2, certificates from trustme; see
site_pages.py and nginx.py): a news-like article with 98 resources on 8 hosts, and a page of
40 small pictures from 40 hosts.  Each load is a fresh headless Chromium with a fresh profile
driven over the DevTools protocol: a cold load, then a second visit to the same page in the same
browser with its cache disabled.  Reported: medians and p90 of Navigation Timing's
`loadEventEnd`, the proxy process's CPU seconds per load (psutil, all threads), requests that
failed (DevTools Network events; every resource must load), and the protocols on both sides
(the browser's view, and nginx's access log for the proxies' upstream side).

`--profile-loads N` then runs each proxy again under cProfile (new processes) for N rounds of
both pages and prints where each spends its event-loop thread's time per request.

Run by hand, never in CI (see bench/pageload/README.md):

    .venv/bin/python bench/pageload/run.py [--rounds 18] [--profile-loads 6]
"""

from __future__ import annotations

import argparse
import math
import pstats
import signal
import statistics
import sys
import tempfile
import time
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

import psutil

sys.path.insert(0, str(Path(__file__).resolve().parent))
sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from benchkit.chromium import (  # noqa: E402
    PHASES,
    Browser,
    DevToolsError,
    browser_home,
    require_tools,
)
from benchkit.proxychild import ABHAYA, BARE, ProxyPool, ProxyProcess, rss_kib  # noqa: E402
from nginx import NginxOrigin  # noqa: E402
from site_pages import NAMES, PAGES, Page, write_sites  # noqa: E402

DIRECT = "direct"
SETUPS = [DIRECT, BARE, ABHAYA]
"""The set-ups every run has; `setups_of` adds the worker pool and the agent without its tunnel
relay when asked for."""
NO_RELAY = f"{ABHAYA}, no relay"
VISITS = ["cold", "second visit, cache off"]
REPO = Path(__file__).resolve().parents[2]


@dataclass
class Figures:
    """What one (page, visit, set-up) gave over the rounds."""

    loads: list[float] = field(default_factory=list)
    cpu: list[float] = field(default_factory=list)
    failed: int = 0
    failed_loads: int = 0
    by_round: list[float | None] = field(default_factory=list)
    """The load of each round, None where it failed (per-round ratios pair these)."""
    """Loads with a failed or missing request: counted, left out of the timings."""
    failures: list[str] = field(default_factory=list)
    browser_protocols: Counter[str] = field(default_factory=Counter)
    phases: dict[str, list[float]] = field(default_factory=dict)
    """Each phase of every request that opened a connection, over all loads (`PHASES`)."""
    connections: list[int] = field(default_factory=list)
    """New connections per load."""
    origin_protocols: Counter[str] = field(default_factory=Counter)


def p90(values: list[float]) -> float:
    """Nearest-rank 90th percentile."""
    ordered = sorted(values)
    return ordered[max(0, math.ceil(0.9 * len(ordered)) - 1)]


def pool_name(workers: int) -> str:
    return f"{ABHAYA} x{workers}"


def setups_of(args: argparse.Namespace) -> list[str]:
    return (
        SETUPS
        + ([pool_name(args.workers)] if args.workers > 1 else [])
        + ([NO_RELAY] if args.without_relay else [])
    )


def start_proxies(
    folder: Path, origin: NginxOrigin, args: argparse.Namespace, profile: bool
) -> dict[str, ProxyProcess | ProxyPool]:
    policy = Path(args.policy).read_text() if args.policy else None
    proxies: dict[str, ProxyProcess | ProxyPool] = {
        kind: ProxyProcess(
            folder / kind,
            kind=kind,
            names=NAMES,
            origin_port=origin.port,
            upstream_ca=origin.ca_file,
            label=kind,
            policy=policy if kind == ABHAYA else None,
            profile=folder / f"{kind}.prof" if profile else None,
            local_names=not args.dns,
            heap_freeze=not args.no_heap_freeze,
        )
        for kind in (BARE, ABHAYA)
    }
    if args.without_relay and not profile:
        proxies[NO_RELAY] = ProxyProcess(
            folder / "no-relay",
            kind=ABHAYA,
            names=NAMES,
            origin_port=origin.port,
            upstream_ca=origin.ca_file,
            label=NO_RELAY,
            policy=policy,
            local_names=not args.dns,
            heap_freeze=not args.no_heap_freeze,
            tunnel_relay=False,
        )
    if args.workers > 1 and not profile:
        name = pool_name(args.workers)
        proxies[name] = ProxyPool(
            folder / "pool",
            workers=args.workers,
            label=name,
            names=NAMES,
            origin_port=origin.port,
            upstream_ca=origin.ca_file,
            policy=policy,
            local_names=not args.dns,
            heap_freeze=not args.no_heap_freeze,
        )
    return proxies


def addresses_for(one_address: bool) -> dict[str, str]:
    """The loopback address each name resolves to for direct loads.  Real hosts have addresses
    of their own; names that share an address and a certificate let Chromium send them all over
    one HTTP/2 connection (connection coalescing), which it never does through a proxy, since
    it does not see the addresses there.  `one_address` keeps that (the earlier set-up)."""
    if one_address:
        return dict.fromkeys(NAMES, "127.0.0.1")
    return {name: f"127.0.1.{index + 1}" for index, name in enumerate(NAMES)}


def flags_for(setup: str, origin: NginxOrigin, urls: dict[str, str]) -> list[str]:
    if setup == DIRECT:
        # --no-proxy-server: once in 18 rounds a direct load went through a tunnel
        # (ERR_TUNNEL_CONNECTION_FAILED), a proxy setting picked up from this shared machine.
        rules = ",".join(
            f"MAP {name} {address}:{origin.port}" for name, address in origin.names.items()
        )
        return ["--no-proxy-server", f"--host-resolver-rules={rules}"]
    return [f"--proxy-server={urls[setup]}", "--proxy-bypass-list=<-loopback>"]


def one_load(
    home: Path,
    profile: Path,
    flags: list[str],
    page: Page,
    proxy: ProxyProcess | ProxyPool | None,
    origin: NginxOrigin,
    figures: dict[tuple[str, str], Figures],
    keep: bool,
) -> None:
    """A cold load and a second visit of `page` in one fresh browser; figures added if `keep`."""
    origin.new_requests()
    with Browser(home, profile, flags) as browser:
        for visit in VISITS:
            cpu = proxy.cpu_seconds() if proxy is not None else 0.0
            try:
                seen = browser.visit(page.url, cache=visit == "cold")
            except DevToolsError as error:
                raise RuntimeError(f"{page.name}, {visit}: {error}") from None
            cpu = (proxy.cpu_seconds() - cpu) if proxy is not None else 0.0
            time.sleep(0.05)  # nginx logs a request once it is answered
            rows = [r for r in origin.new_requests() if not r[3].startswith("/favicon")]
            if not keep:
                continue
            into = figures.setdefault((page.name, visit), Figures())
            missing = page.resources + 1 - seen.requests
            into.failed += len(seen.failed) + max(0, missing)
            if seen.failed or missing > 0:
                into.failed_loads += 1  # an error page's timing is not a page load's
                into.by_round.append(None)
                print(
                    f"  failed load ({page.name}, {visit}): {missing} missing, {seen.failed[:3]}",
                    flush=True,
                )
                if proxy is not None:
                    print(f"  {proxy.label}'s log ends:\n{proxy.log_tail(2000)}", flush=True)
                continue
            into.loads.append(float(seen.timing["loadEventEnd"]))
            into.by_round.append(into.loads[-1])
            into.cpu.append(cpu)
            into.failures += seen.failed[:3] + (
                [f"{missing} requests missing"] if missing > 0 else []
            )
            into.browser_protocols.update(seen.protocols)
            into.connections.append(len(seen.connections))
            for one in seen.connections:
                for name, value in one.items():
                    into.phases.setdefault(name, []).append(value)
            into.origin_protocols.update(r[1] for r in rows)


def cpu_of(proxy: ProxyProcess | ProxyPool) -> list[float]:
    """User + system CPU seconds of each of a set-up's processes so far."""
    return [sum(psutil.Process(pid).cpu_times()[:2]) for pid in proxy.pids]


def measure(args: argparse.Namespace, folder: Path, origin: NginxOrigin) -> int:
    proxies = start_proxies(folder, origin, args, profile=False)
    setups = setups_of(args)
    results: dict[str, dict[tuple[str, str], Figures]] = {setup: {} for setup in setups}
    began: dict[str, list[float]] = {}
    try:
        urls = {kind: proxy.wait_ready() for kind, proxy in proxies.items()}
        began.update({kind: cpu_of(proxy) for kind, proxy in proxies.items()})
        home = browser_home(
            folder,
            [("origin", origin.ca_file)] + [(k, p.ca_file) for k, p in proxies.items()],
        )
        load = 0
        # Round 0 warms up (each proxy's first certificates, Chromium's own files in the page
        # cache, the agent's caches); its figures are dropped.
        for round_ in range(args.rounds + 1):
            turn = round_ % len(setups)
            order = setups[turn:] + setups[:turn]
            for page in PAGES:
                for setup in order:
                    load += 1
                    one_load(
                        home,
                        folder / f"profile-{load}",
                        flags_for(setup, origin, urls),
                        page,
                        proxies.get(setup),
                        origin,
                        results[setup],
                        keep=round_ > 0,
                    )
            for kind, proxy in proxies.items():
                if not proxy.alive():
                    raise RuntimeError(f"{kind} died:\n{proxy.log_tail()}")
            if round_:
                print(
                    f"round {round_}: "
                    + "; ".join(
                        f"{setup} "
                        + "/".join(
                            f"{results[setup][(page.name, visit)].by_round[-1] or 0:.0f}"
                            for page in PAGES
                            for visit in VISITS
                        )
                        for setup in setups
                    )
                    + " ms (news cold/second, 40 hosts cold/second)",
                    flush=True,
                )
    except BaseException:
        for kind, proxy in proxies.items():
            print(f"--- {kind}'s log ends:\n{proxy.log_tail()}", file=sys.stderr)
        raise
    finally:
        memory = {
            kind: sum(rss_kib(pid)[0] for pid in proxy.pids) // 1024
            for kind, proxy in proxies.items()
            if proxy.alive()
        }
        # A pool's share of the work per process: the kernel spreads connections by a hash.
        cpu = {
            kind: [
                round(after - before, 1)
                for after, before in zip(cpu_of(proxy), began[kind], strict=True)
            ]
            for kind, proxy in proxies.items()
            if proxy.alive() and kind in began
        }
        reports = {kind: proxy.stop() for kind, proxy in proxies.items()}
    print_results(args, results)
    print(f"\nRSS at the end, MiB (all of a set-up's processes): {memory}")
    print(f"CPU seconds (user + system) while measuring, per process: {cpu}")
    print(f"abhaya image screener counts: {reports[ABHAYA].get('counts')}")
    for kind, report in reports.items():
        print(f"{kind}'s garbage-collector pauses over the whole run: {report.get('gc')}")
    return 0


def per_round(these: Figures, against: Figures) -> str:
    """The range and median of the ratios of loads made in the same rounds."""
    ratios = sorted(
        x / y
        for x, y in zip(these.by_round, against.by_round, strict=True)
        if x is not None and y is not None
    )
    return f"{ratios[0]:.2f}-{ratios[-1]:.2f} (median {statistics.median(ratios):.2f})"


def print_pool(pool: str, results: dict[str, dict[tuple[str, str], Figures]]) -> None:
    """Another set-up of the agent (the worker pool, the agent without its tunnel relay)
    against the agent as built and direct loads, from the same rounds."""
    med = statistics.median
    print(f"\n{pool} against the agent as built")
    print(
        f"| page | visit | Abhaya | {pool} | {pool} / Abhaya | {pool} / direct "
        "| per-round / Abhaya |"
    )
    print("|---|---|---:|---:|---:|---:|---|")
    for page in PAGES:
        for visit in VISITS:
            key = (page.name, visit)
            d, a, w = (results[s][key].loads for s in (DIRECT, ABHAYA, pool))
            print(
                f"| {page.name} | {visit} | {med(a):.0f} ({p90(a):.0f}) | "
                f"{med(w):.0f} ({p90(w):.0f}) | "
                f"{med(w) / med(a):.2f}x | {med(w) / med(d):.2f}x | "
                f"{per_round(results[pool][key], results[ABHAYA][key])} |"
            )


def print_results(
    args: argparse.Namespace, results: dict[str, dict[tuple[str, str], Figures]]
) -> None:
    med = statistics.median
    print(f"\n{args.rounds} loads per set-up, page and visit; loadEventEnd median (p90), ms")
    print(
        "| page | visit | direct | bare mitmproxy | Abhaya | Abhaya / direct | "
        "mitmproxy / direct | Abhaya / mitmproxy | per-round Abhaya / direct |"
    )
    print("|---|---|---:|---:|---:|---:|---:|---:|---|")
    for page in PAGES:
        for visit in VISITS:
            key = (page.name, visit)
            d, m, a = (results[s][key].loads for s in SETUPS)
            print(
                f"| {page.name} | {visit} | {med(d):.0f} ({p90(d):.0f}) | "
                f"{med(m):.0f} ({p90(m):.0f}) | {med(a):.0f} ({p90(a):.0f}) | "
                f"{med(a) / med(d):.2f}x | {med(m) / med(d):.2f}x | {med(a) / med(m):.2f}x | "
                f"{per_round(results[ABHAYA][key], results[DIRECT][key])} |"
            )
    pools = [setup for setup in results if setup not in SETUPS]
    for pool in pools:
        print_pool(pool, results)
    print("\nProxy CPU per load (user + system, all threads), median (p90), ms")
    print("| page | visit | bare mitmproxy | Abhaya | Abhaya / mitmproxy |")
    print("|---|---|---:|---:|---:|")
    for page in PAGES:
        for visit in VISITS:
            key = (page.name, visit)
            m, a = ([c * 1000 for c in results[s][key].cpu] for s in (BARE, ABHAYA))
            print(
                f"| {page.name} | {visit} | {med(m):.0f} ({p90(m):.0f}) | "
                f"{med(a):.0f} ({p90(a):.0f}) | {med(a) / med(m):.2f}x |"
            )
            for pool in pools:
                w = [c * 1000 for c in results[pool][key].cpu]
                print(f"|  | {pool} | | {med(w):.0f} ({p90(w):.0f}) | {med(w) / med(m):.2f}x |")
    print(
        "\nRequests that opened a connection: where they waited, median (p90) ms over all loads"
        " (queued: for a socket; tunnel: TCP and the CONNECT's answer; tls: the handshake;"
        " first byte: from sending to the response's headers)"
    )
    print("| page | visit | set-up | connections per load | " + " | ".join(PHASES) + " |")
    print("|---|---|---|---:|" + "---:|" * len(PHASES))
    for page in PAGES:
        for visit in VISITS:
            for setup in results:
                f = results[setup][(page.name, visit)]
                if not f.phases:
                    continue
                cells = " | ".join(
                    f"{med(f.phases[name]):.0f} ({p90(f.phases[name]):.0f})" for name in PHASES
                )
                print(f"| {page.name} | {visit} | {setup} | {med(f.connections):.0f} | {cells} |")
    print("\nFailed requests and protocols (browser side; origin side as nginx logged it)")
    print("| set-up | page | visit | failed requests (loads) | browser | origin |")
    print("|---|---|---|---:|---|---|")
    for setup in results:
        for page in PAGES:
            for visit in VISITS:
                f = results[setup][(page.name, visit)]
                print(
                    f"| {setup} | {page.name} | {visit} | {f.failed} ({f.failed_loads}) | "
                    f"{dict(f.browser_protocols)} | {dict(f.origin_protocols)} |"
                )
                for line in f.failures[:3]:
                    print(f"|  |  | example | {line} |  |  |")


# ---- profiling ---------------------------------------------------------------------------------


def area(filename: str, function: str) -> str:
    """Which body of code a profiled function belongs to; C functions by what they do."""
    if filename == "~":
        if "select.epoll" in function:
            return "idle (epoll wait)"
        if "_ssl." in function or "_openssl." in function:
            return "C: OpenSSL (TLS, crypto)"
        return "C: other builtins"
    if "/site-packages/" in filename:
        return filename.split("/site-packages/", 1)[1].split("/", 1)[0].removesuffix(".py")
    if filename.startswith(str(REPO)) and "/.venv/" not in filename:
        parts = Path(filename).relative_to(REPO).parts
        return "abhaya." + parts[0] if len(parts) > 1 else "bench"
    if filename.startswith("~") or filename.startswith("<"):
        return "builtins"
    if "/python3" in filename:
        return "stdlib." + Path(filename).stem
    return "other"


def profile(args: argparse.Namespace, folder: Path, origin: NginxOrigin) -> None:
    proxies = start_proxies(folder / "profiled", origin, args, profile=True)
    requests: Counter[str] = Counter()
    try:
        urls = {kind: proxy.wait_ready() for kind, proxy in proxies.items()}
        home = browser_home(
            folder / "profiled",
            [("origin", origin.ca_file)] + [(k, p.ca_file) for k, p in proxies.items()],
        )
        load = 0
        for round_ in range(args.profile_loads):
            for page in PAGES:
                for kind in (BARE, ABHAYA) if round_ % 2 == 0 else (ABHAYA, BARE):
                    load += 1
                    figures: dict[tuple[str, str], Figures] = {}
                    proxies[kind].profile(True)
                    one_load(
                        home,
                        folder / f"profiled-{load}",
                        flags_for(kind, origin, urls),
                        page,
                        proxies[kind],
                        origin,
                        figures,
                        keep=True,
                    )
                    proxies[kind].profile(False)
                    requests[kind] += sum(
                        len(f.loads) * (page.resources + 1) for f in figures.values()
                    )
    finally:
        for proxy in proxies.values():
            proxy.stop()
    print(f"\nProfile: {args.profile_loads} rounds of both pages, cold + second visit, per proxy")
    by_area: dict[str, Counter[str]] = {}
    for kind in (BARE, ABHAYA):
        stats = pstats.Stats(str(folder / "profiled" / f"{kind}.prof"))
        areas: Counter[str] = Counter()
        for (filename, _, function), row in stats.stats.items():  # type: ignore[attr-defined]
            areas[area(filename, function)] += row[2]  # tottime
        by_area[kind] = areas
    print("| code | bare mitmproxy (ms/request) | Abhaya (ms/request) | difference |")
    print("|---|---:|---:|---:|")
    names = sorted(set(by_area[BARE]) | set(by_area[ABHAYA]), key=lambda n: -by_area[ABHAYA][n])
    for name in names[:18]:
        m = by_area[BARE][name] * 1000 / requests[BARE]
        a = by_area[ABHAYA][name] * 1000 / requests[ABHAYA]
        print(f"| {name} | {m:.3f} | {a:.3f} | {a - m:+.3f} |")
    idle = "idle (epoll wait)"
    total_m = (sum(by_area[BARE].values()) - by_area[BARE][idle]) * 1000 / requests[BARE]
    total_a = (sum(by_area[ABHAYA].values()) - by_area[ABHAYA][idle]) * 1000 / requests[ABHAYA]
    print(f"| all but idle | {total_m:.3f} | {total_a:.3f} | {total_a - total_m:+.3f} |")
    print(f"requests: {dict(requests)}")
    stats = pstats.Stats(str(folder / "profiled" / f"{ABHAYA}.prof"))
    rows = []
    for (filename, line, function), row in stats.stats.items():  # type: ignore[attr-defined]
        if area(filename, function).startswith("abhaya."):
            rows.append(
                (row[3], row[2], row[1], f"{Path(filename).relative_to(REPO)}:{line} {function}")
            )
    per = 1000 / requests[ABHAYA]
    print("\nAbhaya's own functions by cumulative time (ms per request: cumulative, own; calls):")
    for cumulative, tottime, calls, name in sorted(rows, reverse=True)[: args.profile_top]:
        print(f"  {cumulative * per:7.3f} cum  {tottime * per:7.3f} own  {calls:7d}  {name}")
    print("\nAbhaya's own functions by own time:")
    for cumulative, tottime, calls, name in sorted(rows, key=lambda r: -r[1])[: args.profile_top]:
        print(f"  {tottime * per:7.3f} own  {cumulative * per:7.3f} cum  {calls:7d}  {name}")
    print(f"\nProfiles kept in {folder / 'profiled'} (pstats files) until the run ends.")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--rounds", type=int, default=18, help="loads per set-up and page")
    parser.add_argument("--policy", help="the agent's policy file (default: the embedded one)")
    parser.add_argument("--profile-loads", type=int, default=0, help="rounds under cProfile")
    parser.add_argument("--profile-top", type=int, default=30)
    parser.add_argument("--profile-out", help="copy the pstats files to this folder")
    parser.add_argument("--seed", type=int, default=12)
    parser.add_argument(
        "--no-heap-freeze",
        action="store_true",
        help="the agent without agent.heap's gc.freeze (to measure what it changes)",
    )
    parser.add_argument(
        "--one-address",
        action="store_true",
        help="direct loads reach every name at one address (Chromium then coalesces them)",
    )
    parser.add_argument(
        "--workers",
        type=int,
        default=0,
        help="also measure N agents on one port (SO_REUSEPORT): what worker processes give",
    )
    parser.add_argument(
        "--without-relay",
        action="store_true",
        help="also measure the agent with --no-tunnel-relay (mitmproxy carries every tunnel)",
    )
    parser.add_argument(
        "--dns",
        action="store_true",
        help="let the proxies ask the machine's resolver for the (non-existent) names",
    )
    args = parser.parse_args(argv)
    # Stopped with SIGTERM (a background run): close the browser, the proxies and nginx too.
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))
    require_tools()
    with tempfile.TemporaryDirectory(prefix="abhaya-pageload-") as temp:
        folder = Path(temp)
        write_sites(folder / "site", args.seed)
        origin = NginxOrigin(folder / "origin", folder / "site", addresses_for(args.one_address))
        try:
            if args.rounds:
                measure(args, folder, origin)
            if args.profile_loads:
                profile(args, folder, origin)
                if args.profile_out:
                    import shutil

                    out = Path(args.profile_out)
                    out.mkdir(parents=True, exist_ok=True)
                    for kind in (BARE, ABHAYA):
                        shutil.copy(folder / "profiled" / f"{kind}.prof", out / f"{kind}.prof")
        finally:
            origin.close()
    return 0


if __name__ == "__main__":
    sys.exit(main())
