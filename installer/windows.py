"""Windows: produced as a plan (commands and files) and tested as one; not applied here."""

from __future__ import annotations

from abhaya.installer.backend import Backend
from abhaya.installer.browsers.windows import BrowsersWindows
from abhaya.installer.ca.windows import CaTrustWindows
from abhaya.installer.routing.windows import RoutingWindows
from abhaya.installer.service.windows import ServiceWindows
from abhaya.installer.settings import TargetOS

BACKEND = Backend(
    TargetOS.WINDOWS, (CaTrustWindows(), BrowsersWindows(), ServiceWindows(), RoutingWindows())
)
