"""The one place that maps a site's adapter to its readers, so the proxy never names one.

`read_request` reads a request body; `open_connection` makes the reader for one WebSocket,
whose `frame` reads each of its messages.  Neither raises on bad data (see `message.Read`).
"""

from __future__ import annotations

from typing import Protocol, runtime_checkable

from abhaya.filters.chatwire.discord import GatewayReader, read_rest_send
from abhaya.filters.chatwire.generic import read_json_chat
from abhaya.filters.chatwire.message import Read
from abhaya.filters.chatwire.sites import ChatSite


@runtime_checkable
class ConnectionReader(Protocol):
    """One WebSocket connection's reading state, made at its start and dropped at its end."""

    def frame(self, data: bytes, is_text: bool, from_client: bool) -> Read: ...


def read_request(
    site: ChatSite, method: str, host: str, path: str, content_type: str, body: bytes
) -> Read:
    """The messages in a request body sent to a chat site (`path` without the query)."""
    if site.adapter == "discord":
        return read_rest_send(site.name, method, path, content_type, body)
    return read_json_chat(
        site.name, site.fields, body, content_type, where=host + path, default_sender="child"
    )


class _JsonConnection:
    __slots__ = ("_site", "_where")

    def __init__(self, site: ChatSite, where: str) -> None:
        self._site = site
        self._where = where

    def frame(self, data: bytes, is_text: bool, from_client: bool) -> Read:
        return read_json_chat(
            self._site.name,
            self._site.fields,
            data,
            "",
            where=self._where,
            default_sender="child" if from_client else "unknown",
        )


def open_connection(site: ChatSite, host: str, path: str, query: str) -> ConnectionReader:
    """The reader for a WebSocket to a chat site, from its address (`path` without query)."""
    if site.adapter == "discord":
        return GatewayReader(site.name, query)
    return _JsonConnection(site, host + path)
