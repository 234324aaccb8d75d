"""The proxy's addons, one per module, assembled in a fixed order by `build_addons`.

mitmproxy runs each hook through the addons in list order, so the request path reads top to
bottom here:

0. who       finds the OS user behind each client connection; the addons below decide with
             that user's profile (`flowdata.profile_of`), or the default one
1. guard     refuses requests for the agent's own control API (403) before anything else
2. limits    refuses oversized URLs and header floods before any other work
3. ask       answers the ask-a-parent form on /__abhaya/ask itself (never the server)
4. policy    decides every request (`filters.decide`), applies safe-search rewrites,
             and decrypts a TLS connection only where the policy's `[inspect]` says a
             check must look inside (`filters.inspect`, counted in `Services.inspection`);
             lets through what
             a parent approved or what a pause allows (never csam, never what could not be
             checked); a search sent in the body is decided again at `request`; an
             open WebSocket is decided again while it stays open, and closed once stopped
   passthrough keeps each connection passed through undecrypted in `Services.passed`, so
             it is judged again while it stays open (`agent.passedtunnels`)
   images    only when the agent screens images (`Services.images`): turns a page of a site
             whose images were mostly flagged into a warning; at the response hooks, checks
             every image before delivery and blurs or replaces what the policy says (see
             `images`)
5. pages     answers block and warn verdicts with a warning page; the server is never contacted
             (at `request` too, for a verdict made there on a body search)
6. log       records every verdict that is not a plain allow in the event store (a body
             search at `request`, once, with its final verdict)
7. chat read only when the agent has a chat inbox (`Services.chat`): reads the messages in
             request bodies and WebSocket messages of chat sites and offers them to the inbox;
             it decides, changes and holds nothing, and its own faults are counted and logged,
             never turned into a block (see `chatread`)
   (extra)   addons a caller adds (tests map names to their local upstream at
             `server_connect`; the destination check below must see where a connection
             really goes)
8. last word blocks, with a fixed page, whatever was not decided, not answered or met an error

Then the network edge:

9. early answer     answers a refused request with a large body still arriving, without
                    reading it (after the last word: nothing may answer after it)
10. upstream timeout gives up on a server that never answers
11. destination     resolves, checks and pins every server connection: nothing on this
                    machine but the ports `RunConfig.allow_local_ports` names, never the API
12. upstream errors serves Abhaya's page for every request that could not be completed
13. websocket memory keeps only the newest message on a WebSocket flow, once every addon
                    above has seen it (mitmproxy would keep them all while it is open)

mitmproxy sees the whole pipeline as one addon, `FailClosed`: it runs the members in this
order, and an exception in any hook blocks that flow (or refuses that server connection)
instead of letting mitmproxy pass it on.
"""

from __future__ import annotations

from collections.abc import Sequence

from abhaya.agent.addons.ask import AskParent
from abhaya.agent.addons.chatread import ChatRead
from abhaya.agent.addons.destination import Destinations
from abhaya.agent.addons.early_answer import EarlyAnswers
from abhaya.agent.addons.failclosed import FailClosed
from abhaya.agent.addons.guard import ApiGuard
from abhaya.agent.addons.images import ImageScreen
from abhaya.agent.addons.lastword import LastWord
from abhaya.agent.addons.limits import Limits
from abhaya.agent.addons.log import VerdictLog
from abhaya.agent.addons.pages import WarningPages
from abhaya.agent.addons.passthrough import PassedThrough
from abhaya.agent.addons.policy import PolicyAddon
from abhaya.agent.addons.upstream_errors import UpstreamErrors
from abhaya.agent.addons.upstream_timeout import UpstreamTimeout
from abhaya.agent.addons.who import WhoIsConnecting
from abhaya.agent.addons.wsmemory import WebSocketMemory
from abhaya.agent.config import DEFAULT_UPSTREAM_TIMEOUT, RunConfig
from abhaya.agent.services import Services


def build_addons(
    services: Services,
    config: RunConfig | None = None,
    extra: Sequence[object] = (),
    destinations: Destinations | None = None,
) -> FailClosed:
    """The addon pipeline in request order, as one fail-closed addon; `extra` addons (tests)
    go just before the last word and the edge; `destinations` is the destination check to use
    (the agent shares it, and its name cache, with the tunnel relay).

    Without a `config`, no port on this machine may be reached and the default timeout holds.
    """
    allowed = config.allow_local_ports if config is not None else frozenset[int]()
    timeout = UpstreamTimeout(
        config.upstream_timeout if config is not None else DEFAULT_UPSTREAM_TIMEOUT
    )
    pipeline: list[object] = [
        WhoIsConnecting(services),
        ApiGuard(services),
        Limits(services),
        AskParent(services),
        PolicyAddon(services),
        PassedThrough(services),
        *([ImageScreen(services, services.images)] if services.images is not None else []),
        WarningPages(services),
        VerdictLog(services),
        *([ChatRead(services, services.chat)] if services.chat is not None else []),
        *extra,
        LastWord(services),
        EarlyAnswers(),
        timeout,
        destinations if destinations is not None else Destinations(services, allowed),
        UpstreamErrors(services, timeout),
        WebSocketMemory(),
    ]
    return FailClosed(pipeline)
