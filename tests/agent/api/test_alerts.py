"""Alerts over the real API: a child's request raises one, a parent lists and acknowledges it."""

from __future__ import annotations

import httpx
import pytest

from abhaya.client import contract
from tests.agent.api.conftest import ApiAgent


def ask(agent: ApiAgent, host: str, reason: str) -> None:
    """The child's side: the form on the real warning page, posted through the real proxy."""
    answer = agent.ask(host, "/table", reason=reason, page="/t")
    assert answer.status_code == 200, answer.text


def test_a_child_asking_raises_an_alert_that_a_parent_acknowledges(with_pin: ApiAgent) -> None:
    agent = with_pin
    ask(agent, "bet.example", "homework on probability")
    with agent.client() as api:
        api.headers.update(agent.login(api))
        (alert,) = api.get(contract.ALERTS).json()["alerts"]
        assert set(alert) == set(contract.AlertRecord.__required_keys__)
        assert (alert["kind"], alert["severity"], alert["acknowledged"]) == (
            "access_request",
            "info",
            False,
        )
        assert "bet.example" in alert["message"] and "homework" in alert["message"]
        unseen = api.get(contract.ALERTS, params={"unacknowledged": "true"}).json()["alerts"]
        assert [item["id"] for item in unseen] == [alert["id"]]
        assert api.get(contract.STATUS).json()["unacknowledged_alerts"] == 1

        answer = api.post(f"{contract.ALERTS}/{alert['id']}/acknowledge")
        assert answer.status_code == 200, answer.text
        assert answer.json() == {**alert, "acknowledged": True}
        again = api.post(f"{contract.ALERTS}/{alert['id']}/acknowledge")
        assert again.status_code == 200  # acknowledging twice is harmless
        assert api.get(contract.ALERTS, params={"unacknowledged": "true"}).json() == {"alerts": []}
        assert api.get(contract.ALERTS).json()["alerts"][0]["acknowledged"] is True
        assert api.get(contract.STATUS).json()["unacknowledged_alerts"] == 0


@pytest.mark.parametrize(
    ("method", "path", "params", "status"),
    [
        ("GET", contract.ALERTS, {"unacknowledged": "yes"}, 422),
        ("GET", contract.ALERTS, {"what": "1"}, 422),
        ("POST", f"{contract.ALERTS}/999/acknowledge", {}, 404),
        ("POST", f"{contract.ALERTS}/1/forget", {}, 404),
        ("POST", f"{contract.ALERTS}/x/acknowledge", {}, 404),
        ("GET", f"{contract.ALERTS}/1/acknowledge", {}, 405),
    ],
)
def test_bad_alert_calls_are_refused(
    shared: ApiAgent, method: str, path: str, params: dict[str, str], status: int
) -> None:
    with shared.client() as api:
        answer = api.request(method, path, params=params, headers=shared.login(api))
    assert answer.status_code == status, answer.text


@pytest.mark.parametrize(
    ("method", "path"),
    [("GET", contract.ALERTS), ("POST", f"{contract.ALERTS}/1/acknowledge")],
)
def test_alert_calls_need_a_token(shared: ApiAgent, method: str, path: str) -> None:
    with shared.client() as api:
        answer: httpx.Response = api.request(method, path)
    assert answer.status_code == 401


def test_a_known_image_alert_names_its_event_for_the_evidence_package(with_pin: ApiAgent) -> None:
    from abhaya.agent.imageevidence import ImageEvidence
    from abhaya.agent.store import Event, EventKind

    evidence = ImageEvidence(sha256="ab" * 32, pdq="cd" * 32, list_name="test-known")
    events = with_pin.running.agent.services.events
    assert events.submit(
        Event(
            time=with_pin.clock(),
            kind=EventKind.IMAGE,
            profile="child",
            category="csam",
            action="block",
            reason="hash_match",
            domain="pics.example",
            rule="test-known",
            detail=evidence.to_json(),
        )
    )
    assert events.flush(20)
    with with_pin.client() as api:
        api.headers.update(with_pin.login(api))
        (alert,) = api.get(contract.ALERTS).json()["alerts"]
        assert alert["kind"] == "image_match" and isinstance(alert["event"], int)
        event = api.get(f"{contract.EVENTS}/{alert['event']}").json()
        assert (event["kind"], event["reason"]) == ("image", "hash_match")
        assert ImageEvidence.from_json(event["detail"]) == evidence
