"""The CLI's parent commands, each a client of the running agent's control API.

The CLI never opens the store: like the console, it asks the running agent, which holds the
key.  The PIN is read with `getpass` from a terminal, or as one line from standard input when
that is not a terminal (scripts, tests); never from the command line, where other users could
see it in the process list.  Each command logs in, does its work and logs out.  Human output
shows times in the policy's time zone (from the status record); `--json` keeps UTC ISO 8601.
"""

from __future__ import annotations

import contextlib
import getpass
import json
import os
import sys
from collections.abc import Iterator
from datetime import UTC, datetime, tzinfo
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from abhaya.client import contract
from abhaya.client.api import ApiClient, ClientError

PAGE = 500
STDOUT = Path("-")
"""`--out -`: write the export to standard output."""


def read_pin(prompt: str) -> str:
    """One PIN from the terminal (not echoed) or from a line of standard input."""
    if sys.stdin.isatty():
        return getpass.getpass(prompt)
    line = sys.stdin.readline()
    if not line:
        raise ClientError("no PIN on standard input")
    return line.rstrip("\r\n")


def iso_time(text: str | None, option: str) -> str | None:
    """An ISO 8601 time for the API; a time without a zone is taken as local time."""
    if text is None:
        return None
    local = datetime.now().astimezone().tzinfo
    try:
        return contract.parse_time(text, assume_zone=local).isoformat()
    except contract.TimeFormatError:
        raise ClientError(f"{option} {text!r}: not an ISO 8601 time (2026-11-30T18:00)") from None


def family_zone(status: contract.Status) -> tzinfo:
    """The policy's time zone, in which the family reads times."""
    try:
        return ZoneInfo(status["policy"]["timezone"])
    except (ZoneInfoNotFoundError, ValueError):
        raise ClientError(f"unknown time zone {status['policy']['timezone']!r}") from None


def shown_time(text: str | None, zone: tzinfo) -> str:
    """A UTC time from the API as the family reads it: `2026-11-30T18:05:03+05:30`."""
    if text is None:
        return "-"
    return contract.parse_time(text).astimezone(zone).isoformat(timespec="seconds")


@contextlib.contextmanager
def logged_in(data_dir: Path) -> Iterator[ApiClient]:
    client = ApiClient.for_data_dir(data_dir)
    client.login(read_pin("Parent PIN: "))
    try:
        yield client
    finally:
        # The session expires on its own; a failed logout (agent stopped meanwhile) is harmless.
        with contextlib.suppress(ClientError):
            client.logout()


def _print(*lines: str) -> None:
    if lines:
        print("\n".join(lines))
    sys.stdout.flush()


def status(data_dir: Path) -> int:
    with logged_in(data_dir) as client:
        record = client.status()
        pid = client.address.pid
    zone = family_zone(record)
    store, today = record["store"], record["today"]
    actions = ", ".join(f"{name} {count}" for name, count in sorted(today["by_action"].items()))
    paused = record["paused_until"]
    policy = record["policy"]
    lines = [
        f"Abhaya is running (pid {pid}); protection is {record['protection']}"
        + (f" until {shown_time(paused, zone)} (csam stays blocked)" if paused else ""),
        f"  policy:  {policy['source']} (profile {policy['profile']}, times in "
        f"{policy['timezone']})",
        f"  events:  {store['path']}",
        f"           {store['key_note']}",
        f"  today:   {today['total']} events" + (f" ({actions})" if actions else ""),
    ]
    if store["replaced_at_start"]:
        lines.append(f"  store replaced at start: {store['replaced_at_start']}")
    if store["dropped_events"] or store["failed_events"]:
        lines.append(
            f"  events lost since start: {store['dropped_events']} dropped, "
            f"{store['failed_events']} not written"
        )
    if store["writer_restarts"] or not store["writer_running"]:
        state = "running" if store["writer_running"] else "STOPPED"
        lines.append(
            f"  event writer: {state}, restarted {store['writer_restarts']} times"
            + (f"; last error: {store['writer_last_error']}" if store["writer_last_error"] else "")
        )
    if store["security_problem"]:
        lines.append(f"  PIN settings refused: {store['security_problem']} (see abhaya reset-pin)")
    tamper = record["last_tamper"]
    lines.append(
        f"  last tamper event: {shown_time(tamper['time'], zone)} {tamper['detail']}"
        if tamper
        else "  last tamper event: none"
    )
    models = record.get("models")
    if models is not None:
        lines.append(f"  search model: {models['search'] or 'off'}")
        lines.append(f"  chat model:   {models['chat'] or 'off'}")
        lines.append(f"  image model:  {models.get('image') or 'off'}")
    images = record.get("images")
    if images is not None:
        lines.append(
            f"  images:  {images['screened']} checked, {images['flagged']} flagged, "
            f"{images['matched']} known-image matches, {images['unscannable']} not checkable"
        )
    connections = record.get("connections")
    if connections is not None:
        lines.append(
            f"  secure connections: {connections['inspected']} looked inside, "
            f"{connections['passed_through']} checked by site name only "
            f"({connections['passed_through_open']} open now, "
            f"{connections['closed_when_rules_changed']} closed when the rules changed)"
        )
    chat = record.get("chat")
    if chat is not None:
        state = "running" if chat["running"] else "STOPPED"
        lines.append(
            f"  chats:   {state}, {chat['read']} messages read, {chat['checked']} checked, "
            f"{chat['alerts']} alerts"
        )
        if chat["reader_faults"]:
            lines.append(f"  chat reader errors: {chat['reader_faults']} (see the agent's log)")
        if chat["dropped"] or chat["failed"]:
            lines.append(
                f"  chat messages not checked: {chat['dropped']} (busy), {chat['failed']} "
                f"(failed)" + (f"; last error: {chat['last_error']}" if chat["last_error"] else "")
            )
    alert = record["last_alert"]
    lines.append(
        f"  alerts:  {record['unacknowledged_alerts']} unacknowledged"
        + (
            f"; last {shown_time(alert['time'], zone)} [{alert['severity']}] {alert['message']}"
            if alert
            else ""
        )
    )
    _print(*lines)
    return 0


def set_pin(data_dir: Path) -> int:
    client = ApiClient.for_data_dir(data_dir)
    old: str | None = None
    if client.pin_state()["set"]:
        old = read_pin("Current parent PIN: ")
        client.login(old)
    new = read_pin(f"New parent PIN ({contract.PIN_RULE}): ")
    if read_pin("The new PIN again: ") != new:
        raise ClientError("the two new PINs differ; the PIN was not changed")
    client.set_pin(new, old)
    with contextlib.suppress(ClientError):
        client.logout()
    _print("abhaya: the parent PIN is set")
    return 0


def events(
    data_dir: Path, *, as_json: bool, since: str | None, kinds: list[str], limit: int
) -> int:
    since_utc = iso_time(since, "--since")
    with logged_in(data_dir) as client:
        zone = None if as_json else family_zone(client.status())
        shown = 0
        cursor: str | None = None
        while shown < limit:
            page = client.events(
                since=since_utc, kinds=tuple(kinds), limit=min(PAGE, limit - shown), cursor=cursor
            )
            for record in page["events"]:
                print(
                    json.dumps(record, ensure_ascii=False) if zone is None else _line(record, zone)
                )
                shown += 1
            cursor = page["next_cursor"]
            if cursor is None:
                break
    sys.stdout.flush()
    return 0


def _line(record: contract.EventRecord, zone: tzinfo) -> str:
    what = record["url"] or record["domain"] or record["detail"]
    fields = (
        shown_time(record["time"], zone),
        record["kind"],
        record["action"] or "-",
        record["category"] or "-",
        what,
    )
    return "  ".join(fields)


def export(
    data_dir: Path,
    *,
    fmt: contract.ExportFormat,
    out: Path,
    since: str | None,
    until: str | None,
) -> int:
    """Write the export to `out` (mode 0600: it is the child's history) via a .part file, so a
    failed export never leaves a file that looks complete; `-` is standard output."""
    since_utc, until_utc = iso_time(since, "--since"), iso_time(until, "--until")
    with logged_in(data_dir) as client:
        if out == STDOUT:
            sys.stdout.flush()
            client.export(fmt, sys.stdout.buffer, since=since_utc, until=until_utc)
            sys.stdout.buffer.flush()
            return 0
        partial = out.with_name(out.name + ".part")
        fd = os.open(partial, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        complete = False
        try:
            with os.fdopen(fd, "wb") as file:
                client.export(fmt, file, since=since_utc, until=until_utc)
            complete = True
        finally:
            if not complete:
                partial.unlink(missing_ok=True)
    os.replace(partial, out)
    _print(f"abhaya: events written to {out} ({out.stat().st_size} bytes)")
    return 0


def report(data_dir: Path, event_id: int, *, out_dir: Path) -> int:
    """Write the evidence package of one image event (client/evidence.py) into `out_dir`, and
    say where to file it; refused in words for any other kind of event or an existing file."""
    from abhaya.client import evidence
    from abhaya.ui.evidence.render import write_package

    if not out_dir.is_dir():
        raise ClientError(f"--out {out_dir}: not a folder")
    with logged_in(data_dir) as client:
        record = client.event(event_id)
        evidence.image_evidence(record)  # refused before asking for anything more
        status_record = client.status()
    made = evidence.build_report(record, status_record, datetime.now(UTC))
    json_path, html_path = write_package(made, out_dir)
    filing = made.filing
    _print(
        f"abhaya: evidence report for image event {event_id} (no image is kept):",
        f"  {json_path.absolute()}",
        f"  {html_path.absolute()}",
        f"Where to file it ({filing.place}):",
        *(f"  - {step}" for step in filing.steps),
        *(f"  - {_contact_line(contact)}" for contact in filing.contacts),
    )
    return 0


def _contact_line(contact: dict[str, Any]) -> str:
    phones = ", ".join(contact["phones"])
    return (
        str(contact["name"])
        + (f": {contact['web']}" if contact["web"] else "")
        + (f", phone {phones}" if phones else "")
    )


def pause(data_dir: Path, *, minutes: int) -> int:
    with logged_in(data_dir) as client:
        record = client.pause(minutes)
        zone = family_zone(client.status())
    _print(
        f"abhaya: protection paused until {shown_time(record['until'], zone)} (csam stays blocked)"
    )
    return 0


def resume(data_dir: Path) -> int:
    with logged_in(data_dir) as client:
        client.resume()
    _print("abhaya: protection is on")
    return 0


def requests(data_dir: Path, *, status: contract.RequestStatus | None) -> int:
    with logged_in(data_dir) as client:
        record = client.requests(status)
        zone = family_zone(client.status())
    lines = []
    for item in record["requests"]:
        state: str = item["status"]
        if item["status"] == "approved":
            state += (
                f" until {shown_time(item['expires_at'], zone)}"
                if item["expires_at"]
                else " always"
            )
            state += f" ({_covers(item)})"
        elif item["status"] == "pending":
            state += f" until {shown_time(item['answer_by'], zone)}"
        lines.append(
            f"#{item['id']}  {shown_time(item['time'], zone)}  {state}  {item['profile']}  "
            f"{item['url'] or item['domain']}  {json.dumps(item['reason'], ensure_ascii=False)}"
        )
    _print(*lines)
    return 0


def _until(expires_at: str | None, zone: tzinfo) -> str:
    return "always" if expires_at is None else f"until {shown_time(expires_at, zone)}"


def _covers(item: contract.AccessRequestRecord) -> str:
    if item["scope"] == "host":
        return f"{item['covers']} only"
    return f"{item['covers']} and every host under it"


def decide(
    data_dir: Path,
    request_id: int,
    *,
    approve: bool,
    minutes: int | None,
    scope: contract.Scope = "site",
) -> int:
    with logged_in(data_dir) as client:
        if approve:
            record = client.approve(request_id, minutes=minutes, scope=scope)
            zone = family_zone(client.status())
        else:
            record = client.deny(request_id)
    if approve:
        until = (
            f"until {shown_time(record['expires_at'], zone)}" if record["expires_at"] else "always"
        )
        _print(f"abhaya: {_covers(record)} allowed for {record['profile']} {until}")
    else:
        _print(f"abhaya: request {request_id} for {record['domain']} denied")
    return 0


def policy_show(data_dir: Path) -> int:
    with logged_in(data_dir) as client:
        record = client.policy()
    sys.stdout.write(record["text"])
    sys.stdout.flush()
    note = "" if record["editable"] else " (the embedded default; start with --policy to edit)"
    print(f"abhaya: policy from {record['source']}{note}", file=sys.stderr)
    return 0


def policy_apply(data_dir: Path, path: Path) -> int:
    """Send a policy file to the agent, which validates it completely before writing it; a
    refusal (ClientError with the agent's reason) leaves the policy in force unchanged."""
    try:
        text = path.read_text(encoding="utf-8-sig")
    except (OSError, UnicodeDecodeError) as error:
        raise ClientError(f"cannot read {path}: {error}") from None
    with logged_in(data_dir) as client:
        record = client.apply_policy(text)
    skipped = record["skipped_lines"]
    _print(
        f"abhaya: policy applied to {record['source']}"
        + (f" ({skipped} list lines skipped; see the agent's log)" if skipped else "")
    )
    for notice in record["notices"]:
        _print(f"abhaya: note: {notice}")
    return 0


def alerts(data_dir: Path, *, show_all: bool) -> int:
    with logged_in(data_dir) as client:
        record = client.alerts(unacknowledged_only=not show_all)
        zone = family_zone(client.status())
    lines = []
    for item in record["alerts"]:
        who = f"  ({item['profile']})" if item.get("profile") else ""
        lines.append(
            f"#{item['id']}  {shown_time(item['time'], zone)}  [{item['severity']}]  "
            f"{item['kind']}{who}  {item['message']}"
            + ("  (acknowledged)" if item["acknowledged"] else "")
        )
        lines.extend(_chat_lines(item.get("chat"), zone))
    if not lines:
        lines = ["abhaya: no alerts" if show_all else "abhaya: no unacknowledged alerts"]
    _print(*lines)
    return 0


def _chat_lines(evidence: contract.ChatEvidence | None, zone: tzinfo) -> list[str]:
    """A chat alert's messages under it, oldest first, as the parent reads them."""
    if not evidence:
        return []
    lines = [f"      {evidence['site']}, thread {evidence['thread']}:"]
    for message in evidence["messages"]:
        labels = ", ".join(message["labels"])
        words = repr(message["text"]) if message["text"] else "(words not kept)"
        lines.append(
            f"      {shown_time(message['time'], zone)}  {message['sender']}: {words}  [{labels}]"
        )
    return lines


def acknowledge(data_dir: Path, alert_id: int) -> int:
    with logged_in(data_dir) as client:
        record = client.acknowledge(alert_id)
    _print(f"abhaya: alert {record['id']} acknowledged ({record['message']})")
    return 0
