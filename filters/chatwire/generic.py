"""Plain JSON chats (and form posts): the text, thread and sender by common field names.

Many small chat sites and games send a message as JSON, over a WebSocket or in a POST, shaped
like ``{"type": "message", "room": "42", "text": "hi"}``, sometimes wrapped
(``{"data": {"message": {"text": "hi"}}}``) or batched in a list.  This adapter reads any such
document without knowing the site: it walks objects (at most `MAX_DEPTH` levels, at most
`MAX_MESSAGES` messages a document) and in each takes

- the text: the first of `JsonFields.text` holding a non-empty string; an object without one
  is searched further down (its wrappers);
- the thread: the first of `JsonFields.thread` holding a string or an integer, in that object
  or the nearest one around it; without any, the address (host and path) the text came from;
- the sender: the first of `JsonFields.sender` whose value says whose the message is
  (`CHILD_WORDS`, `CONTACT_WORDS`); without one, the direction: what this machine sends is the
  child's, and what it receives is "unknown" (a server echoes the child's own messages too).

A form body (``application/x-www-form-urlencoded``) is read as one flat object.  A policy can
point this adapter at a host and name other fields (`[[chat.sites]]`).  Bad input (too
large, not UTF-8, not JSON, nested too deep) is skipped with its reason, never raised.
"""

from __future__ import annotations

from dataclasses import dataclass
from urllib.parse import parse_qsl

from abhaya.filters.chatwire.jsonread import MAX_JSON_BYTES, Unreadable, id_text, load_json
from abhaya.filters.chatwire.message import Read, Sender, found, seen, skipped

MAX_DEPTH = 4
MAX_MESSAGES = 20
CHILD_WORDS = frozenset({"child", "me", "self", "mine", "outgoing", "sent"})
CONTACT_WORDS = frozenset({"contact", "them", "other", "peer", "incoming", "received"})
FORM = "application/x-www-form-urlencoded"


@dataclass(frozen=True, slots=True)
class JsonFields:
    """The field names a generic chat is read by; the defaults are the common ones."""

    text: tuple[str, ...] = ("text", "message", "content", "body", "msg")
    thread: tuple[str, ...] = (
        "thread",
        "thread_id",
        "channel",
        "channel_id",
        "conversation",
        "conversation_id",
        "room",
        "room_id",
        "chat_id",
    )
    sender: tuple[str, ...] = ("sender", "from", "direction", "author")


DEFAULT_FIELDS = JsonFields()


def read_json_chat(
    site: str,
    fields: JsonFields,
    data: bytes,
    content_type: str,
    *,
    where: str,
    default_sender: Sender,
) -> Read:
    """The messages in one body or WebSocket message.  `where` (host and path) is the thread
    when the document names none; `default_sender` is the direction's ("child" for what this
    machine sends, "unknown" for what it receives)."""
    try:
        if content_type.partition(";")[0].strip().lower() == FORM:
            document: object = dict(_form(data))
        else:
            document = load_json(data)
    except Unreadable as err:
        return skipped(str(err))
    walk = _Walk(fields)
    walk.node(document, 0, where, default_sender)
    return found(*(seen(site, thread, sender, text) for text, thread, sender in walk.found))


def _form(data: bytes) -> list[tuple[str, str]]:
    if len(data) > MAX_JSON_BYTES:
        raise Unreadable("too large")
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError:
        raise Unreadable("not UTF-8") from None
    try:
        return parse_qsl(text, max_num_fields=1000)
    except ValueError:
        raise Unreadable("not a form") from None


class _Walk:
    __slots__ = ("_fields", "found")

    def __init__(self, fields: JsonFields) -> None:
        self._fields = fields
        self.found: list[tuple[str, str, Sender]] = []

    def node(self, node: object, depth: int, thread: str, sender: Sender) -> None:
        if depth > MAX_DEPTH or len(self.found) >= MAX_MESSAGES:
            return
        if isinstance(node, list):
            for item in node[:MAX_MESSAGES]:
                self.node(item, depth + 1, thread, sender)
            return
        if not isinstance(node, dict):
            return
        thread = _first(node, self._fields.thread) or thread
        sender = _sender(node, self._fields.sender) or sender
        for name in self._fields.text:
            value = node.get(name)
            if isinstance(value, str) and value.strip():
                self.found.append((value, thread, sender))
                return
        for value in node.values():
            if isinstance(value, dict | list):
                self.node(value, depth + 1, thread, sender)


def _first(node: dict[str, object], names: tuple[str, ...]) -> str | None:
    for name in names:
        value = id_text(node.get(name))
        if value is not None:
            return value
    return None


def _sender(node: dict[str, object], names: tuple[str, ...]) -> Sender | None:
    for name in names:
        value = node.get(name)
        if not isinstance(value, str):
            continue
        word = value.strip().lower()
        if word in CHILD_WORDS:
            return "child"
        if word in CONTACT_WORDS:
            return "contact"
    return None
