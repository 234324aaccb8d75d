"""Status, request and alert records as the API sends them, for the tray's logic tests."""

from __future__ import annotations

from typing import Any

from abhaya.client import contract

NOW = "2026-12-01T10:00:00+00:00"


def status(**changes: Any) -> contract.Status:
    """A healthy agent's status (protection on, keyring mode); `changes` replace top-level
    fields, and `store={...}` merges into the store's summary."""
    store: contract.StoreSummary = {
        "path": "/var/lib/abhaya/events.db",
        "key_mode": "keyring",
        "key_note": "encrypted, key in the OS keyring",
        "replaced_at_start": None,
        "dropped_events": 0,
        "failed_events": 0,
        "writer_running": True,
        "writer_restarts": 0,
        "writer_last_error": None,
        "security_problem": None,
    }
    store.update(changes.pop("store", {}))
    record: contract.Status = {
        "api_version": 1,
        "protection": "on",
        "paused_until": None,
        "policy": {
            "source": "policy.toml",
            "profile": "default",
            "timezone": "Asia/Kolkata",
            "jurisdiction": "in",
        },
        "store": store,
        "today": {"total": 0, "by_kind": {}, "by_action": {}},
        "last_tamper": None,
        "last_alert": None,
        "unacknowledged_alerts": 0,
        "models": {"search": None, "chat": None, "image": None},
        "chat": None,
        "images": None,
    }
    record.update(changes)  # type: ignore[typeddict-item]
    return record


def tamper(time: str) -> contract.EventRecord:
    return {
        "id": 7,
        "time": time,
        "kind": "tamper",
        "profile": "",
        "category": "",
        "action": "log",
        "domain": "",
        "url": "",
        "rule": "",
        "app": "",
        "detail": "proxy settings changed",
        "reason": "",
        "os_user": "",
        "process": "",
    }


def request(
    ident: int, profile: str = "asha", domain: str = "games.example"
) -> contract.AccessRequestRecord:
    return {
        "id": ident,
        "time": NOW,
        "profile": profile,
        "domain": domain,
        "url": f"https://{domain}/",
        "reason": "for homework",
        "status": "pending",
        "answer_by": None,
        "decided_at": None,
        "expires_at": None,
        "scope": None,
        "covers": None,
    }


def alert(
    ident: int, profile: str = "asha", message: str = "quoted chat text"
) -> contract.AlertRecord:
    return {
        "id": ident,
        "time": NOW,
        "kind": "chat",
        "severity": "critical",
        "message": message,
        "acknowledged": False,
        "profile": profile,
        "chat": None,
        "event": None,
    }
