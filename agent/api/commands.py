"""The CLI's parent commands (status, set-pin, events, export), each a client of the API.

The CLI never opens the store: like the console, it asks the running agent, which holds the
key.  The PIN is read with `getpass` from a terminal, or as one line from standard input when
that is not a terminal (scripts, tests); never from the command line, where other users could
see it in the process list.  Each command logs in, does its work and logs out.
"""

from __future__ import annotations

import contextlib
import getpass
import json
import os
import sys
from collections.abc import Iterator
from datetime import datetime
from pathlib import Path
from typing import Any

from abhaya.agent.api.client import ApiClient, ClientError
from abhaya.agent.api.pin import PIN_RULE

PAGE = 500


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
    try:
        moment = datetime.fromisoformat(text)
    except ValueError:
        raise ClientError(f"{option} {text!r}: not an ISO 8601 time (2026-11-30T18:00)") from None
    return (moment if moment.tzinfo is not None else moment.astimezone()).isoformat()


@contextlib.contextmanager
def logged_in(data_dir: Path) -> Iterator[ApiClient]:
    client = ApiClient(data_dir)
    client.login(read_pin("Parent PIN: "))
    try:
        yield client
    finally:
        # The session expires on its own; a failed logout (agent stopped meanwhile) is harmless.
        with contextlib.suppress(ClientError):
            client.logout()


def status(data_dir: Path) -> int:
    with logged_in(data_dir) as client:
        record = client.call("GET", "/v1/status")
        pid = client.address.pid
    store, today = record["store"], record["today"]
    actions = ", ".join(f"{name} {count}" for name, count in sorted(today["by_action"].items()))
    lines = [
        f"Abhaya is running (pid {pid}); protection is {record['protection']}"
        + (
            f" until {record['paused_until']} (csam stays blocked)"
            if record["paused_until"]
            else ""
        ),
        f"  policy:  {record['policy']['source']} (profile {record['policy']['profile']})",
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
    tamper = record["last_tamper"]
    lines.append(
        f"  last tamper event: {tamper['time']} {tamper['detail']}"
        if tamper
        else "  last tamper event: none"
    )
    alert = record["last_alert"]
    lines.append(
        f"  alerts:  {record['unacknowledged_alerts']} unacknowledged"
        + (f"; last {alert['time']} [{alert['severity']}] {alert['message']}" if alert else "")
    )
    print("\n".join(lines), flush=True)
    return 0


def set_pin(data_dir: Path) -> int:
    client = ApiClient(data_dir)
    body: dict[str, str] = {}
    if client.call("GET", "/v1/pin")["set"]:
        body["old"] = read_pin("Current parent PIN: ")
        client.login(body["old"])
    body["new"] = read_pin(f"New parent PIN ({PIN_RULE}): ")
    if read_pin("The new PIN again: ") != body["new"]:
        raise ClientError("the two new PINs differ; the PIN was not changed")
    client.token = str(client.call("POST", "/v1/pin", body)["token"])
    with contextlib.suppress(ClientError):
        client.logout()
    print("abhaya: the parent PIN is set", flush=True)
    return 0


def events(
    data_dir: Path, *, as_json: bool, since: str | None, kinds: list[str], limit: int
) -> int:
    params: dict[str, str | int | None] = {
        "since": iso_time(since, "--since"),
        "kind": ",".join(kinds) or None,
    }
    with logged_in(data_dir) as client:
        shown = 0
        cursor: str | None = None
        while shown < limit:
            page = client.call(
                "GET",
                "/v1/events",
                params={**params, "limit": min(PAGE, limit - shown), "cursor": cursor},
            )
            for record in page["events"]:
                print(json.dumps(record, ensure_ascii=False) if as_json else _line(record))
                shown += 1
            cursor = page["next_cursor"]
            if cursor is None:
                break
    sys.stdout.flush()
    return 0


def _line(record: dict[str, Any]) -> str:
    what = record["url"] or record["domain"] or record["detail"]
    fields = (
        record["time"],
        record["kind"],
        record["action"] or "-",
        record["category"] or "-",
        what,
    )
    return "  ".join(str(field) for field in fields)


def export(data_dir: Path, *, fmt: str, out: Path, since: str | None, until: str | None) -> int:
    """Write the export to `out` (mode 0600: it is the child's history) via a .part file, so a
    failed export never leaves a file that looks complete."""
    params: dict[str, str | int | None] = {
        "format": fmt,
        "since": iso_time(since, "--since"),
        "until": iso_time(until, "--until"),
    }
    partial = out.with_name(out.name + ".part")
    with logged_in(data_dir) as client:
        fd = os.open(partial, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        complete = False
        try:
            with os.fdopen(fd, "wb") as file:
                client.download("/v1/export", params, file)
            complete = True
        finally:
            if not complete:
                partial.unlink(missing_ok=True)
    os.replace(partial, out)
    print(f"abhaya: events written to {out} ({out.stat().st_size} bytes)", flush=True)
    return 0


def pause(data_dir: Path, *, minutes: int) -> int:
    with logged_in(data_dir) as client:
        record = client.call("POST", "/v1/pause", {"minutes": minutes})
    print(f"abhaya: protection paused until {record['until']} (csam stays blocked)", flush=True)
    return 0


def resume(data_dir: Path) -> int:
    with logged_in(data_dir) as client:
        client.call("POST", "/v1/resume")
    print("abhaya: protection is on", flush=True)
    return 0


def requests(data_dir: Path, *, status: str | None) -> int:
    with logged_in(data_dir) as client:
        record = client.call("GET", "/v1/requests", params={"status": status})
    for item in record["requests"]:
        until = ""
        if item["status"] == "approved":
            until = f" until {item['expires_at']}" if item["expires_at"] else " always"
        print(
            f"#{item['id']}  {item['time']}  {item['status']}{until}  {item['profile']}  "
            f"{item['url'] or item['domain']}  {json.dumps(item['reason'], ensure_ascii=False)}"
        )
    sys.stdout.flush()
    return 0


def decide(data_dir: Path, request_id: int, *, approve: bool, minutes: int | None) -> int:
    verb = "approve" if approve else "deny"
    body: dict[str, object] | None = None
    if approve:
        body = {"always": True} if minutes is None else {"minutes": minutes}
    with logged_in(data_dir) as client:
        record = client.call("POST", f"/v1/requests/{request_id}/{verb}", body)
    if approve:
        until = f"until {record['expires_at']}" if record["expires_at"] else "always"
        print(f"abhaya: {record['domain']} allowed for {record['profile']} {until}", flush=True)
    else:
        print(f"abhaya: request {request_id} for {record['domain']} denied", flush=True)
    return 0
