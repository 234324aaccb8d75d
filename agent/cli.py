"""The `abhaya` command: `run` starts the filtering proxy, `check` explains decisions."""

from __future__ import annotations

import argparse
import asyncio
import datetime as dt
import json
import logging
import sys
from collections.abc import Sequence
from pathlib import Path

from abhaya.agent.config import (
    DEFAULT_LISTEN,
    ConfigError,
    RunConfig,
    default_data_dir,
    parse_listen,
)
from abhaya.agent.proxy import Agent
from abhaya.agent.store import KeyMode, StoreError
from abhaya.filters.decide import decide
from abhaya.filters.policy.compile import CompiledPolicy, load_policy
from abhaya.filters.policy.load import PolicyError
from abhaya.filters.verdict import RequestInfo

EXIT_USAGE = 2


def main(argv: Sequence[str] | None = None) -> int:
    parser = _parser()
    args = parser.parse_args(argv)
    try:
        if args.command == "run":
            return _run(args)
        return _check(args)
    except (ConfigError, PolicyError, StoreError) as err:
        print(f"abhaya: {err}", file=sys.stderr)
        return EXIT_USAGE


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="abhaya", description=__doc__)
    commands = parser.add_subparsers(dest="command", required=True)

    run = commands.add_parser("run", help="start the filtering proxy in the foreground")
    run.add_argument(
        "--listen",
        default=DEFAULT_LISTEN,
        metavar="HOST:PORT",
        help=f"address to listen on (default {DEFAULT_LISTEN})",
    )
    run.add_argument("--allow-lan", action="store_true", help="allow a non-loopback listen address")
    run.add_argument(
        "--policy",
        type=Path,
        metavar="FILE",
        help="policy file (default: the embedded default policy)",
    )
    run.add_argument(
        "--data-dir",
        type=Path,
        metavar="DIR",
        help=f"data folder for the CA and caches (default {default_data_dir()})",
    )
    run.add_argument(
        "--upstream-ca",
        type=Path,
        metavar="FILE",
        help="extra CA bundle to trust for upstream servers",
    )

    check = commands.add_parser("check", help="explain what the policy decides for URLs")
    check.add_argument("--policy", type=Path, metavar="FILE")
    check.add_argument("--profile", metavar="NAME")
    check.add_argument("--data-dir", type=Path, metavar="DIR")
    check.add_argument("urls", nargs="+", metavar="URL")
    return parser


def _run(args: argparse.Namespace) -> int:
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(name)s: %(message)s")
    logging.getLogger("mitmproxy").setLevel(logging.WARNING)
    host, port = parse_listen(args.listen, args.allow_lan)
    config = RunConfig(
        host=host,
        port=port,
        data_dir=(args.data_dir or default_data_dir()).expanduser().absolute(),
        policy_path=args.policy.expanduser().absolute() if args.policy else None,
        upstream_ca=args.upstream_ca,
    )
    agent = Agent(config)
    _report_problems(agent.services.policy.current)
    asyncio.run(agent.run(on_ready=_banner, handle_signals=True))
    print("abhaya: stopped", flush=True)
    return 0


_KEY_MODES = {
    KeyMode.KEYRING: "encrypted, key in the OS keyring",
    KeyMode.FILE: "encrypted, key in a file readable only by this user: weaker than the OS "
    "keyring, which this session does not have",
}


def _banner(agent: Agent) -> None:
    policy = agent.services.policy.current
    host, port = agent.addresses[0]
    shown = f"[{host}]" if ":" in host else host
    print(
        f"Abhaya is filtering on http://{shown}:{port}\n"
        f"  policy:  {policy.source}\n"
        f"  events:  {agent.store.path} ({_KEY_MODES[agent.store.key_mode]})\n"
        f"  CA cert: {agent.ca.public_cert}\n"
        f"           (SHA-256 {agent.ca.fingerprint_sha256})\n"
        f"Set your browser's HTTP and HTTPS proxy to {shown}:{port} and trust the CA cert\n"
        f"above; see README.md. SIGHUP or editing the policy file reloads it; Ctrl+C stops.",
        flush=True,
    )


def _check(args: argparse.Namespace) -> int:
    cache = (args.data_dir.expanduser() / "cache") if args.data_dir else None
    compiled = load_policy(args.policy, cache)
    _report_problems(compiled)
    profile = compiled.profile(args.profile)
    now = dt.datetime.now(dt.UTC)
    for url in args.urls:
        verdict = decide(RequestInfo(url), profile, now)
        record = {
            "url": url,
            "action": str(verdict.action),
            "category": verdict.category,
            "reason": verdict.reason,
            "rule": verdict.rule,
            "source": verdict.source,
            "profile": profile.name,
        }
        if verdict.query:
            record["query"] = verdict.query
        if verdict.rewrite is not None:
            record["rewritten_url"] = verdict.rewrite.url
            record["set_headers"] = dict(verdict.rewrite.set_headers)
        print(json.dumps(record, ensure_ascii=False), flush=True)
    return 0


def _report_problems(compiled: CompiledPolicy) -> None:
    """Skipped list lines are reported, never silently dropped."""
    shown = compiled.problems[:20]
    for problem in shown:
        print(f"abhaya: skipped {problem}", file=sys.stderr)
    if len(compiled.problems) > len(shown):
        print(
            f"abhaya: ... and {len(compiled.problems) - len(shown)} more skipped lines",
            file=sys.stderr,
        )


if __name__ == "__main__":
    sys.exit(main())
