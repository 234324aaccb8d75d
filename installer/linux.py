"""Linux (Debian and Ubuntu first): the backend that really installs."""

from __future__ import annotations

from abhaya.installer.account.linux import AccountLinux
from abhaya.installer.backend import Backend
from abhaya.installer.browsers.linux import BrowsersLinux
from abhaya.installer.ca.linux import CaTrustLinux
from abhaya.installer.routing.linux import RoutingLinux
from abhaya.installer.service.linux import ServiceLinux
from abhaya.installer.settings import TargetOS

BACKEND = Backend(
    TargetOS.LINUX,
    (AccountLinux(), CaTrustLinux(), BrowsersLinux(), ServiceLinux(), RoutingLinux()),
)
