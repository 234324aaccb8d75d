"""Abhaya's addons as one mitmproxy addon that runs them in order and fails closed.

Two things mitmproxy's own addon chain does not give a filter:

- **Failing closed.**  mitmproxy calls every addon hook inside `safecall`: an exception is
  logged and the flow goes on to the next addon and then to the server.  For a filter that is
  failing open: a renderer that raised once let `https://adult.example/` reach its server.
  Here, when one of Abhaya's hooks raises, the error is logged and the flow is made safe at
  once, before any later addon or mitmproxy itself can send it on:
  - an HTTP flow is marked failed (the last word records it) and answered with the fixed page,
    which needs no renderer, policy or store (`fixedpage`);
  - a server connection about to open is refused (`server.error`), so nothing reaches it;
  - a TCP or WebSocket flow is killed;
  - anything else (a client hello, a client connection) is logged and left on its safe
    default: intercepted TLS, the default profile.
  The addons after the failed one still run (the last word must see the flow).
  The one member that decides nothing, `chatread`, catches and counts its own faults instead:
  its failing closed would kill a child's chat connection for a bug in a part that blocks
  nothing (see its docstring).
- **Speed.**  mitmproxy pays for every addon on every event, whether or not the addon has that
  hook (a generator, a context manager and an attribute look-up each: about 3 µs), so a dozen
  separate addons cost a fifth of the proxy's throughput.  As one addon, Abhaya pays that
  once; for each hook it keeps the tuple of member methods that implement it, in order, and
  exposes only the hooks some member has.

Lifecycle hooks (load, configure, running, done) are passed to the members in order, unguarded:
a failure there stops the agent at start, loudly, which is what a broken installation should do.
"""

from __future__ import annotations

import inspect
import logging
from collections.abc import Callable, Sequence
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

Step = tuple[str, Callable[..., Any], bool]
"""(where, method, is async): one member's method for one hook."""


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


def _failed(where: str, args: tuple[object, ...]) -> None:
    log.exception("%s failed; the flow is blocked to be safe", where)
    for subject in args[:1]:
        try:
            make_safe(subject, where)
        except Exception:  # noqa: BLE001 - logged; the last word still sees the flow
            log.exception("%s: could not make the flow safe", where)


def _run_sync(steps: tuple[Step, ...]) -> Callable[..., None]:
    def run(*args: object) -> None:
        for where, method, _ in steps:
            try:
                method(*args)
            except Exception:  # noqa: BLE001 - the point: any failure makes the flow safe
                _failed(where, args)

    return run


def _run_async(steps: tuple[Step, ...]) -> Callable[..., Any]:
    async def run(*args: object) -> None:
        for where, method, is_async in steps:
            try:
                if is_async:
                    await method(*args)
                else:
                    method(*args)
            except Exception:  # noqa: BLE001 - the point: any failure makes the flow safe
                _failed(where, args)

    return run


def _pass_through(methods: tuple[Callable[..., Any], ...], is_async: bool) -> Callable[..., Any]:
    if not is_async:

        def run(*args: object) -> None:
            for method in methods:
                method(*args)

        return run

    async def run_async(*args: object) -> None:
        for method in methods:
            result = method(*args)
            if inspect.isawaitable(result):
                await result

    return run_async


class FailClosed:
    """`addons` run in order as one mitmproxy addon, every flow hook guarded."""

    def __init__(self, addons: Sequence[object], name: str = "abhaya") -> None:
        self.name = name
        self.members = tuple(addons)
        for hook in sorted(flow_hooks() | LIFECYCLE):
            found = [
                (str(getattr(member, "name", type(member).__name__.lower())), method)
                for member in self.members
                if callable(method := getattr(member, hook, None))
            ]
            if not found:
                continue
            is_async = any(inspect.iscoroutinefunction(method) for _, method in found)
            if hook in LIFECYCLE:
                setattr(self, hook, _pass_through(tuple(m for _, m in found), is_async))
                continue
            steps = tuple(
                (f"{member}.{hook}", method, inspect.iscoroutinefunction(method))
                for member, method in found
            )
            setattr(self, hook, _run_async(steps) if is_async else _run_sync(steps))
