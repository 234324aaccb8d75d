"""The parent commands as a parent runs them, against a running `abhaya run`.

The PIN goes in on standard input (not a terminal here), never on the command line.
"""

from __future__ import annotations

import contextlib
import csv
import hashlib
import html
import json
import re
import socket
import ssl
import stat
import subprocess
import sys
import time
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import httpx
import pytest

from abhaya.agent.api.discovery import ApiAddress, write_api_file
from abhaya.agent.chatalerts import chat_alert
from abhaya.agent.imageevidence import ImageEvidence
from abhaya.agent.store import Event, EventKind, driver, open_store
from abhaya.agent.store.alerts import insert_alert
from abhaya.agent.store.chatthreads import KeptMessage, ThreadKey
from abhaya.agent.store.events import insert_events
from abhaya.models import conversation
from tests.agent.test_cli import ABHAYA, AgentProcess
from tests.conftest import write_policy

PIN = "2468"


def abhaya(*args: str, data_dir: Path, pin_input: str = "") -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [*ABHAYA, *args, "--data-dir", str(data_dir)],
        input=pin_input,
        capture_output=True,
        text=True,
        timeout=60,
    )


@pytest.fixture(scope="module")
def agent(tmp_path_factory: pytest.TempPathFactory) -> Iterator[AgentProcess]:
    """`abhaya run` whose first PIN was set with `abhaya set-pin`, after one blocked request."""
    folder = tmp_path_factory.mktemp("cli-api")
    process = AgentProcess(folder, write_policy(folder / "policy"))
    try:
        first = abhaya("set-pin", data_dir=folder / "data", pin_input=f"{PIN}\n{PIN}\n")
        assert first.returncode == 0, first.stderr
        assert "PIN is set" in first.stdout
        assert process.status_of("https://adult.example/cli-check?q=private") == 403
        yield process
    finally:
        process.process.kill()
        process.process.wait()


def data_dir(agent: AgentProcess) -> Path:
    return agent.folder / "data"


def test_commands_say_when_the_agent_is_not_running(tmp_path: Path) -> None:
    result = abhaya("status", data_dir=tmp_path, pin_input=f"{PIN}\n")
    assert result.returncode == 1
    assert "not running" in result.stderr and "abhaya run" in result.stderr


def test_a_stale_api_file_is_reported(tmp_path: Path) -> None:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        free_port = sock.getsockname()[1]
    write_api_file(tmp_path, ApiAddress("127.0.0.1", free_port, 1))
    result = abhaya("events", data_dir=tmp_path, pin_input=f"{PIN}\n")
    assert result.returncode == 1
    assert "not answering" in result.stderr


def test_status(agent: AgentProcess) -> None:
    result = abhaya("status", data_dir=data_dir(agent), pin_input=f"{PIN}\n")
    assert result.returncode == 0, result.stderr
    assert "protection is on" in result.stdout
    assert "policy.toml (profile child, times in Asia/Kolkata)" in result.stdout
    assert "events.db" in result.stdout and "encrypted" in result.stdout
    assert re.search(r"chat model:   \S+chat-head-", result.stdout)
    assert re.search(r"chats:   running, \d+ messages read, \d+ checked, \d+ alerts", result.stdout)
    assert "image model:  open_nsfw-864bb37b" in result.stdout
    assert re.search(r"images:  \d+ checked, \d+ flagged, \d+ known-image matches", result.stdout)
    assert re.search(
        r"secure connections: \d+ looked inside, \d+ checked by site name only "
        r"\(\d+ open now, \d+ closed when the rules changed\)",
        result.stdout,
    )
    assert PIN not in result.stdout + result.stderr


@pytest.mark.parametrize(
    ("pin_input", "message"),
    [("0000\n", "wrong PIN"), ("", "no PIN on standard input"), ("12a4\n", "4 to 12 digits")],
)
def test_wrong_or_missing_pin_is_a_clear_error(
    agent: AgentProcess, pin_input: str, message: str
) -> None:
    result = abhaya("status", data_dir=data_dir(agent), pin_input=pin_input)
    assert result.returncode == 1
    assert message in result.stderr
    assert "Traceback" not in result.stderr


def _events(agent: AgentProcess, *args: str) -> list[dict[str, str]]:
    """`abhaya events --json ...`, waiting (briefly) for the blocked request's commit."""
    deadline = time.monotonic() + 20
    while True:
        result = abhaya("events", "--json", *args, data_dir=data_dir(agent), pin_input=f"{PIN}\n")
        assert result.returncode == 0, result.stderr
        records = [json.loads(line) for line in result.stdout.splitlines()]
        if records or time.monotonic() > deadline:
            return records
        time.sleep(0.2)


def test_a_blocked_request_appears_in_abhaya_events(agent: AgentProcess) -> None:
    records = _events(agent, "--kind", "verdict")
    assert [r["url"] for r in records] == ["https://adult.example/cli-check"]
    assert records[0]["action"] == "block" and records[0]["category"] == "adult"
    text = abhaya("events", "--limit", "1", data_dir=data_dir(agent), pin_input=f"{PIN}\n")
    assert text.returncode == 0
    assert len(text.stdout.splitlines()) == 1
    future = abhaya(
        "events", "--since", "2999-01-01T00:00", data_dir=data_dir(agent), pin_input=f"{PIN}\n"
    )
    assert (future.returncode, future.stdout) == (0, "")


def test_bad_event_options_are_reported(agent: AgentProcess) -> None:
    result = abhaya(
        "events", "--kind", "everything", data_dir=data_dir(agent), pin_input=f"{PIN}\n"
    )
    assert result.returncode == 1 and "kind" in result.stderr
    result = abhaya("events", "--since", "soon", data_dir=data_dir(agent), pin_input=f"{PIN}\n")
    assert result.returncode == 1 and "--since" in result.stderr


@pytest.mark.parametrize("fmt", ["csv", "json"])
def test_export_writes_a_private_file(agent: AgentProcess, tmp_path: Path, fmt: str) -> None:
    _events(agent, "--kind", "verdict")  # the blocked request is committed
    out = tmp_path / f"events.{fmt}"
    result = abhaya(
        "export",
        "--format",
        fmt,
        "--out",
        str(out),
        data_dir=data_dir(agent),
        pin_input=f"{PIN}\n",
    )
    assert result.returncode == 0, result.stderr
    assert stat.S_IMODE(out.stat().st_mode) == 0o600
    assert not out.with_name(out.name + ".part").exists()
    with out.open(newline="") as file:
        records = list(csv.DictReader(file)) if fmt == "csv" else json.load(file)
    urls = {record["url"] for record in records if record["kind"] == "verdict"}
    assert urls == {"https://adult.example/cli-check"}
    assert "private" not in out.read_text()


def test_export_with_a_wrong_pin_leaves_no_file(agent: AgentProcess, tmp_path: Path) -> None:
    out = tmp_path / "events.csv"
    result = abhaya(
        "export",
        "--format",
        "csv",
        "--out",
        str(out),
        data_dir=data_dir(agent),
        pin_input="1111\n",
    )
    assert result.returncode == 1 and "wrong PIN" in result.stderr
    assert list(tmp_path.iterdir()) == []


def _ask_through_proxy(agent: AgentProcess, host: str, reason: str) -> int:
    """The child's side: the form on the warning page, posted through the real proxy."""
    context = ssl.create_default_context(cafile=str(data_dir(agent) / "ca" / "abhaya-ca.pem"))
    with httpx.Client(proxy=f"http://127.0.0.1:{agent.port}", verify=context, timeout=20) as c:
        page = c.get(f"https://{host}/table")
        action = re.search(r'id="ask-form" method="post" action="([^"]+)"', page.text)
        assert action is not None, "no ask-a-parent form on the warning page"
        answer = c.post(
            f"https://{host}{html.unescape(action.group(1))}",
            data={"reason": reason, "page": "/table"},
            headers={"Origin": f"https://{host}"},  # as a browser posts the page's own form
        )
        return answer.status_code


def test_requests_approve_and_deny_from_the_command_line(agent: AgentProcess) -> None:
    assert _ask_through_proxy(agent, "bet.example", "maths homework on odds") == 200
    assert _ask_through_proxy(agent, "casino.example", "a friend sent it") == 200
    listed = abhaya(
        "requests", "--status", "pending", data_dir=data_dir(agent), pin_input=f"{PIN}\n"
    )
    assert listed.returncode == 0, listed.stderr
    rows = {line.split("  ")[4]: line.split()[0].lstrip("#") for line in listed.stdout.splitlines()}
    bet = next(ident for url, ident in rows.items() if "bet.example" in url)
    casino = next(ident for url, ident in rows.items() if "casino.example" in url)

    approved = abhaya(
        "approve", bet, "--minutes", "30", data_dir=data_dir(agent), pin_input=f"{PIN}\n"
    )
    assert approved.returncode == 0, approved.stderr
    assert "bet.example and every host under it allowed for child until" in approved.stdout
    denied = abhaya("deny", casino, data_dir=data_dir(agent), pin_input=f"{PIN}\n")
    assert denied.returncode == 0, denied.stderr
    # Approved: the proxy no longer stops it (the site itself is unreachable here: 502).
    assert agent.status_of("https://bet.example/table") != 403
    assert agent.status_of("https://casino.example/table") == 403
    again = abhaya(
        "approve", bet, "--minutes", "30", data_dir=data_dir(agent), pin_input=f"{PIN}\n"
    )
    assert again.returncode == 1 and "Traceback" not in again.stderr


def test_approve_host_only_from_the_command_line(agent: AgentProcess) -> None:
    assert _ask_through_proxy(agent, "www.casino.example", "a quiz about odds") == 200
    listed = abhaya("requests", data_dir=data_dir(agent), pin_input=f"{PIN}\n")
    ident = next(
        line.split()[0].lstrip("#")
        for line in listed.stdout.splitlines()
        if "www.casino.example" in line and " pending until " in line
    )
    approved = abhaya(
        "approve", ident, "--always", "--host-only", data_dir=data_dir(agent), pin_input=f"{PIN}\n"
    )
    assert approved.returncode == 0, approved.stderr
    assert "www.casino.example only allowed for child always" in approved.stdout
    assert agent.status_of("https://www.casino.example/table") != 403
    assert agent.status_of("https://games.casino.example/table") == 403


def test_alerts_and_ack_from_the_command_line(agent: AgentProcess) -> None:
    assert _ask_through_proxy(agent, "alerts.casino.example", "for the alert test") == 200
    listed = abhaya("alerts", data_dir=data_dir(agent), pin_input=f"{PIN}\n")
    assert listed.returncode == 0, listed.stderr
    line = next(line for line in listed.stdout.splitlines() if "alerts.casino.example" in line)
    assert "[info]" in line and "for the alert test" in line and "+05:30" in line
    ident = line.split()[0].lstrip("#")
    acked = abhaya("ack", ident, data_dir=data_dir(agent), pin_input=f"{PIN}\n")
    assert acked.returncode == 0, acked.stderr
    assert f"alert {ident} acknowledged" in acked.stdout
    unseen = abhaya("alerts", data_dir=data_dir(agent), pin_input=f"{PIN}\n").stdout
    assert "alerts.casino.example" not in unseen
    everything = abhaya("alerts", "--all", data_dir=data_dir(agent), pin_input=f"{PIN}\n")
    assert any(
        "alerts.casino.example" in line and "(acknowledged)" in line
        for line in everything.stdout.splitlines()
    )
    missing = abhaya("ack", "999999", data_dir=data_dir(agent), pin_input=f"{PIN}\n")
    assert missing.returncode == 1 and "no alert with id 999999" in missing.stderr


def test_a_chat_alert_lists_the_messages_behind_it(agent: AgentProcess) -> None:
    """The alert as the agent's chat watch stores it, read back by `abhaya alerts`."""
    moment = datetime(2026, 11, 30, 10, 0, tzinfo=UTC)
    key = ThreadKey("child", "discord", "7700")
    kept = (
        KeptMessage(moment, "contact", "are your parents home?", ("personal_info",)),
        KeptMessage(moment, "contact", "send a pic", ("image_request",)),
    )
    found = conversation.Alert("grooming", 1, ("image_request", "personal_info"), (0, 1))
    store = open_store(data_dir(agent))
    with contextlib.closing(store.connect()) as conn, driver.transaction(conn):
        insert_alert(conn, chat_alert(key, found, kept, moment))
    listed = abhaya("alerts", data_dir=data_dir(agent), pin_input=f"{PIN}\n")
    assert listed.returncode == 0, listed.stderr
    lines = listed.stdout.splitlines()
    at = next(n for n, line in enumerate(lines) if "Signs of grooming" in line)
    assert "[critical]  chat  (child)" in lines[at]
    assert lines[at + 1].strip() == "discord, thread 7700:"
    assert "contact: 'are your parents home?'  [personal_info]" in lines[at + 2]
    assert "+05:30" in lines[at + 2]
    assert "contact: 'send a pic'  [image_request]" in lines[at + 3]


def test_events_show_times_in_the_policys_time_zone(agent: AgentProcess) -> None:
    """The policy says Asia/Kolkata: people read +05:30 times; JSON keeps UTC."""
    url = "https://adult.example/cli-check"
    record = next(r for r in _events(agent, "--kind", "verdict") if r["url"] == url)
    assert record["time"].endswith("+00:00")
    text = abhaya("events", "--kind", "verdict", data_dir=data_dir(agent), pin_input=f"{PIN}\n")
    assert text.returncode == 0, text.stderr
    shown = next(line for line in text.stdout.splitlines() if line.endswith(url)).split()[0]
    assert shown.endswith("+05:30")
    assert datetime.fromisoformat(shown) == datetime.fromisoformat(record["time"]).replace(
        microsecond=0
    )


def test_export_to_standard_output(agent: AgentProcess, tmp_path: Path) -> None:
    _events(agent, "--kind", "verdict")  # the blocked request is committed
    result = subprocess.run(
        [*ABHAYA, "export", "--format", "csv", "--out", "-", "--data-dir", str(data_dir(agent))],
        input=f"{PIN}\n",
        capture_output=True,
        text=True,
        timeout=60,
        cwd=tmp_path,
    )
    assert result.returncode == 0, result.stderr
    assert list(tmp_path.iterdir()) == []  # no file named "-"
    rows = list(csv.DictReader(result.stdout.splitlines()))
    assert "https://adult.example/cli-check" in {row["url"] for row in rows}


IMAGE_BYTES = bytes(range(256)) * 64  # generated stand-in for the image; never stored


def _store_image_event(agent: AgentProcess) -> int:
    """An image hash-match event as the proxy records it (stored straight into the agent's
    store, as the chat-alert test does); returns its id."""
    evidence = ImageEvidence(
        sha256=hashlib.sha256(IMAGE_BYTES).hexdigest(),
        pdq="a5" * 32,
        pdq_quality=92,
        distance=7,
        list_name="test-known-images",
        list_version="2026-11-29",
        listed_hash="a4" * 32,
        label="<b>entry</b> 'x'",
        page="https://forum.example/thread/4",
        width=800,
        height=600,
        format="jpeg",
    )
    event = Event(
        time=datetime(2026, 11, 30, 10, 0, tzinfo=UTC),
        kind=EventKind.IMAGE,
        profile="child",
        category="csam",
        action="block",
        reason="hash_match",
        domain="img.forum.example",
        url="https://img.forum.example/p/<script>alert(1)</script>.jpg",
        rule="test-known-images",
        detail=evidence.to_json(),
        os_user="kid",
        process='browser"><img src=x>',
    )
    store = open_store(data_dir(agent))
    with contextlib.closing(store.connect()) as conn, driver.transaction(conn):
        return insert_events(conn, [event])


def test_report_writes_the_evidence_package_and_says_where_to_file_it(
    agent: AgentProcess, tmp_path: Path
) -> None:
    ident = _store_image_event(agent)
    result = abhaya(
        "report", str(ident), "--out", str(tmp_path), data_dir=data_dir(agent), pin_input=f"{PIN}\n"
    )
    assert result.returncode == 0, result.stderr
    json_path, html_path = (tmp_path / f"abhaya-evidence-{ident}.{ext}" for ext in ("json", "html"))
    assert sorted(tmp_path.iterdir()) == sorted([json_path, html_path])
    assert str(json_path) in result.stdout and str(html_path) in result.stdout
    assert "cybercrime.gov.in" in result.stdout and "1930" in result.stdout
    for path in (json_path, html_path):
        assert stat.S_IMODE(path.stat().st_mode) == 0o600
        data = path.read_bytes()
        assert IMAGE_BYTES[:64] not in data and b"data:image" not in data
        assert len(data) < 20_000

    report = json.loads(json_path.read_text(encoding="utf-8"))
    assert report["format"] == "abhaya-evidence/1" and report["image_kept"] is False
    event = report["event"]
    assert (event["id"], event["kind"], event["reason"]) == (ident, "image", "hash_match")
    assert (event["profile"], event["os_user"], event["domain"]) == (
        "child",
        "kid",
        "img.forum.example",
    )
    assert event["time"] == "2026-11-30T10:00:00+00:00"
    assert event["time_local"] == "2026-11-30T15:30:00+05:30"
    assert event["timezone"] == "Asia/Kolkata"
    image = report["image"]
    assert image["sha256"] == hashlib.sha256(IMAGE_BYTES).hexdigest()
    assert (image["pdq"], image["distance"], image["list"]) == ("a5" * 32, 7, "test-known-images")
    assert (image["list_version"], image["page"]) == (
        "2026-11-29",
        "https://forum.example/thread/4",
    )
    machine = report["machine"]
    assert machine["hostname"] == socket.gethostname() and machine["agent_version"]
    assert machine["os"] and machine["os_version"]
    assert datetime.fromisoformat(report["made_at"]).tzinfo is not None
    assert report["filing"]["jurisdiction"] == "in"
    assert any("cybercrime.gov.in" in step for step in report["filing"]["steps"])

    page = html_path.read_text(encoding="utf-8")
    assert "No image is kept" in page
    for shown in (
        "2026-11-30T10:00:00+00:00",
        "2026-11-30T15:30:00+05:30",
        "https://forum.example/thread/4",
        "a5" * 32,
        hashlib.sha256(IMAGE_BYTES).hexdigest(),
        "test-known-images",
        "2026-11-29",
        socket.gethostname(),
        "https://cybercrime.gov.in",
        "1930",
    ):
        assert shown in page, shown
    assert "<script>" not in page and "<img" not in page and "<b>entry" not in page
    assert html.escape("<script>alert(1)</script>", quote=False) in page

    again = abhaya(
        "report", str(ident), "--out", str(tmp_path), data_dir=data_dir(agent), pin_input=f"{PIN}\n"
    )
    assert again.returncode == 1 and "already exists; nothing was written" in again.stderr
    assert json.loads(json_path.read_text(encoding="utf-8"))["made_at"] == report["made_at"]


def test_report_refuses_an_event_that_is_not_an_image_event(
    agent: AgentProcess, tmp_path: Path
) -> None:
    verdict = _events(agent, "--kind", "verdict")[0]
    result = abhaya(
        "report", str(verdict["id"]), "--out", str(tmp_path), data_dir=data_dir(agent),
        pin_input=f"{PIN}\n",
    )  # fmt: skip
    assert result.returncode == 1 and "Traceback" not in result.stderr
    assert f"event {verdict['id']} is a verdict event, not an image event" in result.stderr
    assert list(tmp_path.iterdir()) == []


def test_report_on_a_missing_event_says_so(agent: AgentProcess, tmp_path: Path) -> None:
    result = abhaya(
        "report", "987654", "--out", str(tmp_path), data_dir=data_dir(agent), pin_input=f"{PIN}\n"
    )
    assert result.returncode == 1 and "Traceback" not in result.stderr
    assert "no event with id 987654" in result.stderr
    assert list(tmp_path.iterdir()) == []


def test_policy_show_and_apply(agent: AgentProcess, tmp_path: Path) -> None:
    policy_file = agent.folder / "policy" / "policy.toml"
    shown = abhaya("policy", "show", data_dir=data_dir(agent), pin_input=f"{PIN}\n")
    assert shown.returncode == 0, shown.stderr
    assert shown.stdout == policy_file.read_text(encoding="utf-8")
    original = shown.stdout

    bad = tmp_path / "bad.toml"
    bad.write_text(original.replace('timezone = "Asia/Kolkata"', 'timezone = "Mars/Base"'))
    refused = abhaya("policy", "apply", str(bad), data_dir=data_dir(agent), pin_input=f"{PIN}\n")
    assert refused.returncode == 1
    assert "policy refused" in refused.stderr and "Mars/Base" in refused.stderr
    assert policy_file.read_text(encoding="utf-8") == original

    good = tmp_path / "good.toml"
    good.write_text(original + "\n[access]\nrequest_expiry_hours = 12\n")
    applied = abhaya("policy", "apply", str(good), data_dir=data_dir(agent), pin_input=f"{PIN}\n")
    try:
        assert applied.returncode == 0, applied.stderr
        assert "policy applied" in applied.stdout
        assert policy_file.read_text(encoding="utf-8") == good.read_text()
    finally:
        back = tmp_path / "back.toml"
        back.write_text(original)
        abhaya("policy", "apply", str(back), data_dir=data_dir(agent), pin_input=f"{PIN}\n")
    missing = abhaya(
        "policy", "apply", str(tmp_path / "none.toml"), data_dir=data_dir(agent), pin_input=""
    )
    assert missing.returncode == 1 and "cannot read" in missing.stderr


FORBIDDEN = ("sqlcipher3", "keyring", "argon2", "mitmproxy", "abhaya.agent.store")
_REPORT_MODULES = f"""
import json, sys
from abhaya.agent.cli import main
status = main(sys.argv[1:])
loaded = [name for name in sys.modules if name.startswith({FORBIDDEN!r})]
print("LOADED " + json.dumps(sorted(loaded)), file=sys.stderr)
sys.exit(status)
"""


@pytest.mark.parametrize(
    "command", [["status"], ["events", "--limit", "1"], ["alerts"], ["report", "IMAGE"]]
)
def test_a_parent_command_loads_nothing_that_holds_the_agents_secrets(
    agent: AgentProcess, command: list[str], tmp_path: Path
) -> None:
    """A parent command is a thin client: no store, SQLCipher, keyring, argon2 or mitmproxy."""
    if command[0] == "report":
        command = ["report", str(_store_image_event(agent)), "--out", str(tmp_path)]
    result = subprocess.run(
        [sys.executable, "-c", _REPORT_MODULES, *command, "--data-dir", str(data_dir(agent))],
        input=f"{PIN}\n",
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 0, result.stderr
    report = next(line for line in result.stderr.splitlines() if line.startswith("LOADED "))
    assert json.loads(report.removeprefix("LOADED ")) == []


def test_pause_and_resume_from_the_command_line(agent: AgentProcess) -> None:
    paused = abhaya("pause", "--minutes", "5", data_dir=data_dir(agent), pin_input=f"{PIN}\n")
    try:
        assert paused.returncode == 0, paused.stderr
        assert "csam stays blocked" in paused.stdout
        status = abhaya("status", data_dir=data_dir(agent), pin_input=f"{PIN}\n")
        assert "paused" in status.stdout
        assert agent.status_of("https://adult.example/") != 403
        assert agent.status_of("https://csam-test.invalid/") == 403
    finally:
        resumed = abhaya("resume", data_dir=data_dir(agent), pin_input=f"{PIN}\n")
    assert resumed.returncode == 0, resumed.stderr
    assert agent.status_of("https://adult.example/") == 403


def test_set_pin_changes_it_with_the_current_one(agent: AgentProcess) -> None:
    """Last in this module: the other tests use the first PIN."""
    folder = data_dir(agent)
    differ = abhaya("set-pin", data_dir=folder, pin_input=f"{PIN}\n1357\n7531\n")
    assert differ.returncode == 1 and "differ" in differ.stderr
    changed = abhaya("set-pin", data_dir=folder, pin_input=f"{PIN}\n1357\n1357\n")
    assert changed.returncode == 0, changed.stderr
    assert abhaya("status", data_dir=folder, pin_input=f"{PIN}\n").returncode == 1
    assert abhaya("status", data_dir=folder, pin_input="1357\n").returncode == 0
