"""The chat watch: reads each chat message the proxy saw, off the event loop, and raises alerts.

The proxy's chat reader (`addons.chatread`) hands over every message it finds with `offer`,
which never blocks: the message goes on a bounded queue and one worker thread does the rest:
the message model scores it (a few milliseconds), the conversation tracker adds its labels to
the thread's evidence, the thread's state and its flagged messages are stored (encrypted, so a
restart loses nothing), and a risk the thread crossed becomes an alert for the parent, with the
messages that raised it.

Chat reading never holds, changes or drops the chat itself: it decides no block, so what the
watch cannot do costs no traffic.  What it cannot do is still never silent.  A message that
could not be checked (the queue was full, the model or the store failed on it) is counted, shown
in `abhaya status`, and reported to the parent as a warning alert, at most once per
`notice_every`, saying how many messages went unread: a gap in the watch is itself news.

One worker is enough: a message takes a few milliseconds, chats bring a few a second, and a
second thread would only compete with the proxy for the same cores.  After a second without
messages the worker gives freed memory back to the system (`memtrim`): a long hostile text's
activations and buffers would otherwise stay in the agent's RSS (bench/chathostile).
"""

from __future__ import annotations

import datetime as dt
import logging
import queue
import sqlite3
import threading
from collections import OrderedDict, deque
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Protocol

from abhaya.agent.chatalerts import chat_alert
from abhaya.agent.clock import utc_now
from abhaya.agent.memtrim import give_back
from abhaya.agent.store import driver
from abhaya.agent.store.alerts import Alert, AlertSeverity, insert_alert
from abhaya.agent.store.chatthreads import (
    KeptMessage,
    ThreadKey,
    ThreadRecord,
    load_thread,
    prune_threads,
    save_thread,
)
from abhaya.filters.chatwire.message import SeenMessage
from abhaya.filters.policy.compile import ChatWatching, CompiledPolicy
from abhaya.models.chatmodel import MessageScores
from abhaya.models.conversation import ConversationTracker, Sender

__all__ = ["ChatHealth", "ChatWatch", "MessageClassifier", "watching_of"]

log = logging.getLogger(__name__)

UNCHECKED_ALERT = "chat_unchecked"
DEFAULT_QUEUE = 2000
"""About ten minutes of a busy group chat; past that the model is not keeping up anyway."""


class MessageClassifier(Protocol):
    """What the watch needs of the message model (`abhaya.models.chatmodel.ChatClassifier`)."""

    @property
    def version(self) -> str: ...

    def classify(
        self, texts: Sequence[str], thresholds: Mapping[str, float] | None = None
    ) -> list[MessageScores]: ...


@dataclass(frozen=True, slots=True)
class ChatHealth:
    """The watch's state for `abhaya status`."""

    alive: bool
    checked: int
    """Messages scored and added to their thread."""
    alerts: int
    """Chat alerts raised since start."""
    dropped: int
    """Messages not checked because the queue was full."""
    failed: int
    """Messages not checked because the model or the store failed on them."""
    last_error: str | None


@dataclass(frozen=True, slots=True)
class _Seen:
    profile: str
    message: SeenMessage
    at: dt.datetime


@dataclass(frozen=True, slots=True, eq=False)
class _Flush:
    done: threading.Event = field(default_factory=threading.Event)


@dataclass(frozen=True, slots=True, eq=False)
class _Stop:
    pass


class ChatWatch:
    """Implements the proxy's `ChatInbox`; see the module docstring.

    `connect()` opens a store connection (autocommit, as `Store.connect`); it is called on the
    worker thread, and again after a store error.  `rules_of(profile)` is asked for every
    message, so a policy reload applies to the next one.
    """

    def __init__(
        self,
        classifier: MessageClassifier,
        connect: Callable[[], sqlite3.Connection],
        rules_of: Callable[[str], ChatWatching],
        *,
        clock: Callable[[], dt.datetime] = utc_now,
        queue_size: int = DEFAULT_QUEUE,
        notice_every: dt.timedelta = dt.timedelta(hours=1),
        keep_threads: dt.timedelta = dt.timedelta(days=90),
    ) -> None:
        self._classifier = classifier
        self._connect = connect
        self._rules_of = rules_of
        self._echoes = _Echoes()
        self._clock = clock
        self._queue: queue.Queue[_Seen | _Flush | _Stop] = queue.Queue(maxsize=queue_size)
        self._notice_every = notice_every
        self._keep_threads = keep_threads
        self._lock = threading.Lock()
        self._checked = 0
        self._alerts = 0
        self._dropped = 0
        self._failed = 0
        self._reported = 0  # dropped + failed already told to the parent
        self._last_notice: dt.datetime | None = None
        self._last_prune: dt.datetime | None = None
        self._last_error: str | None = None
        self._closing = threading.Event()
        self._thread = threading.Thread(target=self._run, name="abhaya-chat-watch", daemon=True)

    # -- any thread ---------------------------------------------------------------------------

    def start(self) -> None:
        self._thread.start()

    def offer(self, profile: str, message: SeenMessage) -> None:
        """Queue a message without ever blocking; counted as dropped when the queue is full."""
        if self._closing.is_set():
            return
        try:
            self._queue.put_nowait(_Seen(profile, message, self._clock()))
        except queue.Full:
            with self._lock:
                self._dropped += 1

    def flush(self, timeout: float = 10.0) -> bool:
        """Wait until every message offered before this call has been checked."""
        if not self._thread.is_alive():
            return False
        marker = _Flush()
        try:
            self._queue.put(marker, timeout=timeout)
        except queue.Full:
            return False
        return marker.done.wait(timeout)

    def close(self, timeout: float = 10.0) -> bool:
        """Check what was offered so far, then stop; True if the thread stopped in time."""
        self._closing.set()
        if not self._thread.is_alive():
            return True
        try:
            self._queue.put(_Stop(), timeout=timeout)
        except queue.Full:
            return False
        self._thread.join(timeout)
        return not self._thread.is_alive()

    @property
    def version(self) -> str:
        """The message model's version, for the status."""
        return self._classifier.version

    def health(self) -> ChatHealth:
        with self._lock:
            return ChatHealth(
                alive=self._thread.is_alive(),
                checked=self._checked,
                alerts=self._alerts,
                dropped=self._dropped,
                failed=self._failed,
                last_error=self._last_error,
            )

    # -- worker thread ------------------------------------------------------------------------

    def _run(self) -> None:
        conn: sqlite3.Connection | None = None
        checked_since_trim = False
        try:
            while True:
                try:
                    item = self._queue.get(timeout=1.0)
                except queue.Empty:
                    item = None
                    if checked_since_trim:  # a second without messages: give back what the
                        give_back()  # model's activations and the message texts held
                        checked_since_trim = False
                if isinstance(item, _Stop):
                    return
                if isinstance(item, _Flush):
                    item.done.set()
                    continue
                conn = self._step(conn, item)
                checked_since_trim = checked_since_trim or item is not None
        finally:
            if conn is not None:
                conn.close()

    def _step(
        self, conn: sqlite3.Connection | None, item: _Seen | None
    ) -> sqlite3.Connection | None:
        """Check one message (if any), then the housekeeping; any failure is counted and the
        connection opened afresh next time, so no message can stop the watch."""
        try:
            if conn is None:
                conn = self._connect()
            if item is not None:
                self._check(conn, item)
            self._housekeeping(conn)
        except Exception as error:  # noqa: BLE001 - the worker must outlive any one message
            log.exception("the chat watch could not check a message")
            with self._lock:
                self._failed += item is not None
                self._last_error = f"{type(error).__name__}: {error}"
            if isinstance(error, driver.Error) and conn is not None:
                conn.close()
                conn = None
        return conn

    def _check(self, conn: sqlite3.Connection, item: _Seen) -> None:
        rules = self._rules_of(item.profile)
        if not rules.enabled:
            return
        message = item.message
        key = ThreadKey(item.profile, message.site, message.thread)
        if self._echoes.is_echo(key, message):
            return
        (scores,) = self._classifier.classify([message.text], rules.thresholds)
        labels = scores.flagged
        with self._lock:
            self._checked += 1
        if not labels:
            # Nothing to add: a thread's evidence only fades between flagged messages, and
            # the tracker computes that fading from the time of the last one.
            return
        # What the format cannot attribute is read as the contact's: missing a stranger's
        # request is worse than a parent reading the child's own words.
        sender: Sender = "child" if message.sender == "child" else "contact"
        with driver.transaction(conn):
            record = load_thread(conn, key)
            tracker = (
                ConversationTracker()
                if rules.grooming_alert is None
                else ConversationTracker(grooming_alert=rules.grooming_alert)
            )
            state, found = tracker.update(record.state, labels, sender, item.at)
            kept = ThreadRecord(state, record.kept).keeping(
                KeptMessage(
                    item.at, message.sender, message.text if rules.keep_text else "", labels
                )
            )
            save_thread(conn, key, kept, item.at)
            for crossed in found:
                insert_alert(conn, chat_alert(key, crossed, kept.kept, item.at))
        if found:
            with self._lock:
                self._alerts += len(found)

    def _housekeeping(self, conn: sqlite3.Connection) -> None:
        """Tell the parent about unchecked messages, and forget threads long quiet."""
        now = self._clock()
        with self._lock:
            missed = self._dropped + self._failed - self._reported
        due = self._last_notice is None or now - self._last_notice >= self._notice_every
        if missed and due:
            note = Alert(
                time=now,
                kind=UNCHECKED_ALERT,
                severity=AlertSeverity.WARNING,
                message=(
                    f"{missed} chat messages could not be checked (the checker was busy or "
                    "failed). Chats went on as usual; risks in those messages were not seen."
                ),
            )
            with driver.transaction(conn):
                insert_alert(conn, note)
            with self._lock:
                self._reported += missed
            self._last_notice = now
        if self._last_prune is None or now - self._last_prune >= dt.timedelta(hours=1):
            with driver.transaction(conn):
                gone = prune_threads(conn, now - self._keep_threads)
            if gone:
                log.info("forgot %d chat threads quiet for %s", gone, self._keep_threads)
            self._last_prune = now


def watching_of(current: Callable[[], CompiledPolicy]) -> Callable[[str], ChatWatching]:
    """The chat rules of a profile in the policy in force (`PolicyState.current`), so a
    reload applies from the next message; a profile the policy no longer has is read with the
    default profile's rules, as its requests are decided."""

    def rules_of(profile: str) -> ChatWatching:
        compiled = current()
        rules = compiled.profiles.get(profile) or compiled.profile()
        return rules.chat

    return rules_of


class _Echoes:
    """The child's last few messages per thread, to know a chat server's echo of them.

    Plain JSON chats send every message to every member, the sender too, so the child's own
    message comes back from the server, where the format cannot say whose it is ("unknown",
    read as the contact's).  Without this, a child's "can we meet at the library" would count
    as a contact's meeting request.  Bounded: `THREADS` threads of `PER_THREAD` texts.
    """

    THREADS = 1000
    PER_THREAD = 8

    def __init__(self) -> None:
        self._sent: OrderedDict[ThreadKey, deque[str]] = OrderedDict()

    def is_echo(self, key: ThreadKey, message: SeenMessage) -> bool:
        """Remember what the child sends; True for an unattributed copy of it (once)."""
        sent = self._sent.get(key)
        if message.sender == "child":
            if sent is None:
                sent = self._sent[key] = deque(maxlen=self.PER_THREAD)
                if len(self._sent) > self.THREADS:
                    self._sent.popitem(last=False)
            else:
                self._sent.move_to_end(key)
            sent.append(message.text)
            return False
        if message.sender == "unknown" and sent is not None and message.text in sent:
            sent.remove(message.text)
            return True
        return False
