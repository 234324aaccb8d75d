"""Signing in: ask whether a PIN is set, then log in with it or set the first one.

The agent decides (the PIN rule, wrong PINs, lock-outs); this turns its refusals into plain
words.  The PIN is passed straight to the service and is never kept here.
"""

from __future__ import annotations

import math

from PySide6.QtCore import Signal

from abhaya.client.api import ClientError
from abhaya.ui.console.controllers.base import Controller
from abhaya.ui.console.runner import Runner
from abhaya.ui.console.service import ConsoleService
from abhaya.ui.console.texts import Texts

MIN_DIGITS, MAX_DIGITS = 4, 12


def is_pin(text: str) -> bool:
    """The agent's PIN rule (contract.PIN_RULE), checked here only to answer without a call."""
    return text.isascii() and text.isdigit() and MIN_DIGITS <= len(text) <= MAX_DIGITS


class SessionController(Controller):
    pin_needed = Signal(bool)
    """True: a PIN is set, ask for it; False: none is set yet, ask for a new one."""
    busy = Signal(str)
    refused = Signal(str)
    signed_in = Signal()

    def __init__(self, service: ConsoleService, runner: Runner, texts: Texts) -> None:
        super().__init__(service, runner, texts)

    def start(self) -> None:
        """Find out whether to ask for the PIN or for a first one."""
        self._runner.submit(
            self._service.pin_is_set, self.pin_needed.emit, self._refuse, session=False
        )

    def login(self, pin: str) -> None:
        if not is_pin(pin):
            self.refused.emit(self._texts("signin.pin_rule"))
            return
        self.busy.emit(self._texts("signin.checking"))
        self._runner.submit(
            lambda: self._service.login(pin), self._done, self._refuse, session=False
        )

    def set_first_pin(self, pin: str, again: str) -> None:
        if not is_pin(pin):
            self.refused.emit(self._texts("signin.pin_rule"))
            return
        if pin != again:
            self.refused.emit(self._texts("signin.mismatch"))
            return
        self.busy.emit(self._texts("signin.checking"))
        self._runner.submit(
            lambda: self._service.set_first_pin(pin), self._done, self._refuse, session=False
        )

    def _done(self, _: None) -> None:
        self.signed_in.emit()

    def _refuse(self, error: ClientError) -> None:
        if error.status == 409 and not self._service.signed_in:
            self.pin_needed.emit(False)  # the agent has no PIN yet (it was reset meanwhile)
            return
        self.refused.emit(self.refusal(error))

    def refusal(self, error: ClientError) -> str:
        """The agent's refusal in plain words: wrong PIN, lock-out with its wait, no agent."""
        if error.status is None:
            return self._texts("signin.no_agent")
        if error.status == 401:
            return self._texts("signin.wrong_pin")
        if error.status == 429:
            minutes = math.ceil((error.retry_after or 60) / 60)
            return self._texts("signin.locked", minutes=minutes)
        if error.status == 422:
            return self._texts("signin.pin_rule")
        return self._texts("signin.refused", message=str(error))
