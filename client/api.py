"""The control API's client: one typed method per call, plain HTTP to loopback.

It finds the API through the data folder's api.json and talks to it with the standard
library, so the CLI, the console and the tray need nothing of the agent's.  Every failure
becomes a ClientError whose message can be shown as it is: the agent not running, a wrong PIN,
a lock-out with its wait, or the API's own error text.  Answers are the TypedDicts of
`contract`, the same the server builds.
"""

from __future__ import annotations

import http.client
import json
import shutil
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any, BinaryIO, cast
from urllib.parse import urlencode

from abhaya.client import contract
from abhaya.client.discovery import ApiAddress, DiscoveryError, find_api_file

TIMEOUT_S = 30.0

Params = Mapping[str, str | int | None]


class ClientError(Exception):
    """The call did not succeed; `status` is the HTTP status when the API answered."""

    def __init__(
        self, message: str, status: int | None = None, retry_after: int | None = None
    ) -> None:
        super().__init__(message)
        self.status = status
        self.retry_after = retry_after
        """Seconds to wait before trying again (a PIN lock-out, 429), when the API said."""


class ApiClient:
    def __init__(self, address: ApiAddress, timeout: float = TIMEOUT_S) -> None:
        self.address = address
        self.timeout = timeout
        self.token: str | None = None

    @classmethod
    def for_data_dir(cls, data_dir: Path, timeout: float = TIMEOUT_S) -> ApiClient:
        """The client of the agent running for `data_dir` (or the installed service, when
        `data_dir` has no api.json); ClientError when none is."""
        try:
            return cls(find_api_file(data_dir), timeout)
        except DiscoveryError as error:
            raise ClientError(str(error)) from None

    # -- sessions and the PIN ---------------------------------------------------------------

    def pin_state(self) -> contract.PinState:
        return cast(contract.PinState, self.call("GET", contract.PIN))

    def login(self, pin: str) -> None:
        body: contract.LoginBody = {"pin": pin}
        self.token = cast(contract.Token, self.call("POST", contract.LOGIN, body))["token"]

    def logout(self) -> None:
        if self.token is not None:
            self.call("POST", contract.LOGOUT)
            self.token = None

    def set_pin(self, new: str, old: str | None) -> None:
        """Set the first PIN, or change it (log in with `old` first); keeps the new session."""
        body: contract.PinBody = {"new": new}
        if old is not None:
            body["old"] = old
        self.token = cast(contract.Token, self.call("POST", contract.PIN, body))["token"]

    # -- reading ----------------------------------------------------------------------------

    def status(self) -> contract.Status:
        return cast(contract.Status, self.call("GET", contract.STATUS))

    def events(
        self,
        *,
        since: str | None = None,
        until: str | None = None,
        kinds: tuple[str, ...] = (),
        categories: tuple[str, ...] = (),
        reasons: tuple[str, ...] = (),
        profiles: tuple[str, ...] = (),
        text: str | None = None,
        limit: int | None = None,
        cursor: str | None = None,
    ) -> contract.EventsPage:
        """One page of events, newest first; `text` is found in the domain, URL, rule or detail.

        Each tuple is "any of these" (empty: any at all); the filters together are "all of".
        """
        params = {
            "since": since,
            "until": until,
            "kind": ",".join(kinds) or None,
            "category": ",".join(categories) or None,
            "reason": ",".join(reasons) or None,
            "profile": ",".join(profiles) or None,
            "text": text or None,
            "limit": limit,
            "cursor": cursor,
        }
        return cast(contract.EventsPage, self.call("GET", contract.EVENTS, params=params))

    def event(self, event_id: int) -> contract.EventRecord:
        """One event by its id; ClientError (status 404) when there is none."""
        path = f"{contract.EVENTS}/{event_id}"
        return cast(contract.EventRecord, self.call("GET", path))

    def stats(self, days: int) -> contract.Stats:
        return cast(contract.Stats, self.call("GET", contract.STATS, params={"days": days}))

    def export(
        self, fmt: contract.ExportFormat, out: BinaryIO, *, since: str | None, until: str | None
    ) -> None:
        """Stream the export to `out`."""
        params = {"format": fmt, "since": since, "until": until}
        response, connection = self._send("GET", contract.EXPORT, None, params)
        try:
            shutil.copyfileobj(response, out)
        finally:
            connection.close()

    def alerts(self, *, unacknowledged_only: bool) -> contract.AlertList:
        params = {"unacknowledged": "true" if unacknowledged_only else None}
        return cast(contract.AlertList, self.call("GET", contract.ALERTS, params=params))

    def requests(self, status: contract.RequestStatus | None = None) -> contract.RequestList:
        params = {"status": status}
        return cast(contract.RequestList, self.call("GET", contract.REQUESTS, params=params))

    def policy(self) -> contract.PolicyText:
        return cast(contract.PolicyText, self.call("GET", contract.POLICY))

    # -- changing ---------------------------------------------------------------------------

    def pause(self, minutes: int) -> contract.PauseState:
        body: contract.PauseBody = {"minutes": minutes}
        return cast(contract.PauseState, self.call("POST", contract.PAUSE, body))

    def resume(self) -> contract.PauseState:
        return cast(contract.PauseState, self.call("POST", contract.RESUME))

    def apply_policy(self, text: str) -> contract.PolicyApplied:
        body: contract.PolicyBody = {"text": text}
        return cast(contract.PolicyApplied, self.call("PUT", contract.POLICY, body))

    def approve(
        self, request_id: int, *, minutes: int | None, scope: contract.Scope
    ) -> contract.AccessRequestRecord:
        """Approve for `minutes`, or always when None."""
        body: contract.ApproveBody = {"scope": scope}
        if minutes is None:
            body["always"] = True
        else:
            body["minutes"] = minutes
        path = f"{contract.REQUESTS}/{request_id}/approve"
        return cast(contract.AccessRequestRecord, self.call("POST", path, body))

    def deny(self, request_id: int) -> contract.AccessRequestRecord:
        path = f"{contract.REQUESTS}/{request_id}/deny"
        return cast(contract.AccessRequestRecord, self.call("POST", path))

    def end_approvals(
        self, site: str, profiles: Sequence[str] | None = None
    ) -> contract.ApprovalsEnded:
        """End the running approvals that let `site` through, for `profiles` (None: every
        child's)."""
        body: contract.EndApprovalsBody = {"site": site}
        if profiles is not None:
            body["profiles"] = list(profiles)
        return cast(contract.ApprovalsEnded, self.call("POST", contract.APPROVALS_END, body))

    def acknowledge(self, alert_id: int) -> contract.AlertRecord:
        path = f"{contract.ALERTS}/{alert_id}/acknowledge"
        return cast(contract.AlertRecord, self.call("POST", path))

    # -- transport --------------------------------------------------------------------------

    def call(
        self,
        method: str,
        path: str,
        body: Mapping[str, object] | None = None,
        params: Params | None = None,
    ) -> Any:
        """Send one request and return its decoded JSON answer; ClientError otherwise."""
        response, connection = self._send(method, path, body, params)
        try:
            data = response.read()
        except OSError as error:
            raise ClientError(f"the Abhaya agent stopped answering on {path} ({error})") from None
        finally:
            connection.close()
        try:
            return json.loads(data.decode("utf-8"))
        except (UnicodeDecodeError, ValueError):
            raise ClientError(f"the agent sent an unreadable answer to {path}") from None

    def _send(
        self,
        method: str,
        path: str,
        body: Mapping[str, object] | None,
        params: Params | None,
    ) -> tuple[http.client.HTTPResponse, http.client.HTTPConnection]:
        query = urlencode({k: v for k, v in (params or {}).items() if v is not None})
        target = f"{path}?{query}" if query else path
        headers = {"Accept": "application/json"}
        payload = None
        if body is not None:
            payload = json.dumps(body).encode("utf-8")
            headers["Content-Type"] = "application/json"
        if self.token is not None:
            headers["Authorization"] = f"Bearer {self.token}"
        connection = http.client.HTTPConnection(
            self.address.host, self.address.port, timeout=self.timeout
        )
        try:
            connection.request(method, target, body=payload, headers=headers)
            response = connection.getresponse()
        except OSError as error:
            connection.close()
            raise ClientError(
                f"the Abhaya agent is not answering on {self.address.base_url} "
                f"({error}); is `abhaya run` still running?"
            ) from None
        if response.status >= 400:
            try:
                message = _error_text(response)
                retry = _retry_after(response)
            finally:
                connection.close()
            raise ClientError(message, response.status, retry)
        return response, connection


def _error_text(response: http.client.HTTPResponse) -> str:
    try:
        record = json.loads(response.read().decode("utf-8"))
        text = str(record["error"])
    except (OSError, ValueError, KeyError, TypeError):
        text = response.reason
    retry = response.getheader("Retry-After")
    if response.status == 429 and retry:
        text = f"{text} (try again in {retry} s)"
    return text


def _retry_after(response: http.client.HTTPResponse) -> int | None:
    text = response.getheader("Retry-After") or ""
    return int(text) if text.isascii() and text.isdigit() else None
