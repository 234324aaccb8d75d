"""Exit statuses of `abhaya run`, for a service manager deciding whether to try again.

A service unit restarts a failed agent; it should keep trying when the failure may pass (the
keyring is still locked at boot, the port is held by a process that is going away) and stop,
loudly, when it cannot (an invalid policy, an unusable data folder, a listen address the rules
refuse).  The statuses are those of BSD's sysexits.h, which systemd and launchd know:

| status | name        | meaning                                                     |
|-------:|-------------|-------------------------------------------------------------|
|      0 | OK          | stopped by SIGINT/SIGTERM after a clean shutdown            |
|      1 | FAILED      | a parent command failed (the agent refused or did not answer)|
|      2 | USAGE       | the command line is wrong                                   |
|     70 | SOFTWARE    | the agent stopped itself because a part of it failed for good |
|     75 | TEMPFAIL    | may pass on retry: keyring locked, a port in use            |
|     78 | CONFIG      | retrying cannot help: invalid policy, unusable data folder, |
|        |             | a listen address refused or impossible                      |
"""

from __future__ import annotations

import errno
from enum import IntEnum

from abhaya.agent.config import ConfigError
from abhaya.agent.store import StoreError
from abhaya.agent.store.keys import KeyUnavailableError
from abhaya.filters.policy.load import PolicyError


class ExitStatus(IntEnum):
    OK = 0
    FAILED = 1
    USAGE = 2
    SOFTWARE = 70
    TEMPFAIL = 75
    CONFIG = 78


class ListenError(ConfigError):
    """The proxy or the API could not listen where it was told to."""

    def __init__(self, message: str, error_number: int | None) -> None:
        super().__init__(message)
        self.errno = error_number

    @property
    def temporary(self) -> bool:
        """A port in use may be free on the next try; a refused or absent address is not."""
        return self.errno == errno.EADDRINUSE


class FatalError(Exception):
    """A part of the running agent failed for good (the event writer could not be restarted);
    the agent stopped itself rather than run without it."""


_TEMPORARY_ERRNOS = frozenset({errno.EADDRINUSE, errno.EAGAIN, errno.EBUSY})


def exit_status(error: BaseException) -> ExitStatus:
    """The status `abhaya run` exits with after `error` stopped it."""
    if isinstance(error, ListenError):
        return ExitStatus.TEMPFAIL if error.temporary else ExitStatus.CONFIG
    if isinstance(error, KeyUnavailableError):
        return ExitStatus.TEMPFAIL
    if isinstance(error, FatalError):
        return ExitStatus.SOFTWARE
    if isinstance(error, ConfigError | PolicyError | StoreError):
        return ExitStatus.CONFIG
    if isinstance(error, OSError):
        return ExitStatus.TEMPFAIL if error.errno in _TEMPORARY_ERRNOS else ExitStatus.CONFIG
    return ExitStatus.SOFTWARE
