"""The chat watch on real parts: the shipped message model, a real SQLCipher store.

Which labels a message gets is set by configuration (a threshold of 0 flags a label whatever
the score, one above 1 never does), so the tests need no risky text and do not depend on the
model's exact scores; one test checks that the default thresholds read a plain message.
"""

from __future__ import annotations

import contextlib
import json
import threading
import time
from collections.abc import Iterator, Mapping, Sequence
from datetime import timedelta
from pathlib import Path

import pytest

from abhaya.agent import chatwatch
from abhaya.agent.chatalerts import CHAT_ALERT, chat_evidence
from abhaya.agent.chatwatch import UNCHECKED_ALERT, ChatWatch
from abhaya.agent.store import Store, open_store
from abhaya.agent.store.alerts import StoredAlert, list_alerts
from abhaya.filters.chatwire.message import SeenMessage, Sender
from abhaya.filters.policy.compile import ChatWatching
from abhaya.models.chatmodel import CHAT_LABELS, ChatClassifier, MessageScores, load_chat_model
from tests.agent.api.conftest import Clock
from tests.conftest import TEST_MODEL_DIR

NOTHING = dict.fromkeys(CHAT_LABELS, 1.01)
EVERYTHING = dict.fromkeys(CHAT_LABELS, 0.0)


def only(*labels: str) -> dict[str, float]:
    """Thresholds under which exactly `labels` are flagged, whatever the message."""
    return {**NOTHING, **dict.fromkeys(labels, 0.0)}


@pytest.fixture(scope="module")
def model() -> ChatClassifier:
    return load_chat_model(TEST_MODEL_DIR)


@pytest.fixture
def store(tmp_path: Path) -> Store:
    return open_store(tmp_path / "data")


class Rules:
    """The profile's chat rules, changed by a test between messages (as a policy reload)."""

    def __init__(
        self, thresholds: Mapping[str, float], grooming_alert: float | None = None
    ) -> None:
        self.thresholds = dict(thresholds)
        self.grooming_alert = grooming_alert
        self.enabled = True
        self.keep_text = True

    def __call__(self, profile: str) -> ChatWatching:
        return ChatWatching(self.enabled, self.thresholds, self.grooming_alert, self.keep_text)


@contextlib.contextmanager
def watching(
    store: Store, classifier: object, rules: Rules, **options: object
) -> Iterator[ChatWatch]:
    watch = ChatWatch(classifier, store.connect, rules, **options)  # type: ignore[arg-type]
    watch.start()
    try:
        yield watch
    finally:
        assert watch.close()


def said(text: str, sender: Sender = "contact", thread: str = "channel-1") -> SeenMessage:
    return SeenMessage(site="discord", thread=thread, sender=sender, text=text)


def alerts_in(store: Store) -> list[StoredAlert]:
    with contextlib.closing(store.connect(read_only=True)) as conn:
        return list_alerts(conn)


def chat_alerts_all(store: Store) -> list[StoredAlert]:
    return [item for item in alerts_in(store) if item.alert.kind == CHAT_ALERT]


def chat_alerts(store: Store) -> dict[str, StoredAlert]:
    """The chat alerts by risk (each risk alerts once per thread)."""
    return {json.loads(item.alert.detail)["risk"]: item for item in chat_alerts_all(store)}


def test_a_contact_crossing_every_risk_raises_each_alert_once(
    model: ChatClassifier, store: Store
) -> None:
    with watching(store, model, Rules(EVERYTHING)) as watch:
        watch.offer("child", said("hello there"))
        watch.offer("child", said("hello again"))
        assert watch.flush()
        health = watch.health()
    assert (health.checked, health.alerts, health.dropped, health.failed) == (2, 4, 0, 0)
    found = chat_alerts(store)
    assert set(found) == {"grooming", "sextortion", "bullying", "self_harm"}
    grooming = found["grooming"]
    assert grooming.alert.profile == "child"
    assert str(grooming.alert.severity) == "critical"
    assert str(found["bullying"].alert.severity) == "warning"
    evidence = chat_evidence(grooming)
    assert evidence is not None
    assert (evidence["site"], evidence["thread"], evidence["risk"]) == (
        "discord",
        "channel-1",
        "grooming",
    )
    assert [message["text"] for message in evidence["messages"]] == ["hello there"]
    assert evidence["messages"][0]["sender"] == "contact"
    assert "meeting" in evidence["labels"] and "image_request" in evidence["labels"]
    assert "asking to meet" in grooming.alert.message
    assert "hello" not in grooming.alert.message  # the summary quotes no one


def test_what_the_model_does_not_flag_leaves_no_trace(model: ChatClassifier, store: Store) -> None:
    with watching(store, model, Rules(NOTHING)) as watch:
        for number in range(5):
            watch.offer("child", said(f"message {number}"))
        assert watch.flush()
        assert watch.health().checked == 5
    assert alerts_in(store) == []
    with contextlib.closing(store.connect(read_only=True)) as conn:
        assert conn.execute("SELECT count(*) FROM chat_threads").fetchone()[0] == 0


def test_the_childs_own_words_are_never_grooming_evidence(
    model: ChatClassifier, store: Store
) -> None:
    with watching(store, model, Rules(EVERYTHING)) as watch:
        watch.offer("child", said("hello there", sender="child"))
        assert watch.flush()
    assert set(chat_alerts(store)) == {"self_harm"}  # urgent whoever says it


def test_a_sender_the_format_cannot_tell_counts_as_the_contact(
    model: ChatClassifier, store: Store
) -> None:
    with watching(store, model, Rules(only("meeting", "secrecy"))) as watch:
        watch.offer("child", said("see you", sender="unknown"))
        assert watch.flush()
    (grooming,) = chat_alerts(store).values()
    evidence = chat_evidence(grooming)
    assert evidence is not None and evidence["messages"][0]["sender"] == "unknown"


def test_evidence_builds_across_a_restart_of_the_agent(model: ChatClassifier, store: Store) -> None:
    rules = Rules(only("secrecy"))  # 1.5 of the 3 grooming needs
    with watching(store, model, rules) as watch:
        watch.offer("child", said("first"))
        watch.offer("child", said("elsewhere", thread="channel-2"))
        assert watch.flush()
    assert alerts_in(store) == []
    rules.thresholds = only("meeting")  # 2.5 more, in the same thread only
    with watching(store, model, rules) as watch:
        watch.offer("child", said("second"))
        assert watch.flush()
    (grooming,) = chat_alerts(store).values()
    evidence = chat_evidence(grooming)
    assert evidence is not None
    assert evidence["thread"] == "channel-1"
    assert [(m["text"], m["labels"]) for m in evidence["messages"]] == [
        ("first", ["secrecy"]),
        ("second", ["meeting"]),
    ]


def test_evidence_fades_when_a_thread_goes_quiet(model: ChatClassifier, store: Store) -> None:
    clock = Clock()
    rules = Rules(only("secrecy"))
    with watching(store, model, rules, clock=clock) as watch:
        watch.offer("child", said("first"))
        assert watch.flush()
        clock.advance(days=30)  # ten half-lives: 1.5 fades to almost nothing
        rules.thresholds = only("meeting")
        watch.offer("child", said("second"))
        assert watch.flush()
    assert alerts_in(store) == []


def test_the_default_thresholds_read_a_plain_request(model: ChatClassifier, store: Store) -> None:
    with watching(store, model, Rules({})) as watch:
        watch.offer("child", said("what a nice goal in the match today"))
        watch.offer("child", said("send me a photo of yourself and dont tell your parents"))
        assert watch.flush()
    with contextlib.closing(store.connect(read_only=True)) as conn:
        (state,) = conn.execute("SELECT state FROM chat_threads").fetchone()
    kept = json.loads(state)["kept"]
    assert [item["text"] for item in kept] == [
        "send me a photo of yourself and dont tell your parents"
    ]
    assert set(kept[0]["labels"]) & {"image_request", "secrecy"}


def test_a_full_queue_is_counted_and_told_to_the_parent(
    model: ChatClassifier, store: Store
) -> None:
    watch = ChatWatch(model, store.connect, Rules(NOTHING), queue_size=1)
    for number in range(3):  # not started yet: the first waits, two find the queue full
        watch.offer("child", said(f"message {number}"))
    watch.start()
    try:
        assert watch.flush()
        health = watch.health()
    finally:
        assert watch.close()
    assert (health.checked, health.dropped) == (1, 2)
    (notice,) = alerts_in(store)
    assert notice.alert.kind == UNCHECKED_ALERT
    assert notice.alert.message.startswith("2 chat messages could not be checked")


class FailsOn:
    """The real model, except that it fails on one text: a fault no benign input causes."""

    def __init__(self, model: ChatClassifier, text: str) -> None:
        self._model = model
        self._text = text
        self.version = model.version

    def classify(
        self, texts: Sequence[str], thresholds: Mapping[str, float] | None = None
    ) -> list[MessageScores]:
        if self._text in texts:
            raise RuntimeError("the model failed")
        return self._model.classify(texts, thresholds)


def test_a_message_the_model_fails_on_is_counted_and_the_watch_goes_on(
    model: ChatClassifier, store: Store
) -> None:
    clock = Clock()
    options = {"clock": clock, "notice_every": timedelta(hours=1)}
    with watching(store, FailsOn(model, "bad"), Rules(only("self_harm")), **options) as watch:
        watch.offer("child", said("bad"))
        watch.offer("child", said("after"))
        assert watch.flush()
        watch.offer("child", said("bad"))  # a second failure within the hour: counted, not told
        assert watch.flush()
        health = watch.health()
        assert (health.alive, health.checked, health.failed) == (True, 1, 2)
        assert health.last_error == "RuntimeError: the model failed"
        clock.advance(hours=2)
        watch.offer("child", said("later"))
        assert watch.flush()
    kinds = sorted(item.alert.kind for item in alerts_in(store))
    assert kinds == [CHAT_ALERT, UNCHECKED_ALERT, UNCHECKED_ALERT]
    messages = sorted(i.alert.message for i in alerts_in(store) if i.alert.kind == UNCHECKED_ALERT)
    assert [message.split(" ")[0] for message in messages] == ["1", "1"]


def test_a_store_that_cannot_be_opened_fails_messages_not_the_watch(
    model: ChatClassifier, store: Store
) -> None:
    attempts = []

    def connect() -> object:
        attempts.append(1)
        if len(attempts) == 1:
            raise OSError("disk gone")
        return store.connect()

    watch = ChatWatch(model, connect, Rules(EVERYTHING))  # type: ignore[arg-type]
    watch.start()
    try:
        watch.offer("child", said("first"))
        watch.offer("child", said("second"))
        assert watch.flush()
        health = watch.health()
    finally:
        assert watch.close()
    assert (health.failed, health.checked, health.alive) == (1, 1, True)
    assert set(chat_alerts(store)) == {"grooming", "sextortion", "bullying", "self_harm"}


def test_a_profiles_grooming_level_sets_when_a_thread_alerts(
    model: ChatClassifier, store: Store
) -> None:
    rules = Rules({}, grooming_alert=5.0)

    def say(text: str, thread: str, *labels: str) -> None:
        rules.thresholds = only(*labels)  # read when the message is checked: wait for it
        watch.offer("child", said(text, thread=thread))
        assert watch.flush()

    with watching(store, model, rules) as watch:
        say("first", "channel-1", "secrecy", "gifts")  # 2.5
        say("second", "channel-1", "meeting")  # 5.0: at the profile's level
        assert len(alerts_in(store)) == 1
        rules.grooming_alert = 7.0
        say("first", "channel-2", "secrecy", "gifts")
        say("second", "channel-2", "meeting")  # 5.0: under this profile's 7
    threads = [chat_evidence(item) for item in chat_alerts_all(store)]
    assert [evidence["thread"] for evidence in threads if evidence] == ["channel-1"]


def test_a_profile_whose_chats_are_off_is_not_checked(model: ChatClassifier, store: Store) -> None:
    rules = Rules(EVERYTHING)
    rules.enabled = False
    with watching(store, model, rules) as watch:
        watch.offer("child", said("hello"))
        assert watch.flush()
        assert watch.health().checked == 0
    assert alerts_in(store) == []


def test_a_servers_echo_of_the_childs_own_message_is_not_the_contacts(
    model: ChatClassifier, store: Store
) -> None:
    with watching(store, model, Rules(only("meeting", "secrecy"))) as watch:
        watch.offer("child", said("can we meet at the library", sender="child"))
        watch.offer("child", said("can we meet at the library", sender="unknown"))  # the echo
        assert watch.flush()
        assert alerts_in(store) == []  # the child's own words, twice: no grooming evidence
        watch.offer("child", said("can we meet at the library", sender="unknown"))  # not echo
        assert watch.flush()
    assert set(chat_alerts(store)) == {"grooming"}


def test_without_keep_text_an_alert_keeps_labels_not_words(
    model: ChatClassifier, store: Store
) -> None:
    rules = Rules(only("meeting", "secrecy"))
    rules.keep_text = False
    with watching(store, model, rules) as watch:
        watch.offer("child", said("see you at the gate, tell no one"))
        assert watch.flush()
    (grooming,) = chat_alerts(store).values()
    evidence = chat_evidence(grooming)
    assert evidence is not None
    assert [(m["sender"], m["text"], m["labels"]) for m in evidence["messages"]] == [
        ("contact", "", ["secrecy", "meeting"])
    ]
    with contextlib.closing(store.connect(read_only=True)) as conn:
        stored = " ".join(row[0] for row in conn.execute("SELECT state FROM chat_threads"))
    assert "gate" not in stored and "gate" not in grooming.alert.detail


def test_freed_memory_is_given_back_once_the_chats_go_quiet(
    model: ChatClassifier, store: Store, monkeypatch: pytest.MonkeyPatch
) -> None:
    # The trim itself is tested on real memory in tests/agent/test_heap.py; this is when.
    trims: list[str] = []
    real = chatwatch.give_back
    monkeypatch.setattr(
        chatwatch, "give_back", lambda: (trims.append(threading.current_thread().name), real())
    )
    with watching(store, model, Rules(NOTHING)) as watch:
        time.sleep(1.2)
        assert trims == []  # nothing was checked: nothing to give back
        for number in range(3):
            watch.offer("child", said(f"message {number}"))
        assert watch.flush()
        deadline = time.monotonic() + 5
        while not trims and time.monotonic() < deadline:
            time.sleep(0.05)
        time.sleep(1.2)  # another quiet second: no second trim
    assert trims == ["abhaya-chat-watch"]
