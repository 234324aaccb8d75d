"""Runs each of Abhaya's addons so that an exception blocks the flow instead of passing it.

mitmproxy calls every addon hook inside `safecall`: an exception is logged and the flow goes
on to the next addon and then to the server.  For a filter that is failing open: a renderer
that raises once let `https://adult.example/` reach its server.  `FailClosed` wraps one addon
and gives mitmproxy the same hooks; when a hook raises, it logs the error and makes the flow
safe at once, before any later addon or mitmproxy itself can send it on:

- an HTTP flow is marked failed (the last word records it) and answered with the fixed page,
  which needs no renderer, policy or store (`fixedpage`);
- a server connection about to open is refused (`server.error`), so nothing reaches it;
- a TCP or WebSocket flow is killed;
- anything else (a client hello, a client connection) is logged and left on its safe default:
  intercepted TLS, the default profile.

Lifecycle hooks (load, configure, running, done) are passed through unwrapped: a failure there
stops the agent at start, loudly, which is what a broken installation should do.
"""

from __future__ import annotations

import functools
import inspect
import logging
from collections.abc import Callable
from typing import Any

import mitmproxy.proxy.layers  # noqa: F401 - registers the layer hooks in hooks.all_hooks
from mitmproxy import hooks, http
from mitmproxy.proxy.server_hooks import ServerConnectionHookData

from abhaya.agent.addons.fixedpage import answer_with_fixed_page
from abhaya.agent.addons.flowdata import mark_failed

log = logging.getLogger(__name__)

LIFECYCLE = frozenset({"load", "configure", "running", "done", "update", "add_log"})
"""Hooks that are not about one flow or connection: passed through, never caught."""
_REFUSED = "Abhaya could not check this connection"


def flow_hooks() -> frozenset[str]:
    """Every hook mitmproxy can call about a flow or a connection."""
    return frozenset(hooks.all_hooks) - LIFECYCLE


def make_safe(subject: object, where: str) -> None:
    """Put the subject of a failed hook into its safe state (see the module docstring)."""
    if isinstance(subject, http.HTTPFlow):
        mark_failed(subject, where)
        answer_with_fixed_page(subject)
        return
    if isinstance(subject, ServerConnectionHookData):
        subject.server.error = _REFUSED
        return
    kill = getattr(subject, "kill", None)
    if callable(kill) and getattr(subject, "killable", False):
        kill()


class FailClosed:
    """One addon with every flow hook guarded; see the module docstring."""

    def __init__(self, addon: object) -> None:
        self.wrapped = addon
        self.name = type(addon).__name__.lower()
        for hook in sorted(flow_hooks() | LIFECYCLE):
            method = getattr(addon, hook, None)
            if not callable(method):
                continue
            if hook in LIFECYCLE:
                setattr(self, hook, method)
            else:
                setattr(self, hook, self._guard(hook, method))

    def _guard(self, hook: str, method: Callable[..., Any]) -> Callable[..., Any]:
        where = f"{self.name}.{hook}"
        if inspect.iscoroutinefunction(method):

            @functools.wraps(method)
            async def guarded_async(*args: object) -> None:
                try:
                    await method(*args)
                except Exception:  # noqa: BLE001 - the point: any failure makes the flow safe
                    self._failed(where, args)

            return guarded_async

        @functools.wraps(method)
        def guarded(*args: object) -> None:
            try:
                method(*args)
            except Exception:  # noqa: BLE001 - the point: any failure makes the flow safe
                self._failed(where, args)

        return guarded

    @staticmethod
    def _failed(where: str, args: tuple[object, ...]) -> None:
        log.exception("%s failed; the flow is blocked to be safe", where)
        for subject in args[:1]:
            try:
                make_safe(subject, where)
            except Exception:  # noqa: BLE001 - logged; the last word still sees the flow
                log.exception("%s: could not make the flow safe", where)
