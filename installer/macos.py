"""macOS: produced as a plan (commands and files) and tested as one; not applied here."""

from __future__ import annotations

from abhaya.installer.backend import Backend
from abhaya.installer.browsers.macos import BrowsersMacos
from abhaya.installer.ca.macos import CaTrustMacos
from abhaya.installer.routing.macos import RoutingMacos
from abhaya.installer.service.macos import ServiceMacos
from abhaya.installer.settings import TargetOS

BACKEND = Backend(TargetOS.MACOS, (CaTrustMacos(), BrowsersMacos(), ServiceMacos(), RoutingMacos()))
