"""A known-image match raises a critical alert stored with its event; nothing else does."""

from __future__ import annotations

import contextlib
import dataclasses
import datetime as dt
from pathlib import Path

import pytest

from abhaya.agent.imagealerts import IMAGE_MATCH_ALERT, alert_event, image_alert
from abhaya.agent.store import Event, EventKind, EventWriter, open_store
from abhaya.agent.store.alerts import Alert, AlertSeverity, StoredAlert, list_alerts
from abhaya.agent.store.queries import EventFilter, events_page

NOW = dt.datetime(2026, 12, 1, 9, 0, tzinfo=dt.UTC)


def _image(reason: str, domain: str = "pics.example") -> Event:
    return Event(
        time=NOW,
        kind=EventKind.IMAGE,
        profile="child",
        category="csam" if reason == "hash_match" else "adult",
        action="block" if reason == "hash_match" else "blur",
        domain=domain,
        rule="known-images" if reason == "hash_match" else "open_nsfw",
        reason=reason,
        detail='{"sha256": "ab"}',
    )


def test_only_a_known_image_match_raises_an_alert() -> None:
    alert = image_alert(41, _image("hash_match"))
    assert alert is not None
    assert (alert.kind, alert.severity, alert.profile) == (
        IMAGE_MATCH_ALERT,
        AlertSeverity.CRITICAL,
        "child",
    )
    assert "abhaya report 41" in alert.message and "pics.example" in alert.message
    assert "known-images" in alert.message
    assert alert.detail == '{"event":41,"image":{"sha256":"ab"}}'
    assert image_alert(42, _image("model")) is None
    assert image_alert(43, Event(time=NOW, kind=EventKind.VERDICT, reason="hash_match")) is None


def test_the_alert_names_the_stored_event(tmp_path: Path) -> None:
    store = open_store(tmp_path)
    writer = EventWriter(store.connect, retention=None, alert_for=image_alert)
    writer.start()
    try:
        for event in (_image("model"), _image("hash_match", "bad.example"), _image("model")):
            assert writer.submit(event)
        assert writer.flush(20)
    finally:
        writer.close()
    with contextlib.closing(store.connect(read_only=True)) as conn:
        [alert] = list_alerts(conn)
        stored = events_page(conn, EventFilter(text="bad.example"), limit=5).events
    [matched] = stored
    assert f"abhaya report {matched.id}" in alert.alert.message
    assert alert_event(alert) == matched.id


@pytest.mark.parametrize(
    ("kind", "detail"),
    [
        ("image_match", '{"sha256": "ab"}'),  # written before the alert named its event
        ("image_match", ""),
        ("image_match", "not json"),
        ("image_match", "[41]"),
        ("image_match", '{"event": "41"}'),
        ("image_match", '{"event": true}'),
        ("chat", '{"event": 41}'),  # only a known-image alert names an image event
    ],
)
def test_an_alert_that_names_no_image_event_has_none(kind: str, detail: str) -> None:
    alert = Alert(NOW, kind, AlertSeverity.CRITICAL, "m", detail=detail)
    assert alert_event(StoredAlert(1, alert)) is None


def test_an_event_detail_that_is_not_json_still_raises_the_alert() -> None:
    event = dataclasses.replace(_image("hash_match"), detail="{cut")
    alert = image_alert(7, event)
    assert alert is not None and alert.detail == '{"event":7,"image":null}'
    assert alert_event(StoredAlert(1, alert)) == 7


def test_a_failing_alert_rule_never_costs_the_event(tmp_path: Path) -> None:
    def broken(ident: int, event: Event) -> None:
        raise ValueError("a bug in the rule")

    store = open_store(tmp_path)
    writer = EventWriter(store.connect, retention=None, alert_for=broken)
    writer.start()
    try:
        assert writer.submit(_image("hash_match", "kept.example"))
        assert writer.flush(20)
    finally:
        writer.close()
    with contextlib.closing(store.connect(read_only=True)) as conn:
        assert len(events_page(conn, EventFilter(text="kept.example"), limit=5).events) == 1
        assert list_alerts(conn) == []
