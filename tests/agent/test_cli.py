"""`abhaya run` and `abhaya check` as a user runs them: real processes, real signals."""

from __future__ import annotations

import json
import os
import re
import signal
import socket
import ssl
import subprocess
import sys
import time
from collections.abc import Iterator, Sequence
from datetime import datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import httpx
import pytest

from tests.conftest import POLICY, with_allowed_hours, write_policy

ABHAYA = [sys.executable, "-m", "abhaya.agent.cli"]


class AgentProcess:
    """`abhaya run` in a child process; stdout and stderr go to files we can read while it runs."""

    def __init__(self, folder: Path, policy: Path, extra_args: Sequence[str] = ()) -> None:
        self.folder = folder
        self.out = folder / "stdout.txt"
        self.err = folder / "stderr.txt"
        with self.out.open("w") as stdout, self.err.open("w") as stderr:
            self.process = subprocess.Popen(
                [
                    *ABHAYA,
                    "run",
                    "--listen",
                    "127.0.0.1:0",
                    "--data-dir",
                    str(folder / "data"),
                    "--policy",
                    str(policy),
                    *extra_args,
                ],
                stdout=stdout,
                stderr=stderr,
            )
        self.port = int(self.wait_for(self.out, r"filtering on http://127\.0\.0\.1:(\d+)").group(1))

    def wait_for(self, path: Path, pattern: str, timeout: float = 60) -> re.Match[str]:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            found = re.search(pattern, path.read_text())
            if found:
                return found
            if self.process.poll() is not None:
                break
            time.sleep(0.1)
        raise AssertionError(f"{pattern!r} not seen; stderr: {self.err.read_text()}")

    def status_of(self, url: str) -> int:
        context = ssl.create_default_context(cafile=str(self.folder / "data/ca/abhaya-ca.pem"))
        with httpx.Client(proxy=f"http://127.0.0.1:{self.port}", verify=context, timeout=20) as c:
            return c.get(url).status_code


@pytest.fixture
def agent_process(tmp_path: Path) -> Iterator[AgentProcess]:
    process = AgentProcess(tmp_path, write_policy(tmp_path / "policy"))
    yield process
    if process.process.poll() is None:
        process.process.kill()
        process.process.wait()


def test_run_prints_how_to_use_it_and_stops_cleanly(agent_process: AgentProcess) -> None:
    banner = agent_process.out.read_text()
    assert "abhaya-ca.pem" in banner and "SHA-256" in banner
    assert "events.db (encrypted, key in" in banner
    assert agent_process.status_of("https://adult.example/") == 403
    agent_process.process.send_signal(signal.SIGTERM)
    assert agent_process.process.wait(30) == 0
    assert "stopped" in agent_process.out.read_text()


def test_ca_key_is_private_and_no_pkcs12_is_kept(agent_process: AgentProcess) -> None:
    assert (agent_process.folder / "data").stat().st_mode & 0o777 == 0o700
    ca = agent_process.folder / "data" / "ca"
    assert (ca / "mitmproxy-ca.pem").stat().st_mode & 0o777 == 0o600
    assert (ca / "abhaya-ca.pem").stat().st_mode & 0o777 == 0o644
    assert "PRIVATE KEY" not in (ca / "abhaya-ca.pem").read_text()
    assert list(ca.glob("*.p12")) == []


def test_invalid_policy_is_refused_and_the_old_one_stays(agent_process: AgentProcess) -> None:
    policy = agent_process.folder / "policy" / "policy.toml"
    policy.write_text(POLICY.replace('action = "block"', 'action = "sometimes"', 1))
    agent_process.process.send_signal(signal.SIGHUP)
    agent_process.wait_for(agent_process.err, r"new policy refused, the previous one stays")
    assert agent_process.status_of("https://adult.example/") == 403
    assert agent_process.process.poll() is None


def test_changed_policy_file_is_reloaded(agent_process: AgentProcess) -> None:
    assert agent_process.status_of("https://example.org/") != 403
    policy = agent_process.folder / "policy" / "policy.toml"
    policy.write_text(POLICY.replace('block = ["custom.example"', 'block = ["example.org"'))
    agent_process.wait_for(agent_process.err, r"policy reloaded from")
    assert agent_process.status_of("https://example.org/") == 403


@pytest.mark.parametrize("listen", ["0.0.0.0:8080", "192.0.2.1:8080", "[::]:8080"])
def test_non_loopback_listen_is_refused(listen: str, tmp_path: Path) -> None:
    result = subprocess.run(
        [*ABHAYA, "run", "--listen", listen, "--data-dir", str(tmp_path)],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 78  # EX_CONFIG: retrying cannot help
    assert "--allow-lan" in result.stderr


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("[categories.csam]\naction = 'allow'\n", "zero tolerance"),
        ("jurisdiction = 'zz'\n", "unknown jurisdiction 'zz'"),
    ],
)
def test_invalid_policy_at_start_is_a_clear_error(tmp_path: Path, text: str, message: str) -> None:
    bad = tmp_path / "bad.toml"
    bad.write_text(text)
    result = subprocess.run(
        [*ABHAYA, "run", "--policy", str(bad), "--data-dir", str(tmp_path)],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 78  # EX_CONFIG: retrying cannot help
    assert "bad.toml" in result.stderr and message in result.stderr
    assert "Traceback" not in result.stderr


def test_a_query_model_that_cannot_be_loaded_stops_the_start(tmp_path: Path) -> None:
    """The policy turns the model on; with no place to build it the agent does not start on
    the rules alone (a policy that turns it off would)."""
    (tmp_path / "a-file").write_text("")
    result = subprocess.run(
        [*ABHAYA, "run", "--data-dir", str(tmp_path / "data"), "--listen", "127.0.0.1:0",
         "--model-dir", str(tmp_path / "a-file" / "models")],
        capture_output=True,
        text=True,
        timeout=60,
    )  # fmt: skip
    assert result.returncode == 78, result.stderr
    assert "the query model could not be loaded" in result.stderr
    assert "Traceback" not in result.stderr


def test_check_prints_one_json_object_per_url(policy_file: Path) -> None:
    result = subprocess.run(
        [
            *ABHAYA,
            "check",
            "--policy",
            str(policy_file),
            "--profile",
            "child",
            "https://www.adult.example/",
            "https://example.org/",
            "https://www.bing.com/search?q=weather",
        ],
        capture_output=True,
        text=True,
        timeout=60,
        check=True,
    )
    records = [json.loads(line) for line in result.stdout.splitlines()]
    assert [(r["action"], r["reason"], r["category"]) for r in records] == [
        ("block", "list", "adult"),
        ("allow", "no_match", None),
        ("rewrite", "safe_search", None),
    ]
    assert records[0]["rule"] == "adult.example"
    assert {"url", "action", "category", "reason", "detail", "rule"} <= set(records[0])
    assert "adlt=strict" in records[2]["rewritten_url"]


def test_check_names_the_query_models_score_when_it_decided(policy_file: Path) -> None:
    result = subprocess.run(
        [
            *ABHAYA,
            "check",
            "--policy",
            str(policy_file),
            "https://www.bing.com/search?q=i+no+longer+want+to+exist",
        ],
        capture_output=True,
        text=True,
        timeout=60,
        check=True,
    )
    record = json.loads(result.stdout)
    assert (record["action"], record["reason"], record["category"]) == (
        "warn",
        "model",
        "self_harm",
    )
    assert re.fullmatch(r"model:self_harm=(0\.\d\d|1\.00)", record["rule"])
    assert "threshold 0.90" in record["detail"]
    assert record["source"].startswith("multilingual-e5-small/")


def test_check_with_the_embedded_default_policy() -> None:
    result = subprocess.run(
        [*ABHAYA, "check", "https://abhaya-csam-test.invalid/"],
        capture_output=True,
        text=True,
        timeout=60,
        check=True,
        env={**os.environ},
    )
    assert json.loads(result.stdout)["category"] == "csam"


def test_check_says_whether_a_site_is_looked_inside_and_why() -> None:
    """The embedded default policy decrypts only where a check needs it."""
    result = subprocess.run(
        [*ABHAYA, "check", "https://example.org/page", "https://www.google.com/search?q=maps"],
        capture_output=True,
        text=True,
        timeout=60,
        check=True,
    )
    plain, search = (json.loads(line) for line in result.stdout.splitlines())
    assert plain["inspected"] is False
    assert plain["inspection"] == (
        "not inspected (passed through): nothing needs to look inside; "
        "the site is still filtered by name"
    )
    assert search["inspected"] is True
    assert "search engine" in search["inspection"]


def _set_pin_and_stop(agent_process: AgentProcess, pin: str = "2468") -> None:
    """Set the parent PIN through the running agent, then stop it cleanly."""
    subprocess.run(
        [*ABHAYA, "set-pin", "--data-dir", str(agent_process.folder / "data")],
        input=f"{pin}\n{pin}\n",
        text=True,
        capture_output=True,
        timeout=60,
        check=True,
    )
    agent_process.process.send_signal(signal.SIGTERM)
    assert agent_process.process.wait(30) == 0


def test_the_banner_names_the_models_in_force(agent_process: AgentProcess) -> None:
    banner = agent_process.out.read_text()
    assert re.search(r"search model: multilingual-e5-small/\S+\+query-head-[0-9a-f]{12}\n", banner)
    assert "images:  checked by open_nsfw-864bb37b before the browser gets them\n" in banner


def test_the_banner_says_loudly_that_no_parent_pin_is_set(agent_process: AgentProcess) -> None:
    banner = agent_process.out.read_text()
    assert "NO PARENT PIN IS SET" in banner and "abhaya set-pin" in banner
    _set_pin_and_stop(agent_process)
    again = AgentProcess(agent_process.folder, agent_process.folder / "policy" / "policy.toml")
    try:
        assert "NO PARENT PIN" not in again.out.read_text()
    finally:
        again.process.kill()
        again.process.wait()


def _check(policy: Path, data_home: Path) -> subprocess.CompletedProcess[str]:
    """`abhaya check` without --data-dir, with the default data folder under `data_home`."""
    return subprocess.run(
        [*ABHAYA, "check", "--policy", str(policy), "https://www.adult.example/"],
        capture_output=True,
        text=True,
        timeout=60,
        env={**os.environ, "XDG_DATA_HOME": str(data_home)},
    )


def test_check_uses_the_default_data_folders_list_cache(policy_file: Path, tmp_path: Path) -> None:
    first = _check(policy_file, tmp_path)
    assert first.returncode == 0, first.stderr
    cache = tmp_path / "abhaya" / "cache"
    entries = sorted(path.name for path in cache.glob("*.marisa"))
    assert entries, "check compiled the lists without caching them"
    stamps = {path: path.stat().st_mtime_ns for path in cache.iterdir()}
    second = _check(policy_file, tmp_path)
    assert second.returncode == 0, second.stderr
    assert {
        path: path.stat().st_mtime_ns for path in cache.iterdir()
    } == stamps  # read, not rebuilt
    assert json.loads(second.stdout)["category"] == "adult"


def test_check_works_when_the_cache_cannot_be_written(policy_file: Path, tmp_path: Path) -> None:
    """A data folder whose cache cannot be made (here a file stands in its way; as root, modes
    would not stop the writes) costs speed, never the answer."""
    (tmp_path / "abhaya").mkdir()
    (tmp_path / "abhaya" / "cache").write_text("not a folder")
    result = _check(policy_file, tmp_path)
    assert result.returncode == 0, result.stderr
    assert json.loads(result.stdout)["category"] == "adult"
    assert "cannot write list cache" in result.stderr


def _run_once(
    tmp_path: Path, *extra: str, env: dict[str, str] | None = None
) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [*ABHAYA, "run", "--data-dir", str(tmp_path / "data"), *extra],
        capture_output=True,
        text=True,
        timeout=60,
        env=env,
    )


def test_a_busy_port_exits_with_tempfail(tmp_path: Path) -> None:
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        result = _run_once(tmp_path, "--listen", f"127.0.0.1:{port}")
    assert result.returncode == 75, result.stderr  # EX_TEMPFAIL: may pass on retry
    assert f"127.0.0.1:{port}" in result.stderr and "Traceback" not in result.stderr


def test_an_unusable_data_folder_exits_with_config(tmp_path: Path) -> None:
    (tmp_path / "data").write_text("a file where the folder should be")
    result = _run_once(tmp_path, "--listen", "127.0.0.1:0")
    assert result.returncode == 78, result.stderr
    assert "Traceback" not in result.stderr


def test_a_keyring_that_cannot_be_asked_at_boot_exits_with_tempfail(
    agent_process: AgentProcess,
) -> None:
    """The store's key is in the Secret Service; started again without a D-Bus session (a
    boot before the keyring is up), the agent must wait and retry, not make a new key."""
    agent_process.process.send_signal(signal.SIGTERM)
    assert agent_process.process.wait(30) == 0
    assert not (agent_process.folder / "data" / "store.key").exists()  # the key is in the keyring
    env = {k: v for k, v in os.environ.items() if k != "DBUS_SESSION_BUS_ADDRESS"}
    result = _run_once(agent_process.folder, "--listen", "127.0.0.1:0", env=env)
    assert result.returncode == 75, result.stderr
    assert "keyring" in result.stderr and "Traceback" not in result.stderr


def test_check_reports_list_entries_narrowed_to_one_host(tmp_path: Path) -> None:
    """A list naming the platform `blogspot.com` blocks that host, not every blog, and says so."""
    policy = (
        'version = 1\n[categories.adult]\naction = "block"\n'
        '[[blocklist]]\npath = "adult.txt"\ncategory = "adult"\n'
    )
    policy_file = write_policy(tmp_path, policy, {"adult.txt": "blogspot.com\nadult.example\n"})
    result = subprocess.run(
        [*ABHAYA, "check", "--policy", str(policy_file), "https://someones-blog.blogspot.com/"],
        capture_output=True,
        text=True,
        timeout=60,
        check=True,
    )
    assert json.loads(result.stdout)["action"] == "allow"
    assert "abhaya: note: " in result.stderr
    assert "adult.txt: 1 entry names a public suffix" in result.stderr
    assert result.stderr.rstrip().endswith("not the sites under it: blogspot.com")


def test_reset_pin_clears_a_pin_for_the_administrator(agent_process: AgentProcess) -> None:
    _set_pin_and_stop(agent_process)
    data = str(agent_process.folder / "data")
    reset = subprocess.run(
        [*ABHAYA, "reset-pin", "--data-dir", data], capture_output=True, text=True, timeout=60
    )
    assert reset.returncode == 0, reset.stderr
    assert "reset by an administrator" in reset.stdout
    again = AgentProcess(agent_process.folder, agent_process.folder / "policy" / "policy.toml")
    try:
        assert "NO PARENT PIN IS SET" in again.out.read_text()
    finally:
        again.process.kill()
        again.process.wait()


@pytest.mark.parametrize(
    ("listen", "message"),
    [
        ("0.0.0.0:0", "loopback addresses only"),
        ("192.0.2.1:9000", "loopback addresses only"),
        ("127.0.0.1:http", "not a number"),
    ],
)
def test_api_listen_must_be_loopback(tmp_path: Path, listen: str, message: str) -> None:
    result = subprocess.run(
        [*ABHAYA, "run", "--api-listen", listen, "--allow-lan", "--data-dir", str(tmp_path)],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 78  # EX_CONFIG: retrying cannot help
    assert "--api-listen" in result.stderr and message in result.stderr


def test_check_decides_as_the_proxy_would_for_an_os_account(tmp_path: Path) -> None:
    policy = POLICY.replace("[profiles.teen]\n", '[profiles.teen]\nusers = ["ravi"]\n')
    policy_file = write_policy(tmp_path / "policy", policy)

    def check(*who: str) -> dict[str, object]:
        result = subprocess.run(
            [*ABHAYA, "check", "--policy", str(policy_file), *who, "https://adult.example/"],
            capture_output=True,
            text=True,
            timeout=60,
            check=True,
        )
        record: dict[str, object] = json.loads(result.stdout)
        return record

    assert (check("--user", "ravi")["profile"], check("--user", "ravi")["action"]) == (
        "teen",
        "allow",
    )
    assert check("--user", "someone-else")["profile"] == "child"  # the default
    assert check()["action"] == "block"


def test_check_says_when_the_allowed_hours_start_again(tmp_path: Path) -> None:
    """Outside the profile's allowed hours, `check` gives the moment they start again (what
    the child's page says), in the policy's time zone."""
    zone = ZoneInfo("Asia/Kolkata")  # the test policy's
    start = (datetime.now(zone) + timedelta(hours=2)).replace(minute=0, second=0, microsecond=0)
    policy = with_allowed_hours(POLICY, f"{start:%H:00}", f"{start + timedelta(hours=1):%H:00}")
    policy_file = write_policy(tmp_path / "policy", policy)
    result = subprocess.run(
        [*ABHAYA, "check", "--policy", str(policy_file), "https://example.org/"],
        capture_output=True,
        text=True,
        timeout=60,
        check=True,
    )
    record = json.loads(result.stdout)
    assert (record["action"], record["reason"]) == ("block", "schedule")
    assert record["allowed_again"] == start.isoformat()


def test_eval_queries_prints_tables_and_json(tmp_path: Path) -> None:
    rows = [
        {"id": "g1", "q": "k1d nud3s", "category": "csam", "lang": "en"},
        {"id": "g2", "q": "kid weather", "category": "csam", "lang": "en"},
        {"id": "g3", "q": "essex weather", "category": "none", "lang": "en"},
    ]
    queries = tmp_path / "set.jsonl"
    queries.write_text("".join(json.dumps(r) + "\n" for r in rows), encoding="utf-8")
    common = ["eval", "queries", str(queries), "--data-dir", str(tmp_path / "data")]
    table = subprocess.run(
        [*ABHAYA, *common], capture_output=True, text=True, timeout=60, check=True
    ).stdout
    assert "| csam | 1/2 (50%) | 1/2 (50%) |" in table and "g2" in table
    data = json.loads(
        subprocess.run(
            [*ABHAYA, *common, "--json"], capture_output=True, text=True, timeout=60, check=True
        ).stdout
    )
    assert data["categories"]["none"]["all"] == {"right": 1, "total": 1, "share": 1.0}
    assert [w["id"] for w in data["wrong"]] == ["g2"]


def test_eval_queries_refuses_a_bad_file_with_its_line(tmp_path: Path) -> None:
    queries = tmp_path / "set.jsonl"
    queries.write_text('{"id": "g1", "q": "a", "category": "none", "lang": "en"}\n{oops\n')
    result = subprocess.run(
        [*ABHAYA, "eval", "queries", str(queries)], capture_output=True, text=True, timeout=60
    )
    assert result.returncode == 2
    assert f"{queries}:2: not JSON" in result.stderr and "Traceback" not in result.stderr


@pytest.mark.parametrize("options", [("--json", "-"), ("-",)])
def test_classify_text_reads_a_message_a_line_and_answers_a_json_object_a_line(
    options: tuple[str, ...],
) -> None:
    """The contract scripts rely on: in order, one object per non-blank line, scores 0..1;
    reading standard input always answers in JSON."""
    messages = "add me on telegram we can talk there\n\nwhat did you get in maths?\n"
    result = subprocess.run(
        [*ABHAYA, "classify-text", *options],
        input=messages,
        capture_output=True,
        text=True,
        timeout=120,
        check=True,
    )
    records = [json.loads(line) for line in result.stdout.splitlines()]
    assert len(records) == 2
    for record in records:
        assert set(record) == {"labels", "flagged", "ms"}
        assert len(record["labels"]) == 11
        assert all(0 <= score <= 1 for score in record["labels"].values())
        assert record["ms"] > 0
    assert "platform_move" in records[0]["flagged"]
    assert records[1]["flagged"] == []
    plain = subprocess.run(
        [*ABHAYA, "classify-text", "add me on telegram we can talk there"],
        capture_output=True,
        text=True,
        timeout=120,
        check=True,
    )
    assert plain.stdout.startswith("flagged: platform_move")


def test_eval_chat_measures_a_labelled_file_and_refuses_a_bad_one(tmp_path: Path) -> None:
    good = tmp_path / "messages.jsonl"
    good.write_text(
        "\n".join(
            json.dumps({"id": f"t{n}", "text": text, "lang": "en", "labels": labels})
            for n, (text, labels) in enumerate(
                [
                    ("add me on telegram we can talk there", ["platform_move"]),
                    ("what did you get in maths?", []),
                ]
            )
        )
    )
    result = subprocess.run(
        [*ABHAYA, "eval", "chat", str(good), "--json"],
        capture_output=True,
        text=True,
        timeout=120,
        check=True,
    )
    report = json.loads(result.stdout)
    assert report["all"]["risky_recall"] == {"flagged": 1, "total": 1}
    assert report["all"]["benign_false_positives"] == {"flagged": 0, "total": 1}
    assert report["all"]["labels"]["platform_move"]["f1"] == 1.0
    bad = tmp_path / "bad.jsonl"
    bad.write_text('{"id": "x", "text": "hi", "lang": "en", "labels": ["rude"]}\n')
    refused = subprocess.run(
        [*ABHAYA, "eval", "chat", str(bad)], capture_output=True, text=True, timeout=120
    )
    assert refused.returncode == 2
    assert "bad.jsonl:1" in refused.stderr and "unknown label rude" in refused.stderr


def test_classify_chat_answers_a_json_object_a_conversation(tmp_path: Path) -> None:
    conversations = [
        {"messages": [{"from": "contact", "text": "i will send your photos to everyone"}]},
        {"messages": [{"from": "child", "text": "did you finish the maths homework?"}]},
    ]
    result = subprocess.run(
        [*ABHAYA, "classify-chat", "-"],
        input="\n".join(json.dumps(c) for c in conversations) + "\n",
        capture_output=True,
        text=True,
        timeout=120,
        check=True,
    )
    first, second = (json.loads(line) for line in result.stdout.splitlines())
    assert set(first) == {"risk", "flagged", "first_alert_at", "labels"}
    assert (first["risk"], first["flagged"], first["first_alert_at"]) == ("sextortion", True, 0)
    assert (second["risk"], second["flagged"], second["first_alert_at"]) == ("none", False, None)
    labelled = tmp_path / "conversations.jsonl"
    labelled.write_text(
        "\n".join(json.dumps({"id": f"c{n}", "risk": r, **c}) for n, (r, c) in
                  enumerate(zip(["sextortion", "none"], conversations, strict=True)))
    )  # fmt: skip
    report = subprocess.run(
        [*ABHAYA, "eval", "conversations", str(labelled), "--json"],
        capture_output=True,
        text=True,
        timeout=120,
        check=True,
    )
    risks = json.loads(report.stdout)["risks"]
    assert risks["sextortion"] == {"right": 1, "total": 1}
    assert risks["none"] == {"right": 1, "total": 1}
