"""What the two image benchmarks (bench/imagepage, bench/imagehostile) share: a real agent in a
child process of its own (so its RSS is its alone) whose policy differs only in image screening,
and an HTTPS origin on loopback whose names the agent is told to reach there.

The parts live in bench/benchkit (shared with bench/pageload): `AgentProcess` here is a
`benchkit.proxychild.ProxyProcess` of the agent, built as `abhaya run` builds it (the database
key in a key file: keyring's `fail` backend) with the routing addon; on SIGTERM it stops and
prints the image screener's counts (`services.images.counts`) as one JSON line.  `Origin` is
`benchkit.origin.Origin`.

Run by hand only, never in CI: see each bench's README.
"""

from __future__ import annotations

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from benchkit.origin import MB, Origin, Served  # noqa: E402
from benchkit.proxychild import ABHAYA, ProxyProcess, rss_kib  # noqa: E402

__all__ = ["MB", "AgentProcess", "Origin", "Served", "policy", "rss_kib"]

BASE_POLICY = """\
version = 1
[search_model]
enabled = false
[chat]
enabled = false
"""


def policy(images: bool) -> str:
    """The agent's policy: only image screening differs (the query model and chat reading are
    off in both, they are not what is measured)."""
    return BASE_POLICY + f"[images]\nenabled = {'true' if images else 'false'}\n"


def AgentProcess(  # noqa: N802 - was a class; the benches construct it by this name
    folder: Path, *, images: bool, names: list[str], origin: Origin, label: str
) -> ProxyProcess:
    """One agent in a child process, image screening on or off."""
    return ProxyProcess(
        folder,
        kind=ABHAYA,
        names=names,
        origin_port=origin.port,
        upstream_ca=origin.ca_file,
        label=label,
        policy=policy(images),
    )
