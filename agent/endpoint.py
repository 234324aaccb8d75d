"""Where the control API listens, for the parts of the agent that must keep traffic off it.

The API server sets the port once it listens; the proxy's guard and destination check read it
on proxy threads.  It lives here, below both, so the agent's core (`services`) never imports
the API package.
"""

from __future__ import annotations

import threading


class ApiEndpoint:
    """The API's port once it listens (None before and after).  Thread-safe."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._port: int | None = None

    @property
    def port(self) -> int | None:
        with self._lock:
            return self._port

    def set(self, port: int | None) -> None:
        with self._lock:
            self._port = port
