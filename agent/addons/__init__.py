"""The proxy's addons, one per module, assembled in a fixed order by `build_addons`.

mitmproxy runs each hook through the addons in list order, so the request path reads top to
bottom here:

0. who      finds the OS user behind each client connection; the addons below decide with
            that user's profile (`flowdata.profile_of`), or the default one
1. guard    refuses requests for the agent's own control API (403) before anything else
2. limits   refuses oversized URLs and header floods before any other work
3. ask      answers the ask-a-parent form on /__abhaya/ask itself (never the server)
4. policy   decides every request (`filters.decide`), applies safe-search rewrites,
            and leaves TLS uninspected for allowed pass-through domains; lets through what
            a parent approved or what a pause allows (never csam)
5. pages    answers block and warn verdicts with a warning page; the server is never contacted
6. log      records every verdict that is not a plain allow in the event store
"""

from __future__ import annotations

from abhaya.agent.addons.ask import AskParent
from abhaya.agent.addons.guard import ApiGuard
from abhaya.agent.addons.limits import Limits
from abhaya.agent.addons.log import VerdictLog
from abhaya.agent.addons.pages import WarningPages
from abhaya.agent.addons.policy import PolicyAddon
from abhaya.agent.addons.who import WhoIsConnecting
from abhaya.agent.services import Services


def build_addons(services: Services) -> list[object]:
    """The addon pipeline in request order."""
    return [
        WhoIsConnecting(services),
        ApiGuard(services),
        Limits(services),
        AskParent(services),
        PolicyAddon(services),
        WarningPages(services),
        VerdictLog(services),
    ]
