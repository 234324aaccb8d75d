"""The proxy's addons, one per module, assembled in a fixed order by `build_addons`.

mitmproxy runs each hook through the addons in list order, so the request path reads top to
bottom here:

0. who       finds the OS user behind each client connection; the addons below decide with
             that user's profile (`flowdata.profile_of`), or the default one
1. guard     refuses requests for the agent's own control API (403) before anything else
2. limits    refuses oversized URLs and header floods before any other work
3. ask       answers the ask-a-parent form on /__abhaya/ask itself (never the server)
4. policy    decides every request (`filters.decide`), applies safe-search rewrites,
             and leaves TLS uninspected for allowed pass-through domains; lets through what
             a parent approved or what a pause allows (never csam, never what could not be
             checked)
5. pages     answers block and warn verdicts with a warning page; the server is never contacted
6. log       records every verdict that is not a plain allow in the event store
   (extra)   addons a caller adds (tests map names to local servers here)
7. last word blocks, with a fixed page, whatever was not decided, not answered or met an error

Every addon runs inside `FailClosed`: an exception in any hook blocks that flow instead of
letting mitmproxy pass it on.
"""

from __future__ import annotations

from collections.abc import Sequence

from abhaya.agent.addons.ask import AskParent
from abhaya.agent.addons.failclosed import FailClosed
from abhaya.agent.addons.guard import ApiGuard
from abhaya.agent.addons.lastword import LastWord
from abhaya.agent.addons.limits import Limits
from abhaya.agent.addons.log import VerdictLog
from abhaya.agent.addons.pages import WarningPages
from abhaya.agent.addons.policy import PolicyAddon
from abhaya.agent.addons.who import WhoIsConnecting
from abhaya.agent.services import Services


def build_addons(services: Services, extra: Sequence[object] = ()) -> list[FailClosed]:
    """The addon pipeline in request order, each addon fail-closed, the last word last."""
    pipeline: list[object] = [
        WhoIsConnecting(services),
        ApiGuard(services),
        Limits(services),
        AskParent(services),
        PolicyAddon(services),
        WarningPages(services),
        VerdictLog(services),
        *extra,
        LastWord(services),
    ]
    return [FailClosed(addon) for addon in pipeline]
