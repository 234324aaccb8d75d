"""The `abhaya` command: `run` starts the filtering proxy, `check` explains decisions, and
`status`, `set-pin`, `events`, `export`, `pause`, `resume`, `requests`, `approve` and `deny`
ask the running agent through its control API."""

from __future__ import annotations

import argparse
import asyncio
import datetime as dt
import ipaddress
import json
import logging
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING

from abhaya.agent.api import commands
from abhaya.agent.api.client import ClientError
from abhaya.agent.config import (
    DEFAULT_API_LISTEN,
    DEFAULT_LISTEN,
    ConfigError,
    RunConfig,
    default_data_dir,
    parse_listen,
)
from abhaya.agent.store import StoreError
from abhaya.filters.decide import decide
from abhaya.filters.policy.compile import CompiledPolicy, load_policy
from abhaya.filters.policy.load import PolicyError
from abhaya.filters.verdict import RequestInfo

if TYPE_CHECKING:
    from abhaya.agent.proxy import Agent

EXIT_FAILED = 1
EXIT_USAGE = 2


def main(argv: Sequence[str] | None = None) -> int:
    parser = _parser()
    args = parser.parse_args(argv)
    try:
        if args.command == "run":
            return _run(args)
        if args.command == "check":
            return _check(args)
        return _parent_command(args)
    except (ConfigError, PolicyError, StoreError) as err:
        print(f"abhaya: {err}", file=sys.stderr)
        return EXIT_USAGE
    except ClientError as err:
        print(f"abhaya: {err}", file=sys.stderr)
        return EXIT_FAILED


def _parent_command(args: argparse.Namespace) -> int:
    data_dir = (args.data_dir or default_data_dir()).expanduser().absolute()
    if args.command == "status":
        return commands.status(data_dir)
    if args.command == "set-pin":
        return commands.set_pin(data_dir)
    if args.command == "events":
        return commands.events(
            data_dir, as_json=args.json, since=args.since, kinds=args.kind, limit=args.limit
        )
    if args.command == "export":
        return commands.export(
            data_dir, fmt=args.format, out=args.out, since=args.since, until=args.until
        )
    if args.command == "pause":
        return commands.pause(data_dir, minutes=args.minutes)
    if args.command == "resume":
        return commands.resume(data_dir)
    if args.command == "requests":
        return commands.requests(data_dir, status=args.status)
    return commands.decide(
        data_dir,
        args.id,
        approve=args.command == "approve",
        minutes=getattr(args, "minutes", None),
    )


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
    run.add_argument(
        "--api-listen",
        default=DEFAULT_API_LISTEN,
        metavar="HOST:PORT",
        help="loopback address of the control API (default: a free port on 127.0.0.1)",
    )
    run.add_argument(
        "--allow-local-port",
        type=int,
        action="append",
        default=[],
        metavar="PORT",
        help="a port on this machine that proxied traffic may reach (repeatable; never the API)",
    )

    check = commands.add_parser("check", help="explain what the policy decides for URLs")
    check.add_argument("--policy", type=Path, metavar="FILE")
    check.add_argument("--profile", metavar="NAME")
    check.add_argument("--data-dir", type=Path, metavar="DIR")
    check.add_argument("urls", nargs="+", metavar="URL")

    pin_note = " (asks for the parent PIN; from standard input when it is not a terminal)"
    status = commands.add_parser("status", help="show the running agent's state" + pin_note)
    set_pin = commands.add_parser("set-pin", help="set or change the parent PIN")
    events = commands.add_parser("events", help="list recorded events, newest first" + pin_note)
    events.add_argument("--json", action="store_true", help="one JSON object per line")
    events.add_argument("--since", metavar="ISO", help="only events at or after this time")
    events.add_argument(
        "--kind", action="append", default=[], metavar="K", help="only this kind (repeatable)"
    )
    events.add_argument("--limit", type=_positive, default=50, metavar="N")
    export = commands.add_parser("export", help="write events to a CSV or JSON file" + pin_note)
    export.add_argument("--format", choices=("csv", "json"), required=True)
    export.add_argument("--out", type=Path, required=True, metavar="FILE")
    export.add_argument("--since", metavar="ISO")
    export.add_argument("--until", metavar="ISO")
    pause = commands.add_parser(
        "pause", help="pause filtering for a while; csam stays blocked" + pin_note
    )
    pause.add_argument("--minutes", type=_positive, required=True, metavar="N", help="1 to 240")
    resume = commands.add_parser("resume", help="turn protection back on now" + pin_note)
    requests = commands.add_parser("requests", help="list children's access requests" + pin_note)
    requests.add_argument("--status", choices=("pending", "approved", "denied"))
    approve = commands.add_parser("approve", help="allow a requested domain" + pin_note)
    approve.add_argument("id", type=_positive, metavar="ID")
    how_long = approve.add_mutually_exclusive_group(required=True)
    how_long.add_argument("--minutes", type=_positive, metavar="N")
    how_long.add_argument("--always", action="store_true")
    deny = commands.add_parser("deny", help="refuse an access request" + pin_note)
    deny.add_argument("id", type=_positive, metavar="ID")
    for command in (status, set_pin, events, export, pause, resume, requests, approve, deny):
        command.add_argument(
            "--data-dir",
            type=Path,
            metavar="DIR",
            help=f"the running agent's data folder (default {default_data_dir()})",
        )
    return parser


def _positive(text: str) -> int:
    value = int(text)
    if value < 1:
        raise argparse.ArgumentTypeError("must be at least 1")
    return value


def _api_listen(text: str) -> tuple[str, int]:
    """--api-listen: like --listen, but loopback only, with no way around it."""
    host, port = parse_listen(text, allow_lan=True, option="--api-listen")
    if not ipaddress.ip_address(host).is_loopback:
        raise ConfigError(
            f"--api-listen {text!r}: the control API is served on loopback addresses only"
        )
    return host, port


def _run(args: argparse.Namespace) -> int:
    # Imported here: mitmproxy takes most of a second to import, and the parent commands
    # (status, events, ...) only talk to the running agent.
    from abhaya.agent.proxy import Agent

    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(name)s: %(message)s")
    logging.getLogger("mitmproxy").setLevel(logging.WARNING)
    host, port = parse_listen(args.listen, args.allow_lan)
    api_host, api_port = _api_listen(args.api_listen)
    config = RunConfig(
        host=host,
        port=port,
        data_dir=(args.data_dir or default_data_dir()).expanduser().absolute(),
        policy_path=args.policy.expanduser().absolute() if args.policy else None,
        upstream_ca=args.upstream_ca,
        api_host=api_host,
        api_port=api_port,
        allow_local_ports=frozenset(args.allow_local_port),
    )
    agent = Agent(config)
    _report_problems(agent.services.policy.current)
    asyncio.run(agent.run(on_ready=_banner, handle_signals=True))
    print("abhaya: stopped", flush=True)
    return 0


def _banner(agent: Agent) -> None:
    policy = agent.services.policy.current
    host, port = agent.addresses[0]
    shown = f"[{host}]" if ":" in host else host
    api = agent.api.address.base_url if agent.api.address is not None else "not listening"
    print(
        f"Abhaya is filtering on http://{shown}:{port}\n"
        f"  policy:  {policy.source}\n"
        f"  events:  {agent.store.path} ({agent.store.key_mode.note})\n"
        f"  control API: {api} (parent PIN needed)\n"
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
