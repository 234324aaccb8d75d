"""The control API over real HTTP on a real agent: login, tokens, lock-out and bad input."""

from __future__ import annotations

import json
import socket
import stat
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import httpx
import keyring
import keyring.backends.fail
import pytest

from abhaya.client.discovery import API_FILE_NAME, read_api_file
from tests.agent.api.conftest import PIN, ApiAgent, set_first_pin, start_api_agent
from tests.agent.conftest import Upstream


@pytest.fixture(scope="module")
def session(shared: ApiAgent) -> dict[str, str]:
    """One login for the read-only query tests (the shared agent's clock never moves)."""
    with shared.client() as client:
        return shared.login(client)


def test_api_json_tells_clients_the_port_and_only_the_owner_can_read_it(
    api_agent: ApiAgent,
) -> None:
    path = api_agent.data_dir / API_FILE_NAME
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    address = read_api_file(api_agent.data_dir)
    assert (address.host, address.port) == ("127.0.0.1", api_agent.port)


def test_api_json_is_removed_when_the_agent_stops(api_agent: ApiAgent) -> None:
    api_agent.running.stop()
    assert not (api_agent.data_dir / API_FILE_NAME).exists()
    with pytest.raises(OSError), socket.create_connection(("127.0.0.1", api_agent.port), 2):
        pass


def test_first_pin_needs_no_token_and_then_logins_work(api_agent: ApiAgent) -> None:
    with api_agent.client() as client:
        assert client.get("/v1/pin").json() == {"set": False}
        assert client.post("/v1/login", json={"pin": PIN}).status_code == 409
        answer = client.post("/v1/pin", json={"new": PIN})
        assert answer.status_code == 200
        assert set(answer.json()) == {"token", "expires"}
        assert client.get("/v1/pin").json() == {"set": True}
        # Now a PIN is set: setting it again without a session is refused.
        assert client.post("/v1/pin", json={"new": "1111"}).status_code == 401
        headers = api_agent.login(client)
        assert client.get("/v1/status", headers=headers).status_code == 200


def test_changing_the_pin_needs_the_old_one_and_ends_other_sessions(with_pin: ApiAgent) -> None:
    with with_pin.client() as client:
        headers = with_pin.login(client)
        other = with_pin.login(client)
        missing = client.post("/v1/pin", json={"new": "1357"}, headers=headers)
        assert (missing.status_code, missing.json()["field"]) == (422, "old")
        wrong = client.post("/v1/pin", json={"new": "1357", "old": "0000"}, headers=headers)
        assert wrong.status_code == 401
        changed = client.post("/v1/pin", json={"new": "1357", "old": PIN}, headers=headers)
        assert changed.status_code == 200
        assert client.get("/v1/status", headers=other).status_code == 401
        fresh = {"Authorization": f"Bearer {changed.json()['token']}"}
        assert client.get("/v1/status", headers=fresh).status_code == 200
        assert client.post("/v1/login", json={"pin": PIN}).status_code == 401
        with_pin.login(client, "1357")


@pytest.mark.parametrize(
    ("path", "method"),
    [
        ("/v1/status", "GET"),
        ("/v1/events", "GET"),
        ("/v1/stats", "GET"),
        ("/v1/export?format=csv", "GET"),
        ("/v1/logout", "POST"),
    ],
)
@pytest.mark.parametrize(
    "authorization",
    [None, "Bearer", "Bearer not-a-token", "Basic cGFyZW50OjI0Njg=", "bearer " + "A" * 43],
)
def test_calls_without_a_valid_token_get_401(
    shared: ApiAgent, path: str, method: str, authorization: str | None
) -> None:
    headers = {} if authorization is None else {"Authorization": authorization}
    with shared.client() as client:
        answer = client.request(method, path, headers=headers)
    assert answer.status_code == 401
    assert "error" in answer.json()
    assert answer.headers["WWW-Authenticate"].startswith("Bearer")


def test_tokens_expire_when_idle_and_logout_revokes(with_pin: ApiAgent) -> None:
    with with_pin.client() as client:
        headers = with_pin.login(client)
        with_pin.clock.advance(minutes=14)
        assert client.get("/v1/status", headers=headers).status_code == 200
        with_pin.clock.advance(minutes=16)
        expired = client.get("/v1/status", headers=headers)
        assert expired.status_code == 401 and "expired" in expired.json()["error"]
        headers = with_pin.login(client)
        assert client.post("/v1/logout", headers=headers).status_code == 200
        assert client.get("/v1/status", headers=headers).status_code == 401


def test_wrong_pins_are_401_then_429_with_a_growing_wait(with_pin: ApiAgent) -> None:
    with with_pin.client() as client:
        for _ in range(5):
            answer = client.post("/v1/login", json={"pin": "0000"})
            assert answer.status_code == 401 and "wrong PIN" in answer.json()["error"]
        locked = client.post("/v1/login", json={"pin": PIN})
        assert locked.status_code == 429
        assert locked.headers["Retry-After"] == "30"
        with_pin.clock.advance(seconds=31)
        assert client.post("/v1/login", json={"pin": "0000"}).status_code == 401
        locked = client.post("/v1/login", json={"pin": PIN})
        assert (locked.status_code, locked.headers["Retry-After"]) == (429, "60")
        with_pin.clock.advance(seconds=61)
        headers = with_pin.login(client)
        events = client.get("/v1/events", params={"kind": "pin_failed"}, headers=headers)
    assert events.status_code == 200
    assert len(events.json()["events"]) == 6


def _raw(agent: ApiAgent, request: bytes) -> tuple[int, dict[str, Any]]:
    """Send bytes as they are and read the status and JSON body (for what httpx won't send)."""
    with socket.create_connection(("127.0.0.1", agent.port), 10) as sock:
        sock.sendall(request)
        data = b""
        while chunk := sock.recv(65536):
            data += chunk
    head, _, body = data.partition(b"\r\n\r\n")
    return int(head.split()[1]), json.loads(body)


@pytest.mark.parametrize(
    ("body", "content_type", "status", "field"),
    [
        (b'{"pin": "24', "application/json", 400, None),
        (b"\xff\xfe", "application/json", 400, None),
        (b"[1, 2]", "application/json", 400, None),
        (b'"2468"', "application/json", 400, None),
        (b"", "application/json", 400, None),
        (b"[" * 5000 + b"]" * 5000, "application/json", 400, None),
        (b'{"pin": 2468}', "application/json", 422, "pin"),
        (b'{"pin": null}', "application/json", 422, "pin"),
        (b'{"pin": "24a8"}', "application/json", 422, "pin"),
        (b"{}", "application/json", 422, "pin"),
        (b'{"pin": "2468", "user": "x"}', "application/json", 422, "user"),
        (b'{"pin": "2468"}', "text/plain", 415, None),
        (b'{"pin": "2468"}', "application/x-www-form-urlencoded", 415, None),
    ],
)
def test_bad_login_bodies_get_clear_errors(
    shared: ApiAgent, body: bytes, content_type: str, status: int, field: str | None
) -> None:
    with shared.client() as client:
        answer = client.post("/v1/login", content=body, headers={"Content-Type": content_type})
        assert answer.status_code == status, answer.text
        assert answer.json().get("field") == field
        assert "Traceback" not in answer.text
        # Bad input is not a wrong PIN: nothing counts toward the lock-out.
        shared.login(client)


def test_a_huge_body_gets_413_and_the_agent_stays_up(shared: ApiAgent) -> None:
    with shared.client() as client:
        huge = b'{"pin": "' + b"1" * 200_000 + b'"}'
        answer = client.post(
            "/v1/login", content=huge, headers={"Content-Type": "application/json"}
        )
        assert answer.status_code == 413
        shared.login(client)


@pytest.mark.parametrize(
    ("request_bytes", "status"),
    [
        (
            b"POST /v1/login HTTP/1.1\r\nHost: {host}\r\nTransfer-Encoding: chunked\r\n"
            b"Content-Type: application/json\r\n\r\n5\r\n{...}\r\n0\r\n\r\n",
            411,
        ),
        (b"POST /v1/login HTTP/1.1\r\nHost: {host}\r\nContent-Length: ten\r\n\r\n", 400),
        (b"BREW /v1/login HTTP/1.1\r\nHost: {host}\r\n\r\n", 501),
        (b"GET /v1/status HTTP/1.1\r\nHost: evil.example\r\n\r\n", 403),
        (b"GET /v1/pin HTTP/1.1\r\nHost: {host}\r\nOrigin: https://evil.example\r\n\r\n", 403),
        (
            b"GET /v1/pin?"
            + b"&".join(b"a%d=1" % i for i in range(60))
            + b" HTTP/1.1\r\nHost: {host}\r\n\r\n",
            400,
        ),
        (b"GET /v1/" + b"a" * 70_000 + b" HTTP/1.1\r\nHost: {host}\r\n\r\n", 414),
    ],
)
def test_malformed_requests_get_json_errors(
    shared: ApiAgent, request_bytes: bytes, status: int
) -> None:
    host = f"127.0.0.1:{shared.port}".encode()
    code, body = _raw(shared, request_bytes.replace(b"{host}", host))
    assert code == status
    assert "error" in body
    with shared.client() as client:
        assert client.get("/v1/pin").status_code == 200


def test_unknown_paths_and_wrong_methods(shared: ApiAgent) -> None:
    with shared.client() as client:
        headers = shared.login(client)
        assert client.get("/v1/nothing", headers=headers).status_code == 404
        assert client.get("/", headers=headers).status_code == 404
        wrong = client.get("/v1/login")
        assert wrong.status_code == 405 and wrong.headers["Allow"] == "POST"
        assert client.delete("/v1/events", headers=headers).status_code == 405
        assert client.put("/v1/status", headers=headers).status_code == 405


@pytest.mark.parametrize(
    ("params", "field"),
    [
        ({"limit": "0"}, "limit"),
        ({"limit": "501"}, "limit"),
        ({"limit": "ten"}, "limit"),
        ({"kind": "everything"}, "kind"),
        ({"since": "yesterday"}, "since"),
        ({"since": "2026-11-30T10:00:00"}, "since"),  # no time zone
        ({"until": "2026-13-01T00:00:00Z"}, "until"),
        ({"cursor": "page-2"}, "cursor"),
        ({"text": "x" * 201}, "text"),
        ({"colour": "red"}, "colour"),
    ],
)
def test_bad_event_queries_name_the_field(
    shared: ApiAgent, session: dict[str, str], params: dict[str, str], field: str
) -> None:
    with shared.client() as client:
        answer = client.get("/v1/events", params=params, headers=session)
    assert answer.status_code == 422
    assert answer.json()["field"] == field


@pytest.mark.parametrize(
    ("path", "field"),
    [
        ("/v1/stats?days=0", "days"),
        ("/v1/stats?days=400", "days"),
        ("/v1/export", "format"),
        ("/v1/export?format=xml", "format"),
        ("/v1/export?format=csv&since=soon", "since"),
    ],
)
def test_bad_stats_and_export_queries_name_the_field(
    shared: ApiAgent, session: dict[str, str], path: str, field: str
) -> None:
    with shared.client() as client:
        answer = client.get(path, headers=session)
    assert (answer.status_code, answer.json()["field"]) == (422, field)


def test_status_reports_protection_store_and_key_mode(shared: ApiAgent) -> None:
    with shared.client() as client:
        record = client.get("/v1/status", headers=shared.login(client)).json()
    assert record["protection"] == "on"
    assert record["policy"]["source"].endswith("policy.toml")
    assert record["policy"]["profile"] == "child"
    store = shared.running.agent.store
    assert record["store"]["path"] == str(store.path)
    assert record["store"]["key_mode"] == str(store.key_mode)
    assert record["store"]["key_note"].startswith("encrypted")
    assert record["today"]["total"] >= 0
    assert record["last_tamper"] is None


def test_concurrent_clients_all_get_answers(shared: ApiAgent) -> None:
    with shared.client() as client:
        headers = shared.login(client)

    def ask(_: int) -> int:
        with httpx.Client(
            base_url=f"http://127.0.0.1:{shared.port}", trust_env=False, timeout=20
        ) as own:
            return own.get("/v1/events", headers=headers).status_code

    with ThreadPoolExecutor(8) as pool:
        assert set(pool.map(ask, range(32))) == {200}


def test_status_says_plainly_when_the_key_is_in_a_file(tmp_path: Path, upstream: Upstream) -> None:
    """No usable keyring (a headless service): the weaker key-file mode is named as such."""
    original = keyring.get_keyring()
    keyring.set_keyring(keyring.backends.fail.Keyring())
    try:
        agent = set_first_pin(start_api_agent(tmp_path, upstream))
    finally:
        keyring.set_keyring(original)
    try:
        with agent.client() as client:
            store = client.get("/v1/status", headers=agent.login(client)).json()["store"]
    finally:
        agent.running.stop()
    assert store["key_mode"] == "file"
    assert "WEAKER" in store["key_note"]
