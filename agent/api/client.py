"""A small client of the control API for the CLI (the console will have its own, in Qt).

It finds the API through the data dir's api.json and talks plain HTTP to loopback with the
standard library, so the CLI needs nothing beyond what the agent already installs.  Every
failure becomes a ClientError whose message can be shown as it is: the agent not running, a
wrong PIN, a lock-out with its wait, or the API's own error text.
"""

from __future__ import annotations

import http.client
import json
import shutil
from collections.abc import Mapping
from pathlib import Path
from typing import Any, BinaryIO
from urllib.parse import urlencode

from abhaya.agent.api.discovery import ApiAddress, DiscoveryError, read_api_file

TIMEOUT_S = 30.0


class ClientError(Exception):
    """The call did not succeed; `status` is the HTTP status when the API answered."""

    def __init__(self, message: str, status: int | None = None) -> None:
        super().__init__(message)
        self.status = status


class ApiClient:
    def __init__(self, data_dir: Path) -> None:
        try:
            self.address: ApiAddress = read_api_file(data_dir)
        except DiscoveryError as error:
            raise ClientError(str(error)) from None
        self.token: str | None = None

    def login(self, pin: str) -> None:
        self.token = str(self.call("POST", "/v1/login", {"pin": pin})["token"])

    def logout(self) -> None:
        if self.token is not None:
            self.call("POST", "/v1/logout")
            self.token = None

    def call(
        self,
        method: str,
        path: str,
        body: Mapping[str, object] | None = None,
        params: Mapping[str, str | int | None] | None = None,
    ) -> Any:
        """Send one request and return its decoded JSON answer; ClientError otherwise."""
        response, connection = self._send(method, path, body, params)
        try:
            data = response.read()
        finally:
            connection.close()
        try:
            return json.loads(data.decode("utf-8"))
        except (UnicodeDecodeError, ValueError):
            raise ClientError(f"the agent sent an unreadable answer to {path}") from None

    def download(self, path: str, params: Mapping[str, str | int | None], out: BinaryIO) -> None:
        """Stream the answer to `out` (exports)."""
        response, connection = self._send("GET", path, None, params)
        try:
            shutil.copyfileobj(response, out)
        finally:
            connection.close()

    def _send(
        self,
        method: str,
        path: str,
        body: Mapping[str, object] | None,
        params: Mapping[str, str | int | None] | None,
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
            self.address.host, self.address.port, timeout=TIMEOUT_S
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
            finally:
                connection.close()
            raise ClientError(message, response.status)
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
