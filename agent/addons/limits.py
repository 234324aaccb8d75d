"""Size limits that protect the agent from hostile or broken clients.

Runs at `requestheaders`, before the body is read and before any decision work, so a header
flood or a megabyte URL costs almost nothing.  Bodies are not buffered past the streaming
threshold set in the proxy options (see `agent.proxy`).
"""

from __future__ import annotations

from mitmproxy import http

from abhaya.agent.addons.flowdata import respond_with_error, set_verdict
from abhaya.agent.services import Services
from abhaya.filters.verdict import Action, Reason, Verdict

MAX_URL_BYTES = 32 * 1024
MAX_HEADER_COUNT = 200
MAX_HEADER_BYTES = 64 * 1024


class Limits:
    def __init__(self, services: Services) -> None:
        self._services = services

    def requestheaders(self, flow: http.HTTPFlow) -> None:
        """Refuse a request whose URL or headers are too large, with a small error page."""
        request = flow.request
        if len(request.path) + len(request.host) > MAX_URL_BYTES:
            self._refuse(
                flow, 414, "The address is too long.", f"url longer than {MAX_URL_BYTES} bytes"
            )
            return
        headers = request.headers.fields
        size = sum(len(name) + len(value) + 4 for name, value in headers)
        if len(headers) > MAX_HEADER_COUNT or size > MAX_HEADER_BYTES:
            self._refuse(
                flow,
                431,
                "The request headers are too large.",
                f"{len(headers)} headers, {size} bytes",
            )

    def _refuse(self, flow: http.HTTPFlow, status: int, child_text: str, detail: str) -> None:
        verdict = Verdict(
            Action.BLOCK, Reason.LIMITS, detail=detail, rule=f"http {status}", source="limits"
        )
        set_verdict(flow, verdict)
        respond_with_error(flow, self._services, status, "limits", child_text)
