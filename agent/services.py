"""The narrow set of services the addons share, passed in explicitly (no globals)."""

from __future__ import annotations

import datetime as dt
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field

from abhaya.agent.approvals import AccessDesk
from abhaya.agent.chatinbox import ChatInbox
from abhaya.agent.clock import utc_now
from abhaya.agent.endpoint import ApiEndpoint
from abhaya.agent.grants import ContinueGrants
from abhaya.agent.imagescreen import ImageScreener
from abhaya.agent.passedtunnels import PassedTunnels
from abhaya.agent.pause import PauseSwitch
from abhaya.agent.policy_state import PolicyState
from abhaya.agent.signing import PageTokens
from abhaya.agent.store import EventWriter
from abhaya.agent.who.owners import ConnectionOwners
from abhaya.ui.pages.render import PageRenderer


@dataclass(frozen=True, slots=True)
class Services:
    policy: PolicyState
    pages: PageRenderer
    events: EventWriter
    """Where verdicts go for parents to review; `submit` never blocks a proxy thread."""
    access: AccessDesk
    """Children's requests for access and the approvals a parent gave (in memory for lookups)."""
    pause: PauseSwitch
    """Whether protection is paused (csam never is)."""
    grants: ContinueGrants = field(default_factory=ContinueGrants)
    tokens: PageTokens = field(default_factory=PageTokens)
    """Signs the forms on warning pages, so another site cannot post them for the child."""
    clock: Callable[[], dt.datetime] = utc_now
    """Aware "now"; tests pass a fixed clock to exercise schedules."""
    api: ApiEndpoint = field(default_factory=ApiEndpoint)
    """Where the control API listens, so the guard addon keeps proxied requests away from it."""
    who: ConnectionOwners = field(default_factory=ConnectionOwners)
    """Which OS user opened each open client connection (this platform's socket table)."""
    chat: ChatInbox | None = None
    """Where chat messages read on chat sites go; None: chat traffic is not read at all."""
    images: ImageScreener | None = None
    """Screens the images of inspected pages (`addons.images`); None: images are not looked
    at (tests of other parts)."""
    chat_reading: Counter[str] = field(default_factory=Counter)
    """What the chat reader met (`addons.chatread`): "messages" read, "skipped: <reason>"
    inputs, "fault: <hook>" bugs; shown by the status call."""
    inspection: Counter[str] = field(default_factory=Counter)
    """TLS connections since start by `filters.inspect.InspectReason` (`addons.policy`): how
    many were decrypted and how many passed through; shown by the status call."""
    passed: PassedTunnels = field(default_factory=PassedTunnels)
    """The tunnels passed through undecrypted that are still open, judged again while they
    stay open (`agent.passedtunnels`)."""
