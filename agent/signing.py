"""Short-lived tokens that the proxy puts on its own pages and checks when they come back.

A token binds a purpose ("continue", "ask"), a profile and a host to an expiry with an HMAC
whose key is made at start-up.  So a link or form on one warning page cannot be forged, reused
for another site, used for another purpose, or kept for later; nothing is stored until it is
used.  A restart makes old tokens invalid, which errs on the careful side.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import hmac
import secrets


class PageTokens:
    def __init__(self, key: bytes | None = None) -> None:
        self._key = key or secrets.token_bytes(32)

    def issue(
        self, purpose: str, profile: str, host: str, now: dt.datetime, lifetime: dt.timedelta
    ) -> str:
        expiry = int((now + lifetime).timestamp())
        return f"{expiry}.{self._mac(purpose, profile, host, expiry)}"

    def valid(self, token: str, purpose: str, profile: str, host: str, now: dt.datetime) -> bool:
        expiry_text, _, mac = token.partition(".")
        if not expiry_text.isdigit() or int(expiry_text) < now.timestamp():
            return False
        return hmac.compare_digest(mac, self._mac(purpose, profile, host, int(expiry_text)))

    def _mac(self, purpose: str, profile: str, host: str, expiry: int) -> str:
        message = f"{purpose}\n{profile}\n{host}\n{expiry}".encode()
        return hmac.new(self._key, message, hashlib.sha256).hexdigest()[:32]
