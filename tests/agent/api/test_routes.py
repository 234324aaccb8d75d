"""Events, stats and export through the API after real requests through the real proxy.

Each test gets its own agent (no shared module state): what one test does can never change
what another sees, whatever order they run in.
"""

from __future__ import annotations

import csv
import io
import json
import os
import pwd
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import httpx
import pytest

from abhaya.agent.api.export import FIELDS
from abhaya.agent.imageevidence import ImageEvidence
from abhaya.agent.store import Event, EventKind
from abhaya.client import contract
from tests.agent.api.conftest import ApiAgent, Clock, set_first_pin
from tests.agent.conftest import Upstream, start_agent

BLOCKED = [
    "https://adult.example/video?q=private-words",
    "https://adult.example/photos",
    "https://www.adult.example/",
    "https://custom.example/page",
]


@pytest.fixture
def browsed(with_pin: ApiAgent) -> ApiAgent:
    """A fresh agent after a child's blocked and allowed requests, all committed."""
    with with_pin.running.client() as proxy:
        for url in BLOCKED:
            assert proxy.get(url).status_code == 403
        assert proxy.get("https://example.org/fine").status_code == 200
    assert with_pin.running.agent.services.events.flush(20)
    return with_pin


@pytest.fixture
def api(browsed: ApiAgent) -> Iterator[httpx.Client]:
    with browsed.client() as client:
        client.headers.update(browsed.login(client))
        yield client


def test_blocked_requests_are_listed_without_their_query(api: httpx.Client) -> None:
    page = api.get("/v1/events", params={"category": "adult"}).json()
    urls = [record["url"] for record in page["events"]]
    assert "https://adult.example/video" in urls
    assert all("private-words" not in json.dumps(record) for record in page["events"])
    record = page["events"][0]
    assert set(record) == set(contract.EventRecord.__required_keys__)
    assert {record["kind"], record["action"], record["profile"]} == {"verdict", "block", "child"}
    assert datetime.fromisoformat(record["time"]).tzinfo is not None
    assert page["next_cursor"] is None
    everything = api.get("/v1/events").json()["events"]
    assert not any(record["domain"] == "example.org" for record in everything)  # allow: no event


def test_events_are_paged_with_cursors_newest_first(api: httpx.Client) -> None:
    seen: list[int] = []
    cursor = None
    while True:
        params = {"kind": "verdict", "limit": "1"} | ({"cursor": cursor} if cursor else {})
        page = api.get("/v1/events", params=params).json()
        seen.extend(record["id"] for record in page["events"])
        cursor = page["next_cursor"]
        if cursor is None:
            break
    assert len(seen) == len(BLOCKED)
    assert seen == sorted(seen, reverse=True)


@pytest.mark.parametrize(
    ("params", "count"),
    [
        ({"text": "custom.example"}, 1),
        ({"text": "ADULT.EXAMPLE"}, 3),
        ({"category": "adult"}, 3),
        ({"reason": "list,custom_rule"}, 4),
        ({"reason": "custom_rule"}, 1),
        ({"profile": "child"}, 4),
        ({"profile": "teen"}, 0),
        ({"profile": "teen,child", "reason": "custom_rule"}, 1),
        ({"profile": ["teen", "child"], "category": "adult"}, 3),
        ({"kind": "pin_failed"}, 0),
        ({"kind": "verdict", "category": "gambling"}, 0),
        ({"since": "2000-01-01T00:00:00Z", "until": "2000-01-02T00:00:00Z"}, 0),
        ({"since": "2000-01-01T00:00:00+05:30"}, 4),
    ],
)
def test_event_filters(api: httpx.Client, params: dict[str, str | list[str]], count: int) -> None:
    answer = api.get("/v1/events", params=params)
    assert answer.status_code == 200, answer.text
    assert len(answer.json()["events"]) == count


def test_stats_count_per_category_per_day_and_top_domains(
    api: httpx.Client, browsed: ApiAgent
) -> None:
    stats = api.get("/v1/stats", params={"days": "7"}).json()
    per_category: dict[str, int] = {}
    for row in stats["per_day"]:
        per_category[row["category"]] = per_category.get(row["category"], 0) + row["count"]
    assert per_category == {"adult": 3}  # a parent's own rule is no category
    assert stats["top_domains"][0] == {"name": "adult.example", "count": 2}
    assert stats["top_apps"] == []
    assert stats["utc_offset_minutes"] == 330  # the policy's Asia/Kolkata
    since, until = datetime.fromisoformat(stats["since"]), datetime.fromisoformat(stats["until"])
    assert until - since == timedelta(days=7)
    assert since <= browsed.clock() < until


def test_one_event_is_read_by_its_id(api: httpx.Client, browsed: ApiAgent) -> None:
    detail = ImageEvidence(sha256="ab" * 32, distance=4, list_name="test-list").to_json()
    image = Event(
        time=browsed.clock(),
        kind=EventKind.IMAGE,
        category="csam",
        action="block",
        reason="hash_match",
        url="https://img.example/a.jpg",
        detail=detail,
    )
    writer = browsed.running.agent.services.events
    assert writer.submit(image) and writer.flush(20)
    (listed,) = api.get(contract.EVENTS, params={"kind": "image"}).json()["events"]
    answer = api.get(f"{contract.EVENTS}/{listed['id']}")
    assert answer.status_code == 200, answer.text
    assert answer.json() == listed
    assert ImageEvidence.from_json(answer.json()["detail"]).distance == 4
    verdict = api.get(contract.EVENTS, params={"kind": "verdict", "limit": "1"}).json()["events"]
    assert api.get(f"{contract.EVENTS}/{verdict[0]['id']}").json() == verdict[0]


@pytest.mark.parametrize(
    ("method", "path", "status", "words"),
    [
        ("GET", f"{contract.EVENTS}/999999", 404, "no event with id 999999"),
        ("GET", f"{contract.EVENTS}/x1", 404, "no such call"),
        ("GET", f"{contract.EVENTS}/1/more", 404, "no such call"),
        ("GET", f"{contract.EVENTS}/{'9' * 19}", 404, "no such call"),
        ("POST", f"{contract.EVENTS}/1", 405, "accepts GET"),
    ],
)
def test_a_missing_event_or_a_bad_call_is_refused_in_words(
    api: httpx.Client, method: str, path: str, status: int, words: str
) -> None:
    answer = api.request(method, path)
    assert answer.status_code == status
    assert words in answer.json()["error"]


def test_reading_one_event_needs_a_token(browsed: ApiAgent) -> None:
    with browsed.client() as client:
        assert client.get(f"{contract.EVENTS}/1").status_code == 401


def test_status_counts_today_and_names_the_time_zone(api: httpx.Client) -> None:
    status = api.get("/v1/status").json()
    assert set(status) == set(contract.Status.__required_keys__)
    assert status["api_version"] == contract.API_VERSION
    assert status["policy"]["timezone"] == "Asia/Kolkata"
    assert status["policy"]["jurisdiction"] == "in"
    today = status["today"]
    assert today["by_action"] == {"block": 4}
    assert today["by_kind"]["verdict"] == 4


def test_csv_export(api: httpx.Client) -> None:
    answer = api.get("/v1/export", params={"format": "csv"})
    assert answer.status_code == 200
    assert answer.headers["Content-Type"].startswith("text/csv")
    rows = list(csv.DictReader(io.StringIO(answer.text)))
    verdicts = [row for row in rows if row["kind"] == "verdict"]
    assert sorted(row["url"] for row in verdicts) == sorted(
        url.partition("?")[0] for url in BLOCKED
    )
    assert "private-words" not in answer.text


def test_json_export_and_its_time_range(api: httpx.Client) -> None:
    records = api.get("/v1/export", params={"format": "json"}).json()
    assert isinstance(records, list)
    assert {record["domain"] for record in records if record["kind"] == "verdict"} == {
        "adult.example",
        "www.adult.example",
        "custom.example",
    }
    future = (datetime.now(UTC) + timedelta(days=3)).isoformat()
    assert api.get("/v1/export", params={"format": "json", "since": future}).json() == []
    empty_csv = api.get("/v1/export", params={"format": "csv", "since": future}).text
    assert empty_csv.strip() == ",".join(FIELDS)


def test_status_says_whether_the_trust_store_holds_the_ca_and_who_browsed(
    tmp_path: Path, upstream: Upstream
) -> None:
    """The store is a bundle of the test's own (`RunConfig.trust_store`), first without the
    agent's CA and then with it; the real system store is never touched."""
    bundle = tmp_path / "bundle.crt"
    bundle.write_bytes(b"")
    running = start_agent(tmp_path, upstream, clock=Clock(), trust_store=bundle)
    agent = set_first_pin(ApiAgent(running, Clock(), tmp_path / "data"))
    try:
        with agent.client() as client:
            auth = agent.login(client)
            before = client.get("/v1/status", headers=auth).json()
            ca = agent.running.agent.ca
            assert before["ca"] == {
                "fingerprint_sha256": ca.fingerprint_sha256,
                "trust_store": str(bundle),
                "system_trusted": False,
            }
            assert before["connections"]["last_seen_by_user"] == {}
            assert agent.status_of("https://example.org/fine") == 200
            bundle.write_bytes(ca.public_cert.read_bytes())
            after = client.get("/v1/status", headers=auth).json()
        assert after["ca"]["system_trusted"] is True
        seen = after["connections"]["last_seen_by_user"]
        assert list(seen) == [pwd.getpwuid(os.getuid()).pw_name]
        assert datetime.now(UTC) - datetime.fromisoformat(seen[list(seen)[0]]) < timedelta(
            minutes=1
        )
    finally:
        agent.running.stop()
