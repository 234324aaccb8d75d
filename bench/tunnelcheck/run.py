"""What judging the open pass-through tunnels again costs the proxy's event loop.

Run by hand from the repository root, never in CI:

    .venv/bin/python bench/tunnelcheck/run.py [--tunnels 200] [--rounds 300]

The agent judges every tunnel it passed through undecrypted again when a policy is installed
and every `agent.passedtunnels.RECHECK_SECONDS` (`PassedTunnels.recheck` with the agent's own
`connection_inspection`), on the event loop.  This times one such check with the embedded
default policy, for `--tunnels` open tunnels spread over 10, 40 and all-different names, none
closed (the common case).  Baseline, in the same run: one bare `decide()` per distinct name,
the least any re-judging must do.
"""

from __future__ import annotations

import argparse
import os
import platform
import statistics
import sys
import tempfile
import time
from pathlib import Path
from types import SimpleNamespace
from typing import cast


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--tunnels", type=int, default=200)
    parser.add_argument("--rounds", type=int, default=300)
    args = parser.parse_args()

    from abhaya.agent.addons.policy import connection_inspection
    from abhaya.agent.clock import utc_now
    from abhaya.agent.passedtunnels import PassedTunnels, Tunnel
    from abhaya.agent.policy_state import PolicyState
    from abhaya.agent.services import Services
    from abhaya.filters.decide import decide
    from abhaya.filters.verdict import RequestInfo

    policy = PolicyState(None, Path(tempfile.mkdtemp(prefix="abhaya-bench-lists-")))
    # connection_inspection reads only the policy and the clock of the services.
    services = cast(Services, SimpleNamespace(policy=policy, clock=utc_now))
    profile = policy.current.profile_for_user("child")

    def still_passes(tunnel: Tunnel) -> bool:
        return not connection_inspection(services, tunnel.name, tunnel.target, "child").inspected

    print(f"Re-judging {args.tunnels} open pass-through tunnels, embedded default policy, "
          f"median of {args.rounds} checks (python {platform.python_version()}, "
          f"{os.cpu_count()} CPUs, load {os.getloadavg()[0]:.1f}):\n")  # fmt: skip
    print("| distinct names | recheck ms | baseline: bare decide() ms | ratio |")
    print("|---:|---:|---:|---:|")
    for distinct in (10, 40, args.tunnels):
        names = [f"cdn{i % distinct}.site{i % distinct}.example.com" for i in range(args.tunnels)]
        tunnels = PassedTunnels()
        for name in names:
            tunnels.add(Tunnel(name, name, "child"), lambda: sys.exit("a tunnel was closed"))
        requests = [RequestInfo(f"https://{name}/") for name in sorted(set(names))]
        checks, bare = [], []
        for _ in range(args.rounds):  # alternated, so a busy moment falls on both
            begin = time.perf_counter_ns()
            tunnels.recheck(still_passes)
            checks.append(time.perf_counter_ns() - begin)
            begin = time.perf_counter_ns()
            now = utc_now()
            for request in requests:
                decide(request, profile, now)
            bare.append(time.perf_counter_ns() - begin)
        check, base = statistics.median(checks) / 1e6, statistics.median(bare) / 1e6
        print(f"| {distinct} | {check:.3f} | {base:.3f} | {check / base:.2f}x |")


if __name__ == "__main__":
    main()
