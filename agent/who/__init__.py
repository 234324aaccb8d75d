"""Which OS user and process opened a connection to the proxy.

The platform part sits behind one small interface (`PeerTable` in `base.py`), one module per way
of asking the OS: `linux.py` reads /proc; `portable.py` uses psutil's connection table on other
systems.  `default_table()` picks the first that works here; `owners.py` runs a lookup once per
client connection and keeps the answer for the addons.
"""

from __future__ import annotations

import sys

from abhaya.agent.who.base import PeerTable
from abhaya.agent.who.linux import ProcNetTable
from abhaya.agent.who.portable import PsutilTable


def default_table() -> PeerTable:
    """/proc on Linux (exact and cheap); psutil elsewhere (Windows, macOS: needs more rights)."""
    if sys.platform.startswith("linux") and ProcNetTable.available():
        return ProcNetTable()
    return PsutilTable()
