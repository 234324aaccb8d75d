"""Reads chat messages out of chat traffic and offers each to the chat inbox.

It only looks: it never changes, holds, answers or drops a request or a WebSocket message, and
decides nothing.  Which hosts are chat sites, and how each is read, is the policy's
(`Rulebook.chat`: `filters/data/chat_sites.toml` plus `[[chat.sites]]`); the reading itself
is `abhaya.filters.chatwire`, pure and bounded.

- `request` (a request on a chat site that goes on to it, its body already read by mitmproxy):
  the body is read, as sent and within `bodyread`'s bound; a streamed body is not read (no
  streaming is added for it).  A request Abhaya answered itself never reached the site.
- `websocket_start`: a WebSocket to a chat site gets its reader (Discord's keeps the zlib
  stream and who the child is) and the profile it reads for, kept on the flow.
- `websocket_message`: each message goes through that reader.
- `websocket_end`: the reader is dropped with the flow's state.

Chat reading runs only while the policy in force has `[chat] enabled` and the child's profile
does not turn it off (`[profiles.NAME.chat] enabled`), checked per message, so a reload takes
effect at once; and only when the agent has an inbox (`build_addons`).

**Faults.**  Bad data is no fault: the readers skip it and say why, and this addon counts it
(`counts`, "skipped: <reason>").  An unexpected exception in a reader or in the inbox is a
bug: it is counted ("fault: <hook>") and logged with its traceback the first time for each
hook, and the traffic goes on untouched.  This addon therefore catches its own exceptions
instead of letting `FailClosed` make the flow safe: failing closed would kill the child's chat
connection for a bug in a part that blocks nothing.  Every other addon still fails closed.
"""

from __future__ import annotations

import contextlib
import logging
from collections import Counter
from collections.abc import Callable, Iterator
from dataclasses import dataclass

from mitmproxy import http

from abhaya.agent.addons.bodyread import UnreadableBody, read_body
from abhaya.agent.addons.flowdata import profile_of
from abhaya.agent.chatinbox import ChatInbox
from abhaya.agent.services import Services
from abhaya.filters.chatwire import adapters
from abhaya.filters.chatwire.adapters import ConnectionReader
from abhaya.filters.chatwire.message import Read
from abhaya.filters.chatwire.sites import ChatSite

log = logging.getLogger(__name__)

CONNECTION_KEY = "abhaya.chat"
"""`flow.metadata` key of a chat WebSocket's reader (gone with the flow)."""
_BODY_METHODS = frozenset({"POST", "PUT", "PATCH"})


@dataclass(frozen=True, slots=True)
class ChatReaders:
    """The pure readers this addon calls (`filters.chatwire.adapters`); tests inject failing
    ones to show that a reader's bug leaves the traffic alone."""

    read_request: Callable[[ChatSite, str, str, str, str, bytes], Read] = adapters.read_request
    open_connection: Callable[[ChatSite, str, str, str], ConnectionReader] = (
        adapters.open_connection
    )


class ChatRead:
    name = "chatread"

    def __init__(
        self, services: Services, inbox: ChatInbox, readers: ChatReaders | None = None
    ) -> None:
        self._services = services
        self._inbox = inbox
        self._readers = readers or ChatReaders()
        self.counts: Counter[str] = services.chat_reading
        """"messages" offered, "skipped: <reason>" inputs, "fault: <hook>" bugs met (the
        services' counter, so the status call shows them)."""
        self._logged: set[str] = set()

    def request(self, flow: http.HTTPFlow) -> None:
        """The whole request is here and about to go to the site: read its body."""
        with self._guard("request"):
            self._request(flow)

    def websocket_start(self, flow: http.HTTPFlow) -> None:
        """A WebSocket was accepted by the server: start reading it if it is a chat's."""
        with self._guard("websocket_start"):
            self._start(flow)

    def websocket_message(self, flow: http.HTTPFlow) -> None:
        """One whole WebSocket message (the last of `flow.websocket.messages`) is about to be
        relayed: read it."""
        with self._guard("websocket_message"):
            self._message(flow)

    def websocket_end(self, flow: http.HTTPFlow) -> None:
        """The WebSocket closed: drop its reader (the zlib stream, the child's id)."""
        with self._guard("websocket_end"):
            flow.metadata.pop(CONNECTION_KEY, None)

    def _request(self, flow: http.HTTPFlow) -> None:
        request = flow.request
        if flow.response is not None or request.method.upper() not in _BODY_METHODS:
            return
        compiled = self._services.policy.current
        if not compiled.book.chat.enabled:
            return
        path = request.path.partition("?")[0]
        site = compiled.book.chat.sites.for_request(request.host, path)
        if site is None:
            return
        profile = profile_of(flow, compiled)
        if not profile.chat.enabled:
            return
        try:
            body = read_body(request)
        except UnreadableBody as err:
            self.counts[f"skipped: body {err}"] += 1
            return
        read = self._readers.read_request(
            site,
            request.method,
            request.host,
            path,
            request.headers.get("content-type", ""),
            body,
        )
        self._deliver(profile.name, read)

    def _start(self, flow: http.HTTPFlow) -> None:
        compiled = self._services.policy.current
        if not compiled.book.chat.enabled:
            return
        request = flow.request
        path, _, query = request.path.partition("?")
        site = compiled.book.chat.sites.for_websocket(request.host, path)
        if site is None:
            return
        profile = profile_of(flow, compiled)
        if not profile.chat.enabled:
            return
        reader = self._readers.open_connection(site, request.host, path, query)
        flow.metadata[CONNECTION_KEY] = reader

    def _message(self, flow: http.HTTPFlow) -> None:
        reader = flow.metadata.get(CONNECTION_KEY)
        if not isinstance(reader, ConnectionReader) or flow.websocket is None:
            return
        # Decided for each message as for each request, so a reload applies at once.
        profile = profile_of(flow, self._services.policy.current)
        if not profile.chat.enabled:
            return
        message = flow.websocket.messages[-1]
        if message.injected:
            return
        read = reader.frame(message.content, message.is_text, message.from_client)
        self._deliver(profile.name, read)

    def _deliver(self, profile: str, read: Read) -> None:
        if read.skipped is not None:
            self.counts[f"skipped: {read.skipped}"] += 1
        for message in read.messages:
            self.counts["messages"] += 1
            self._inbox.offer(profile, message)

    @contextlib.contextmanager
    def _guard(self, hook: str) -> Iterator[None]:
        """Count and log (once per hook) what a reader or the inbox raised; never re-raise:
        see the module docstring."""
        try:
            yield
        except Exception:  # noqa: BLE001 - the point: a reading bug never touches traffic
            self.counts[f"fault: {hook}"] += 1
            if hook in self._logged:
                log.debug("chat reading failed again at %s", hook, exc_info=True)
                return
            self._logged.add(hook)
            log.exception(
                "chat reading failed at %s; the traffic goes on unread (counted from now on, "
                "logged once)",
                hook,
            )
