"""Chat threads in the encrypted store: each thread's tracker state and its latest evidence.

The conversation tracker (`abhaya.models.conversation`) is pure; its state per thread lives
here, one row per (profile, site, thread), so evidence gathered over days survives a restart of
the agent.  A row stays small whatever the thread's length: the tracker's state is bounded by
construction, and only the last `KEPT_MESSAGES` flagged messages are kept (each cut to
`KEPT_CHARS`), for an alert to show a parent what raised it.  Threads untouched for the event
retention period are deleted with the events (`prune_threads`), and at most `MAX_THREADS` rows
are kept per store, the least recently updated going first.
"""

from __future__ import annotations

import json
import logging
import sqlite3
from collections.abc import Iterable
from dataclasses import dataclass, fields
from datetime import datetime

from abhaya.agent.store.events import from_us, to_us
from abhaya.models.conversation import ThreadState

__all__ = [
    "KEPT_MESSAGES",
    "KeptMessage",
    "kept_from_json",
    "kept_json",
    "ThreadKey",
    "ThreadRecord",
    "load_thread",
    "prune_threads",
    "save_thread",
]

log = logging.getLogger(__name__)

KEPT_MESSAGES = 8
KEPT_CHARS = 500
"""A flagged message kept as evidence is cut here: enough to read it, not a transcript."""
MAX_KEY_CHARS = 200
"""Site and thread ids are cut here; they come from the chat traffic, so from anyone."""
MAX_THREADS = 20_000


@dataclass(frozen=True, slots=True)
class ThreadKey:
    profile: str
    site: str
    thread: str

    def __post_init__(self) -> None:
        object.__setattr__(self, "site", self.site[:MAX_KEY_CHARS])
        object.__setattr__(self, "thread", self.thread[:MAX_KEY_CHARS])


@dataclass(frozen=True, slots=True)
class KeptMessage:
    """A flagged message, kept so a parent can read what raised an alert."""

    time: datetime
    sender: str
    text: str
    labels: tuple[str, ...]

    def __post_init__(self) -> None:
        object.__setattr__(self, "text", self.text[:KEPT_CHARS])


@dataclass(frozen=True, slots=True)
class ThreadRecord:
    state: ThreadState = ThreadState()
    kept: tuple[KeptMessage, ...] = ()

    def keeping(self, message: KeptMessage) -> ThreadRecord:
        """This record with `message` kept, dropping the oldest beyond `KEPT_MESSAGES`."""
        return ThreadRecord(self.state, (*self.kept, message)[-KEPT_MESSAGES:])


def load_thread(conn: sqlite3.Connection, key: ThreadKey) -> ThreadRecord:
    """The thread's record; a fresh one for a thread not seen before (or one whose row cannot
    be read, which is logged: losing one thread's history must not stop the others)."""
    row = conn.execute(
        "SELECT state FROM chat_threads WHERE profile = ? AND site = ? AND thread = ?",
        (key.profile, key.site, key.thread),
    ).fetchone()
    if row is None:
        return ThreadRecord()
    try:
        return _record_from_json(json.loads(row[0]))
    except (ValueError, KeyError, TypeError) as error:
        log.error(
            "chat thread %s/%s cannot be read (%s); starting it afresh", key.site, key.thread, error
        )
        return ThreadRecord()


def save_thread(
    conn: sqlite3.Connection, key: ThreadKey, record: ThreadRecord, now: datetime
) -> None:
    """Write the thread's record inside the caller's transaction."""
    conn.execute(
        "INSERT INTO chat_threads (profile, site, thread, state, updated_us) "
        "VALUES (?, ?, ?, ?, ?) "
        "ON CONFLICT (profile, site, thread) DO UPDATE SET state = excluded.state, "
        "updated_us = excluded.updated_us",
        (key.profile, key.site, key.thread, json.dumps(_record_json(record)), to_us(now)),
    )


def prune_threads(
    conn: sqlite3.Connection, before: datetime, max_threads: int = MAX_THREADS
) -> int:
    """Delete threads untouched since `before`, then the least recently updated beyond
    `max_threads`; inside the caller's transaction.  Returns how many went."""
    gone = conn.execute("DELETE FROM chat_threads WHERE updated_us < ?", (to_us(before),)).rowcount
    gone += conn.execute(
        "DELETE FROM chat_threads WHERE (profile, site, thread) IN (SELECT profile, site, "
        "thread FROM chat_threads ORDER BY updated_us DESC LIMIT -1 OFFSET ?)",
        (max_threads,),
    ).rowcount
    return gone


# -- JSON ----------------------------------------------------------------------------------------

_STATE_FIELDS = frozenset(f.name for f in fields(ThreadState))


def _state_json(state: ThreadState) -> dict[str, object]:
    encoded: dict[str, object] = {
        "scores": dict(state.scores),
        "seen": sorted(state.seen),
        "stages": sorted(state.stages),
        "triggers": list(state.triggers),
        "alerted": sorted(state.alerted),
        "count": state.count,
        "updated": None if state.updated is None else to_us(state.updated),
    }
    if encoded.keys() != _STATE_FIELDS:  # a field added to the tracker must be stored too
        raise TypeError(f"ThreadState fields {sorted(_STATE_FIELDS)} are not all stored")
    return encoded


def _state_from_json(data: dict[str, object]) -> ThreadState:
    scores = data["scores"]
    updated = data["updated"]
    if not isinstance(scores, dict):
        raise TypeError("scores is not an object")
    return ThreadState(
        scores={str(risk): float(value) for risk, value in scores.items()},
        seen=frozenset(map(str, _list(data["seen"]))),
        stages=frozenset(map(str, _list(data["stages"]))),
        triggers=tuple(int(str(index)) for index in _list(data["triggers"])),
        alerted=frozenset(map(str, _list(data["alerted"]))),
        count=int(str(data["count"])),
        updated=None if updated is None else from_us(int(str(updated))),
    )


def kept_json(kept: Iterable[KeptMessage]) -> list[dict[str, object]]:
    """Kept messages as JSON: in a thread's row, and in a chat alert's detail."""
    return [
        {
            "time": to_us(item.time),
            "sender": item.sender,
            "text": item.text,
            "labels": list(item.labels),
        }
        for item in kept
    ]


def kept_from_json(data: object) -> tuple[KeptMessage, ...]:
    """The inverse of `kept_json`; ValueError, KeyError or TypeError for anything else."""
    kept = []
    for item in _list(data):
        if not isinstance(item, dict):
            raise TypeError("a kept message is not an object")
        kept.append(
            KeptMessage(
                time=from_us(int(str(item["time"]))),
                sender=str(item["sender"]),
                text=str(item["text"]),
                labels=tuple(map(str, _list(item["labels"]))),
            )
        )
    return tuple(kept)


def _record_json(record: ThreadRecord) -> dict[str, object]:
    return {"state": _state_json(record.state), "kept": kept_json(record.kept)}


def _record_from_json(data: object) -> ThreadRecord:
    if not isinstance(data, dict):
        raise TypeError("a thread record is not an object")
    state = data["state"]
    if not isinstance(state, dict):
        raise TypeError("a thread state is not an object")
    return ThreadRecord(_state_from_json(state), kept_from_json(data["kept"])[-KEPT_MESSAGES:])


def _list(value: object) -> list[object]:
    if not isinstance(value, list):
        raise TypeError(f"expected a list, got {type(value).__name__}")
    return value
