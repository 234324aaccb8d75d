"""The `abhaya` command: `run` starts the filtering proxy, `check` explains decisions, and
`status`, `set-pin`, `events`, `export`, `report`, `pause`, `resume`, `requests`, `approve`, `deny`,
`alerts`, `ack` and `policy` ask the running agent through its control API; `console` opens the
parent console, a window that does the same, and `tray` shows its state in the desktop's tray;
`install`, `uninstall` and `doctor` set the computer up, take it back and check it."""

# The parent commands are thin clients (abhaya.client): this module imports the agent's pieces
# (mitmproxy, the store with SQLCipher and the keyring, the filters) only inside `run` and
# `check`, so a parent command starts fast and never loads what holds the agent's secrets.

from __future__ import annotations

import argparse
import contextlib
import ipaddress
import os
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING

from abhaya.agent.config import (
    DEFAULT_API_LISTEN,
    DEFAULT_LISTEN,
    ConfigError,
    default_data_dir,
    parse_listen,
)
from abhaya.client import commands
from abhaya.client.api import ClientError
from abhaya.filters.urlnorm import bracketed
from abhaya.ui.tray import command as tray_arguments

if TYPE_CHECKING:
    from abhaya.agent.proxy import Agent
    from abhaya.filters.policy.compile import CompiledPolicy, ScorerLoader

EXIT_FAILED = 1
EXIT_USAGE = 2


def main(argv: Sequence[str] | None = None) -> int:
    parser = _parser()
    args = parser.parse_args(argv)
    if args.command == "run":
        return _run_for_a_service_manager(args)
    try:
        if args.command == "check":
            return _check(args)
        if args.command == "eval":
            if args.kind == "images":
                from abhaya.agent.imagecommands import eval_images

                return eval_images(args.folder, args.labels, args.threshold, args.json)
            return _eval(args) if args.kind == "queries" else _eval_chat(args)
        if args.command in ("classify-text", "classify-chat"):
            from abhaya.agent.textcommands import classify_chat, classify_text

            if args.command == "classify-chat":
                return classify_chat(_models_folder(args))
            return classify_text(args.text, args.json, _models_folder(args))
        if args.command == "classify-image":
            from abhaya.agent.imagecommands import classify_image

            return classify_image(args.paths, args.json, args.threshold)
        if args.command == "reset-pin":
            return _reset_pin(args)
        if args.command in ("install", "uninstall", "doctor"):
            return _installer_command(args)
        if args.command == "console":
            # Qt is imported only here; like the parent commands, the console is a client of
            # the control API and loads nothing of the store, the keyring or SQLCipher.
            from abhaya.ui.console.app import run_console

            return run_console(args.data_dir or default_data_dir(), args.language)
        if args.command == "tray":
            data_dir = (args.data_dir or default_data_dir()).expanduser().absolute()
            return tray_arguments.tray_command(
                args, data_dir, data_dir_given=args.data_dir is not None
            )
        return _parent_command(args)
    except _configuration_errors(args.command) as err:
        print(f"abhaya: {err}", file=sys.stderr)
        return EXIT_USAGE
    except ClientError as err:
        print(f"abhaya: {err}", file=sys.stderr)
        return EXIT_FAILED


def _configuration_errors(command: str) -> tuple[type[Exception], ...]:
    """What `run` and `check` raise for a setting, policy or store that cannot be used.  A
    parent command raises none of the latter two, and importing them would load the store."""
    if command not in ("run", "check", "eval", "reset-pin"):
        return (ConfigError,)
    from abhaya.agent.store import StoreError
    from abhaya.filters.policy.load import PolicyError

    return (ConfigError, PolicyError, StoreError)


def _run_for_a_service_manager(args: argparse.Namespace) -> int:
    """`abhaya run`, with an exit status that says whether trying again can help
    (`agent/exits.py`): a known failure gets one line, anything else its traceback too."""
    from abhaya.agent.exits import ExitStatus, exit_status

    try:
        return _run(args)
    except Exception as err:  # noqa: BLE001 - the boundary: every failure becomes a status
        status = exit_status(err)
        if status is ExitStatus.SOFTWARE:
            import traceback

            traceback.print_exc()
        print(f"abhaya: {err}", file=sys.stderr)
        return int(status)


def _reset_pin(args: argparse.Namespace) -> int:
    """The administrator's way back (`agent/store/pin_reset.py`): it needs the agent's data
    folder and database key, which the child's account has neither of; never over the API."""
    from abhaya.agent.store import reset_pin

    data_dir = (args.data_dir or default_data_dir()).expanduser().absolute()
    print(f"abhaya: {reset_pin(data_dir)}", flush=True)
    return 0


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
    if args.command == "report":
        return commands.report(data_dir, args.id, out_dir=args.out)
    if args.command == "pause":
        return commands.pause(data_dir, minutes=args.minutes)
    if args.command == "resume":
        return commands.resume(data_dir)
    if args.command == "requests":
        return commands.requests(data_dir, status=args.status)
    if args.command == "alerts":
        return commands.alerts(data_dir, show_all=args.all)
    if args.command == "ack":
        return commands.acknowledge(data_dir, args.id)
    if args.command == "policy":
        if args.action == "show":
            return commands.policy_show(data_dir)
        return commands.policy_apply(data_dir, args.file)
    return commands.decide(
        data_dir,
        args.id,
        approve=args.command == "approve",
        minutes=getattr(args, "minutes", None),
        scope="host" if getattr(args, "host_only", False) else "site",
    )


def _installer_command(args: argparse.Namespace) -> int:
    """`install`, `uninstall` and `doctor`: the installer is imported only for them."""
    from abhaya.installer import commands as installer
    from abhaya.installer.settings import TargetOS

    if args.command == "install":
        target = TargetOS(args.target) if args.target else None
        return installer.install(args.policy, args.dry_run, target)
    if args.command == "uninstall":
        return installer.remove(args.dry_run)
    return installer.doctor(save=args.save)


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
        "--trust-store",
        type=Path,
        metavar="FILE",
        help="the system trust bundle in which the status looks for Abhaya's CA "
        "(default: OpenSSL's own on this system)",
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
    run.add_argument(
        "--no-tunnel-relay",
        dest="relay_tunnels",
        action="store_false",
        help="carry undecrypted tunnels through mitmproxy too (slower; for comparison)",
    )

    model_help = (
        "folder for the query model's built encoder "
        "(default: $ABHAYA_MODEL_DIR if set, else DATA_DIR/models)"
    )
    run.add_argument("--model-dir", type=Path, metavar="DIR", help=model_help)

    check = commands.add_parser("check", help="explain what the policy decides for URLs")
    check.add_argument("--policy", type=Path, metavar="FILE")
    who = check.add_mutually_exclusive_group()
    who.add_argument("--profile", metavar="NAME", help="decide with this profile")
    who.add_argument(
        "--user", metavar="ACCOUNT", help="decide as the proxy would for this OS account"
    )
    _model_options(check, model_help)
    check.add_argument("urls", nargs="+", metavar="URL")

    evaluate = commands.add_parser("eval", help="measure the policy on a labelled set")
    eval_kinds = evaluate.add_subparsers(dest="kind", required=True)
    for kind, about in (
        ("queries", "decide each query of a JSON-lines file as a Google search and score it"),
        ("chat", "score each message of a labelled JSON-lines file with the chat model"),
        ("conversations", "judge each labelled conversation with the chat model and tracker"),
    ):
        measured = eval_kinds.add_parser(kind, help=about)
        measured.add_argument("file", type=Path, metavar="FILE.jsonl")
        measured.add_argument("--json", action="store_true", help="one JSON object for scripts")
        if kind == "queries":
            measured.add_argument("--policy", type=Path, metavar="FILE")
            measured.add_argument("--profile", metavar="NAME", help="decide with this profile")
        _model_options(measured, model_help)
    images = eval_kinds.add_parser(
        "images", help="score each labelled image of a folder with the image classifier"
    )
    images.add_argument("folder", type=Path, metavar="DIR")
    images.add_argument(
        "--labels",
        type=Path,
        required=True,
        metavar="CSV",
        help="header path,label; paths relative to DIR; label 1/explicit or 0/benign",
    )
    images.add_argument(
        "--threshold", type=float, metavar="P", help="flag from this score (default: the model's)"
    )
    images.add_argument("--json", action="store_true", help="one JSON object for scripts")

    classify_chat = commands.add_parser(
        "classify-chat", help="judge conversations, one JSON object a line on standard input"
    )
    classify_chat.add_argument("input", choices=["-"], metavar="-")
    classify_chat.add_argument("--json", action="store_true", help="(the output is always JSON)")
    _model_options(classify_chat, model_help)
    classify = commands.add_parser(
        "classify-text",
        help="score chat messages for risks; - reads one message a line and answers in JSON",
    )
    classify.add_argument("text", metavar="TEXT|-")
    classify.add_argument(
        "--json", action="store_true", help="one JSON object a message (always, with -)"
    )
    _model_options(classify, model_help)

    classify_image = commands.add_parser(
        "classify-image", help="check image files as the proxy checks images (score and PDQ hash)"
    )
    classify_image.add_argument("paths", nargs="+", type=Path, metavar="PATH")
    classify_image.add_argument("--json", action="store_true", help="one JSON object a file")
    classify_image.add_argument(
        "--threshold", type=_score, metavar="T", help="flag at this score (default: the model's)"
    )

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
    export.add_argument(
        "--out", type=Path, required=True, metavar="FILE", help="the file, or - for standard output"
    )
    export.add_argument("--since", metavar="ISO")
    export.add_argument("--until", metavar="ISO")
    report = commands.add_parser(
        "report",
        help="write the evidence package of an image event for the authorities (never the "
        "image) and say where to file it" + pin_note,
    )
    report.add_argument("id", type=_positive, metavar="EVENT_ID")
    report.add_argument(
        "--out",
        type=Path,
        default=Path("."),
        metavar="DIR",
        help="folder for abhaya-evidence-ID.json and .html (default: the current folder; "
        "existing files are never overwritten)",
    )
    pause = commands.add_parser(
        "pause", help="pause filtering for a while; csam stays blocked" + pin_note
    )
    pause.add_argument("--minutes", type=_positive, required=True, metavar="N", help="1 to 240")
    resume = commands.add_parser("resume", help="turn protection back on now" + pin_note)
    requests = commands.add_parser("requests", help="list children's access requests" + pin_note)
    requests.add_argument("--status", choices=("pending", "approved", "denied", "expired"))
    approve = commands.add_parser(
        "approve", help="allow a requested site (or only its host)" + pin_note
    )
    approve.add_argument("id", type=_positive, metavar="ID")
    how_long = approve.add_mutually_exclusive_group(required=True)
    how_long.add_argument("--minutes", type=_positive, metavar="N")
    how_long.add_argument("--always", action="store_true")
    approve.add_argument(
        "--host-only",
        action="store_true",
        help="allow only the host asked for (default: its whole site, www. and all)",
    )
    deny = commands.add_parser("deny", help="refuse an access request" + pin_note)
    deny.add_argument("id", type=_positive, metavar="ID")
    alerts = commands.add_parser("alerts", help="list unacknowledged alerts" + pin_note)
    alerts.add_argument("--all", action="store_true", help="acknowledged ones too")
    ack = commands.add_parser("ack", help="mark an alert as seen" + pin_note)
    ack.add_argument("id", type=_positive, metavar="ID")
    policy = commands.add_parser("policy", help="show or replace the running policy" + pin_note)
    policy_actions = policy.add_subparsers(dest="action", required=True)
    policy_show = policy_actions.add_parser("show", help="print the policy file in force")
    policy_apply = policy_actions.add_parser(
        "apply", help="validate a policy file and put it in force (refused: nothing changes)"
    )
    policy_apply.add_argument("file", type=Path, metavar="FILE")
    reset_pin = commands.add_parser(
        "reset-pin",
        help="clear a forgotten or refused parent PIN (run as the agent's user, on this "
        "computer; recorded for parents)",
    )
    reset_pin.add_argument(
        "--data-dir",
        type=Path,
        metavar="DIR",
        help=f"the agent's data folder (default {default_data_dir()})",
    )
    install = commands.add_parser(
        "install",
        help="install Abhaya on this computer as a protected system service (needs sudo)",
    )
    install.add_argument(
        "--policy", type=Path, metavar="FILE", help="policy to install (default: the embedded one)"
    )
    install.add_argument(
        "--dry-run",
        action="store_true",
        help="show every file, rule and command in the order it would run, and change nothing",
    )
    install.add_argument(
        "--target",
        choices=("linux", "windows", "macos"),
        help="show the plan for another OS (with --dry-run; only Linux installs here)",
    )
    uninstall = commands.add_parser(
        "uninstall", help="remove everything `abhaya install` did (needs sudo)"
    )
    uninstall.add_argument("--dry-run", action="store_true", help="show what would be removed")
    doctor = commands.add_parser(
        "doctor", help="check that the installed agent protects this computer, and say what to fix"
    )
    doctor.add_argument(
        "--save",
        action="store_true",
        help="also keep the results for the parent console's dashboard (run as root)",
    )
    tray = commands.add_parser(
        "tray", help="show the protection state in the desktop's tray, with quick actions"
    )
    tray_arguments.add_arguments(tray)
    parent_commands = (
        status,
        set_pin,
        events,
        export,
        report,
        pause,
        resume,
        requests,
        approve,
        deny,
    )
    console = commands.add_parser(
        "console", help="open the parent console (a window; asks for the parent PIN)"
    )
    console.add_argument(
        "--language",
        choices=("en", "hi"),
        default=None,
        help="English or Hindi (default: the one chosen in Settings, else en)",
    )
    for command in (*parent_commands, alerts, ack, policy_show, policy_apply, console, tray):
        command.add_argument(
            "--data-dir",
            type=Path,
            metavar="DIR",
            help=f"the running agent's data folder (default {default_data_dir()})",
        )
    return parser


def _score(text: str) -> float:
    """A classifier threshold: a number over 0, at most 1."""
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a number") from None
    if not 0 < value <= 1:
        raise argparse.ArgumentTypeError(f"{text} is not a score over 0 and at most 1")
    return value


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
    import asyncio
    import logging

    from abhaya.agent.config import RunConfig, runtime_dir_from
    from abhaya.agent.proxy import Agent

    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(name)s: %(message)s")
    logging.getLogger("mitmproxy").setLevel(logging.WARNING)
    # Everything the agent writes (store, caches, keys, api.json) is its user's alone, even
    # where a module forgets to say so.
    os.umask(0o077)
    host, port = parse_listen(args.listen, args.allow_lan)
    api_host, api_port = _api_listen(args.api_listen)
    config = RunConfig(
        host=host,
        port=port,
        data_dir=(args.data_dir or default_data_dir()).expanduser().absolute(),
        policy_path=args.policy.expanduser().absolute() if args.policy else None,
        upstream_ca=args.upstream_ca,
        trust_store=args.trust_store,
        api_host=api_host,
        api_port=api_port,
        allow_local_ports=frozenset(args.allow_local_port),
        relay_tunnels=args.relay_tunnels,
        model_dir=_model_dir(args),
        runtime_dir=runtime_dir_from(os.environ),
    )
    agent = Agent(config)
    _report_problems(agent.services.policy.current)
    asyncio.run(agent.run(on_ready=_banner, handle_signals=True))
    print("abhaya: stopped", flush=True)
    return 0


def _banner(agent: Agent) -> None:
    policy = agent.services.policy.current
    host, port = agent.addresses[0]
    shown = bracketed(host)
    api = agent.api.address.base_url if agent.api.address is not None else "not listening"
    model = policy.book.query_model
    searches = f"{model.scorer.version}" if model is not None else "off (the policy turns it off)"
    watch = agent.chat_watch
    chats = (
        f"read on chat sites and checked by {watch.version}"
        if watch is not None
        else "not read (the policy turns chat reading off)"
    )
    version = agent.image_screener.model_version
    images = (
        f"checked by {version} before the browser gets them"
        if version
        else "not classified (the policy turns image screening off)"
    ) + (f"; {len(policy.hashes)} known-image hashes" if len(policy.hashes) else "")
    print(
        f"Abhaya is filtering on http://{shown}:{port}\n"
        f"  policy:  {policy.source}\n"
        f"  search model: {searches}\n"
        f"  chats:   {chats}\n"
        f"  images:  {images}\n"
        f"  events:  {agent.store.path} ({agent.store.key_mode.note})\n"
        f"  control API: {api} (parent PIN needed)\n"
        + ("" if agent.pin_is_set() else _NO_PIN_WARNING)
        + f"  CA cert: {agent.ca.public_cert}\n"
        f"           (SHA-256 {agent.ca.fingerprint_sha256})\n"
        + (_AS_A_SERVICE if agent.notifier.active else _IN_A_TERMINAL.format(f"{shown}:{port}")),
        flush=True,
    )


_IN_A_TERMINAL = (
    "Set your browser's HTTP and HTTPS proxy to {} and trust the CA cert\n"
    "above; see README.md. SIGHUP or editing the policy file reloads it; Ctrl+C stops."
)
_AS_A_SERVICE = (
    "Running as a system service: browsers, trust and routing were set up by `abhaya install`;\n"
    "`systemctl reload abhaya` or editing the policy file reloads it; `abhaya doctor` checks it."
)


_NO_PIN_WARNING = (
    "  !!! NO PARENT PIN IS SET: anyone at this computer can set one and take control. !!!\n"
    "  !!! Set it now: abhaya set-pin                                                   !!!\n"
)


def _check(args: argparse.Namespace) -> int:
    import datetime as dt
    import json

    from abhaya.filters.decide import decide, inspection_of_url
    from abhaya.filters.policy.compile import load_policy
    from abhaya.filters.verdict import Reason, RequestInfo

    compiled = load_policy(args.policy, _check_cache(args.data_dir), _models(args))
    _report_problems(compiled)
    profile = (
        compiled.profile_for_user(args.user)
        if args.user is not None
        else compiled.profile(args.profile)
    )
    now = dt.datetime.now(dt.UTC)
    for url in args.urls:
        verdict = decide(RequestInfo(url), profile, now)
        record = {
            "url": url,
            "action": str(verdict.action),
            "category": verdict.category,
            "reason": verdict.reason,
            "detail": verdict.detail,
            "rule": verdict.rule,
            "source": verdict.source,
            "profile": profile.name,
        }
        if verdict.query:
            record["query"] = verdict.query
        if verdict.rewrite is not None:
            record["rewritten_url"] = verdict.rewrite.url
            record["set_headers"] = dict(verdict.rewrite.set_headers)
        if verdict.reason is Reason.SCHEDULE:
            # What the child's page says: when the profile's allowed hours start again.
            opening = profile.schedule.next_opening(now)
            record["allowed_again"] = None if opening is None else opening.isoformat()
        choice = inspection_of_url(url, profile, now)
        record["inspected"] = choice.inspected
        record["inspection"] = choice.sentence
        print(json.dumps(record, ensure_ascii=False), flush=True)
    return 0


def _eval(args: argparse.Namespace) -> int:
    """`abhaya eval queries`: the same `decide()` as the proxy over every labelled query."""
    import datetime as dt
    import json

    from abhaya.filters.decide import decide
    from abhaya.filters.evaluate import QueryFileError, evaluate, parse_queries
    from abhaya.filters.policy.compile import load_policy
    from abhaya.filters.verdict import RequestInfo

    try:
        text = args.file.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as err:
        print(f"abhaya: cannot read {args.file}: {err}", file=sys.stderr)
        return EXIT_USAGE
    try:
        queries = parse_queries(text, str(args.file))
    except QueryFileError as err:
        print(f"abhaya: {err}", file=sys.stderr)
        return EXIT_USAGE
    compiled = load_policy(args.policy, _check_cache(args.data_dir), _models(args))
    _report_problems(compiled)
    profile = compiled.profile(args.profile)
    now = dt.datetime.now(dt.UTC)
    report = evaluate(queries, lambda url: decide(RequestInfo(url), profile, now))
    if args.json:
        print(json.dumps(report.as_json(), ensure_ascii=False, indent=1))
    else:
        print(report.table())
    return 0


def _check_cache(data_dir: Path | None) -> Path:
    """The list cache `check` reads (and fills): the given or the default data folder's, so a
    big list is compiled once, not at every check.  When the folder cannot be written, lists
    still load from what the cache holds, and anything else is compiled in memory (the list
    loader says so); `check` never fails for that."""
    folder = (data_dir or default_data_dir()).expanduser()
    # Read-only or not a folder: the list loader then compiles in memory and says so.
    with contextlib.suppress(OSError):
        folder.mkdir(mode=0o700, parents=True, exist_ok=True)
    return folder / "cache"


def _model_dir(args: argparse.Namespace) -> Path | None:
    """`--model-dir`, else $ABHAYA_MODEL_DIR (one built encoder for several data folders: a
    lab image, a test suite), else None: the data folder's own."""
    chosen = args.model_dir or os.environ.get("ABHAYA_MODEL_DIR")
    return Path(chosen).expanduser().absolute() if chosen else None


def _model_options(parser: argparse.ArgumentParser, model_help: str) -> None:
    parser.add_argument("--data-dir", type=Path, metavar="DIR")
    parser.add_argument("--model-dir", type=Path, metavar="DIR", help=model_help)


def _models_folder(args: argparse.Namespace) -> Path:
    """Where `check`, `eval` and `classify-text` keep the built encoder: the model folder, or
    the data folder's (built there the first time, which takes seconds)."""
    folder = _model_dir(args)
    return folder or (args.data_dir or default_data_dir()).expanduser() / "models"


def _models(args: argparse.Namespace) -> ScorerLoader:
    """The query model for `check` and `eval queries`: the same one the agent runs."""
    from abhaya.agent.querymodel import query_model_loader

    return query_model_loader(_models_folder(args))


def _eval_chat(args: argparse.Namespace) -> int:
    from abhaya.agent.textcommands import eval_chat, eval_conversations

    command = eval_chat if args.kind == "chat" else eval_conversations
    return command(args.file, args.json, _models_folder(args))


def _report_problems(compiled: CompiledPolicy) -> None:
    """Skipped list lines are reported, never silently dropped; so are entries narrowed to one
    host because they name a public suffix (one notice per list or setting)."""
    for notice in compiled.notices:
        print(f"abhaya: note: {notice}", file=sys.stderr)
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
