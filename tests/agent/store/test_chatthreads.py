"""Chat threads in a real SQLCipher store: state and evidence survive, rows stay bounded."""

from __future__ import annotations

import contextlib
from datetime import timedelta

from abhaya.agent.store import Store, driver
from abhaya.agent.store.chatthreads import (
    KEPT_CHARS,
    KEPT_MESSAGES,
    KeptMessage,
    ThreadKey,
    ThreadRecord,
    load_thread,
    prune_threads,
    save_thread,
)
from abhaya.models.conversation import ConversationTracker
from tests.agent.store.conftest import T0

KEY = ThreadKey("child", "discord", "channel-1")


def grown_record() -> ThreadRecord:
    """A record after three messages: two labelled from the contact, one from the child."""
    tracker = ConversationTracker()
    state, _ = tracker.update(ThreadRecord().state, ["secrecy"], "contact", T0)
    state, _ = tracker.update(state, [], "child", T0 + timedelta(minutes=1))
    state, alerts = tracker.update(state, ["meeting"], "contact", T0 + timedelta(minutes=2))
    assert [alert.risk for alert in alerts] == ["grooming"]
    record = ThreadRecord(state)
    record = record.keeping(KeptMessage(T0, "contact", "keep this between us", ("secrecy",)))
    return record.keeping(KeptMessage(T0, "contact", "meet me at the gate", ("meeting",)))


def test_a_thread_comes_back_as_it_was_saved(store: Store) -> None:
    record = grown_record()
    with contextlib.closing(store.connect()) as conn, driver.transaction(conn):
        save_thread(conn, KEY, record, T0)
    with contextlib.closing(store.connect()) as conn:  # a new connection, as after a restart
        again = load_thread(conn, KEY)
    assert again == record
    assert again.state.alerted == frozenset({"grooming"}) and again.state.count == 3


def test_a_thread_not_seen_before_starts_empty(store: Store) -> None:
    with contextlib.closing(store.connect()) as conn:
        assert load_thread(conn, KEY) == ThreadRecord()


def test_saving_again_replaces_the_row(store: Store) -> None:
    with contextlib.closing(store.connect()) as conn:
        with driver.transaction(conn):
            save_thread(conn, KEY, ThreadRecord(), T0)
            save_thread(conn, KEY, grown_record(), T0)
        assert conn.execute("SELECT count(*) FROM chat_threads").fetchone()[0] == 1
        assert load_thread(conn, KEY) == grown_record()


def test_evidence_is_bounded_in_count_and_length() -> None:
    record = ThreadRecord()
    for number in range(KEPT_MESSAGES + 5):
        record = record.keeping(KeptMessage(T0, "contact", f"{number} " + "x" * 2000, ("gifts",)))
    assert len(record.kept) == KEPT_MESSAGES
    assert record.kept[0].text.startswith(f"{5} ")  # the oldest went first
    assert {len(kept.text) for kept in record.kept} == {KEPT_CHARS}


def test_hostile_thread_ids_are_cut() -> None:
    key = ThreadKey("child", "s" * 10_000, "t" * 10_000)
    assert len(key.site) == 200 and len(key.thread) == 200


def test_an_unreadable_row_starts_the_thread_afresh_without_failing(store: Store) -> None:
    with contextlib.closing(store.connect()) as conn:
        with driver.transaction(conn):
            conn.execute(
                "INSERT INTO chat_threads VALUES (?, ?, ?, ?, ?)",
                (KEY.profile, KEY.site, KEY.thread, '{"state": 7}', 0),
            )
        assert load_thread(conn, KEY) == ThreadRecord()


def test_quiet_threads_and_those_beyond_the_cap_are_pruned(store: Store) -> None:
    with contextlib.closing(store.connect()) as conn:
        with driver.transaction(conn):
            for day in range(5):
                key = ThreadKey("child", "discord", f"channel-{day}")
                save_thread(conn, key, ThreadRecord(), T0 + timedelta(days=day))
            gone = prune_threads(conn, before=T0 + timedelta(days=1), max_threads=2)
        assert gone == 3  # channel-0 was quiet too long; channel-1 is beyond the newest two
        left = [row[0] for row in conn.execute("SELECT thread FROM chat_threads ORDER BY 1")]
    assert left == ["channel-3", "channel-4"]
