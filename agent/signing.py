"""Short-lived tokens that the proxy puts on its own pages and checks when they come back.

A token binds a purpose ("continue", "ask"), a profile and a target (a host, or for forms the
page's origin, scheme included) to an expiry with an HMAC whose key is made at start-up.  So a
link or form on one warning page cannot be forged, used for another site or scheme, used for
another purpose, or kept for later.  A restart makes old tokens invalid, which errs on the
careful side.

`redeem` makes a token single-use: it remembers the tokens already used until they expire.
That memory is bounded (`MAX_REDEEMED`): when it is full of unexpired tokens, redemption is
refused (the child reloads the page a little later) rather than forgetting a used token, which
would let it be replayed.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import heapq
import hmac
import secrets
import threading

MAX_REDEEMED = 10_000
"""Used, unexpired tokens remembered at most (a child sends far fewer forms in an hour)."""


class PageTokens:
    def __init__(self, key: bytes | None = None) -> None:
        self._key = key or secrets.token_bytes(32)
        self._redeemed: set[str] = set()
        self._expiries: list[tuple[int, str]] = []  # a heap: the soonest expiry first
        self._lock = threading.Lock()

    def issue(
        self, purpose: str, profile: str, host: str, now: dt.datetime, lifetime: dt.timedelta
    ) -> str:
        expiry = int((now + lifetime).timestamp())
        nonce = secrets.token_hex(8)  # two pages issued in the same second differ
        return f"{expiry}.{nonce}.{self._mac(purpose, profile, host, expiry, nonce)}"

    def valid(self, token: str, purpose: str, profile: str, host: str, now: dt.datetime) -> bool:
        expiry_text, nonce, mac = (token.split(".", 2) + ["", ""])[:3]
        if not expiry_text.isdigit() or int(expiry_text) < now.timestamp():
            return False
        expected = self._mac(purpose, profile, host, int(expiry_text), nonce)
        return hmac.compare_digest(mac, expected)

    def redeem(self, token: str, purpose: str, profile: str, host: str, now: dt.datetime) -> bool:
        """Valid and not used before: True once, and the token is used up."""
        if not self.valid(token, purpose, profile, host, now):
            return False
        with self._lock:
            while self._expiries and self._expiries[0][0] < now.timestamp():
                self._redeemed.discard(heapq.heappop(self._expiries)[1])
            if token in self._redeemed or len(self._redeemed) >= MAX_REDEEMED:
                return False
            self._redeemed.add(token)
            heapq.heappush(self._expiries, (int(token.partition(".")[0]), token))
        return True

    @property
    def redeemed_count(self) -> int:
        """Used tokens remembered now (bounded by MAX_REDEEMED)."""
        return len(self._redeemed)

    def _mac(self, purpose: str, profile: str, host: str, expiry: int, nonce: str) -> str:
        message = f"{purpose}\n{profile}\n{host}\n{expiry}\n{nonce}".encode()
        return hmac.new(self._key, message, hashlib.sha256).hexdigest()[:32]
