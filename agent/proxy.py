"""Running mitmproxy in-process with Abhaya's addons.

`Agent.run()` is the service main loop: it starts the proxy and the control API, watches the
policy file, reloads on SIGHUP or on change (an invalid new policy is refused and the old one
stays), and returns after SIGINT/SIGTERM or `shutdown()`.  Tests run the same class in a thread.
Under systemd it says when it is ready, pings the watchdog from the event loop and says when it
stops (`sdnotify`); a heartbeat in the store reports a run that ended without shutting down
(`heartbeat`).
"""

from __future__ import annotations

import asyncio
import contextlib
import datetime as dt
import logging
import os
import signal
import time
from collections.abc import Awaitable, Callable, Sequence
from pathlib import Path
from typing import Any

from mitmproxy import master, options
from mitmproxy.addons import (
    block,
    core,
    disable_h2c,
    next_layer,
    proxyserver,
    tlsconfig,
)

from abhaya.agent import heap, memtrim, passedtunnels
from abhaya.agent.addons import build_addons
from abhaya.agent.addons.destination import Destinations
from abhaya.agent.addons.policy import connection_inspection
from abhaya.agent.api.pin import ParentPin
from abhaya.agent.api.routes import ControlApi
from abhaya.agent.api.server import ApiServer
from abhaya.agent.api.sessions import SessionStore
from abhaya.agent.approvals import AccessDesk, request_lifetime
from abhaya.agent.ca import CaFiles, ensure_ca
from abhaya.agent.catrust import CaTrustCheck, system_bundle
from abhaya.agent.chatinbox import ChatInbox
from abhaya.agent.chatwatch import ChatWatch, watching_of
from abhaya.agent.clock import utc_now
from abhaya.agent.config import RunConfig
from abhaya.agent.exits import FatalError, ListenError
from abhaya.agent.heartbeat import Heartbeat
from abhaya.agent.imagealerts import image_alert
from abhaya.agent.imagescreen import ImageScreener
from abhaya.agent.passedtunnels import Tunnel
from abhaya.agent.pause import PauseSwitch
from abhaya.agent.policy_state import PolicyState
from abhaya.agent.querymodel import query_model_loader
from abhaya.agent.sdnotify import ServiceNotifier
from abhaya.agent.services import Services
from abhaya.agent.store import EventWriter, RetentionPolicy, open_store
from abhaya.agent.tunnels import TunnelRelay
from abhaya.agent.watcher import PolicyWatcher
from abhaya.filters.policy.compile import CompiledPolicy
from abhaya.filters.policy.load import PolicyError
from abhaya.filters.urlnorm import bracketed
from abhaya.models.imagemodel import ImageClassifier
from abhaya.models.imagescan import ImageScanner
from abhaya.ui.pages.render import PageRenderer

log = logging.getLogger(__name__)

Address = tuple[str, int]

# Bodies above this size are streamed through instead of being held in memory.
STREAM_LARGE_BODIES = "1m"
# No overall cap: mitmproxy applies body_size_limit before it decides to stream, so any cap
# would refuse large downloads and uploads that no filter reads.  What Abhaya itself reads
# has its own limit (the ask-a-parent form), and a refused request's body is not read at all
# (`addons.early_answer`).
BODY_SIZE_LIMIT = None


def mitmproxy_addons() -> list[object]:
    """The parts of mitmproxy the agent runs: its core, the listener, the choice of protocol
    layer, TLS, and two guards (clients only from this machine's networks; h2c upgrades,
    which it cannot proxy, refused).

    Not `default_addons()`: those are 31 addons, and mitmproxy offers every hook of every
    connection and request to each of them (with a context manager apiece), though the other
    25 (replay, saving, scripts, header and body rewriting, proxy authentication, the
    mitm.it onboarding site ...) do nothing unless an option the agent never sets turns them
    on.  Offering each hook to 6 instead of 31 was about a tenth of the proxy's CPU on a page
    load (bench/pageload)."""
    return [
        core.Core(),
        block.Block(),
        disable_h2c.DisableH2C(),
        proxyserver.Proxyserver(),
        next_layer.NextLayer(),
        tlsconfig.TlsConfig(),
    ]


def traffic_options(host: str, port: int, confdir: Path) -> dict[str, object]:
    """mitmproxy's options as the agent runs it: where it listens and keeps its CA, and how it
    treats traffic.  The page-load benchmark runs bare mitmproxy with these same options, so
    the two differ only by Abhaya's addons."""
    return {
        "listen_host": host,
        "listen_port": port,
        "confdir": str(confdir),
        "connection_strategy": "lazy",
        "stream_large_bodies": STREAM_LARGE_BODIES,
        "body_size_limit": BODY_SIZE_LIMIT,
        "ssl_insecure": False,
        "http3": False,
    }


def _retention_of(compiled: CompiledPolicy) -> RetentionPolicy:
    settings = compiled.policy.events
    return RetentionPolicy(settings.retention_days, settings.alert_retention_days)


def _pages_exist_for(pages: PageRenderer) -> Callable[[CompiledPolicy], None]:
    """A policy check: the jurisdiction it names must have a pack of legal text and help lines."""

    def check(compiled: CompiledPolicy) -> None:
        try:
            pages.check_jurisdiction(compiled.book.jurisdiction)
        except ValueError as err:
            raise PolicyError(compiled.source, [f"jurisdiction: {err}"]) from err

    return check


def _quiet_about_cancellation(loop: asyncio.AbstractEventLoop, context: dict[str, Any]) -> None:
    """The event loop's error handler: a cancelled task is not an error.

    At shutdown the connections still open are cancelled, and Python 3.11's asyncio streams
    then report each one with a CancelledError traceback ("Exception in callback
    StreamReaderProtocol.connection_made...": it asks a cancelled task for its exception; 3.12
    checks first).  A clean stop prints none; everything else goes to the default handler.
    """
    if isinstance(context.get("exception"), asyncio.CancelledError):
        log.debug("cancelled at shutdown: %s", context.get("message"))
        return
    loop.default_exception_handler(context)


class Agent:
    """One running filtering proxy."""

    def __init__(
        self,
        config: RunConfig,
        extra_addons: Sequence[object] = (),
        clock: Callable[[], dt.datetime] = utc_now,
        pages: PageRenderer | None = None,
        chat: ChatInbox | None = None,
        notifier: ServiceNotifier | None = None,
    ) -> None:
        """`extra_addons` run after Abhaya's own and before the last word (tests map names
        to local servers there); `pages` replaces the packaged warning pages (tests); `chat`
        is where chat messages read on chat sites go (tests); None: the agent's own chat watch,
        when the policy at start reads chats.  `notifier` tells systemd how the agent is
        doing; None: as this process's environment says (nothing outside systemd)."""
        self.config = config
        self.notifier = notifier or ServiceNotifier.from_environment()
        # The folder holds the CA key, the store and its key file: its owner's alone.
        config.data_dir.mkdir(parents=True, exist_ok=True)
        os.chmod(config.data_dir, 0o700)
        config.cache_dir.mkdir(mode=0o700, exist_ok=True)
        os.chmod(config.cache_dir, 0o700)
        self.ca: CaFiles = ensure_ca(config.ca_dir)
        pages = pages or PageRenderer.load_default()
        policy = PolicyState(
            config.policy_path,
            config.cache_dir,
            check=_pages_exist_for(pages),
            scorer=query_model_loader(config.models_dir),
            installed=self._policy_installed,
        )
        self.store = open_store(config.data_dir)
        # Retention follows the policy in force; a new one applies at the next clean-up
        # (`_policy_installed`).
        events = EventWriter(
            self.store.connect,
            high_water=self.store.high_water,
            retention=_retention_of(policy.current),
            on_fatal=self._writer_gave_up,
            alert_for=image_alert,
        )
        self.chat_watch = None if chat is not None else self._chat_watch(policy, clock)
        self.image_screener = self._image_screener(policy)
        self.services = Services(
            policy=policy,
            pages=pages,
            events=events,
            access=AccessDesk(self.store, request_lifetime(policy), clock),
            pause=PauseSwitch(self.store),
            clock=clock,
            chat=chat if chat is not None else self.chat_watch,
            images=self.image_screener,
        )
        self.sessions = SessionStore(clock)
        self.pin = ParentPin(self.store, events, clock)
        control = ControlApi(
            self.store,
            self.services,
            self.pin,
            self.sessions,
            chat=self.chat_watch,
            ca=CaTrustCheck(self.ca.public_cert, config.trust_store or system_bundle()),
        )
        self.api = ApiServer(
            control,
            self.services.api,
            config.data_dir,
            config.api_host,
            config.api_port,
            publish_dir=config.runtime_dir,
        )
        self.heartbeat = Heartbeat(self.store.connect, clock=clock)
        self.watcher = PolicyWatcher(policy, events, clock, config.reload_interval)
        self._extra = list(extra_addons)
        self.destinations = Destinations(self.services, config.allow_local_ports)
        self.tunnels = TunnelRelay(self.services, self.destinations, config.upstream_timeout)
        self._master: master.Master | None = None
        self._stop_error: ListenError | FatalError | None = None
        self._loop: asyncio.AbstractEventLoop | None = None
        self.addresses: list[Address] = []

    def _policy_installed(self) -> None:
        """A new policy is in force (reloaded, or saved through the API): its retention goes to
        the event writer, and the heap is settled again (`agent.heap`)."""
        self.services.events.set_retention(_retention_of(self.services.policy.current))
        heap.settle()
        self._recheck_tunnels_soon()

    def _recheck_tunnels_soon(self) -> None:
        """Judge the open pass-through tunnels again (`agent.passedtunnels`), soon, on the
        proxy's loop; safe from any thread (a policy is installed by the API's or the
        watcher's)."""
        loop = self._loop
        if loop is None:  # not serving yet: no tunnel is open
            return
        with contextlib.suppress(RuntimeError):  # the loop has closed: nothing is open
            loop.call_soon_threadsafe(self._recheck_tunnels)

    def _recheck_tunnels(self) -> None:
        started = time.perf_counter()
        closed = self.services.passed.recheck(self._still_passes)
        if closed:
            log.info(
                "closed %d tunnel(s) passed through that the policy now decrypts (%.1f ms)",
                closed,
                (time.perf_counter() - started) * 1000,
            )

    def _still_passes(self, tunnel: Tunnel) -> bool:
        choice = connection_inspection(self.services, tunnel.name, tunnel.target, tunnel.user)
        return not choice.inspected

    async def _recheck_tunnels_every(self) -> None:
        """A schedule's allowed hours end with the clock, not with a new policy."""
        while True:
            await asyncio.sleep(passedtunnels.RECHECK_SECONDS)
            try:
                self._recheck_tunnels()
            except Exception:  # noqa: BLE001 - the next check must still come
                log.exception("judging the open pass-through tunnels again failed")

    async def run(
        self,
        on_ready: Callable[[Agent], None] | None = None,
        handle_signals: bool = False,
    ) -> None:
        """Serve until shut down.  `on_ready` is called once the proxy is listening."""
        self._loop = asyncio.get_running_loop()
        self._loop.set_exception_handler(_quiet_about_cancellation)
        opts = options.Options()
        proxy = master.Master(opts, event_loop=self._loop)
        # Not mitmproxy's ErrorCheck: it exits the process on any error logged at start-up,
        # Abhaya's too; `_announce` reports a proxy that cannot listen instead.
        proxy.addons.add(*mitmproxy_addons())
        proxy.addons.add(build_addons(self.services, self.config, self._extra, self.destinations))
        if self.config.relay_tunnels:
            self.tunnels.watch(proxy.addons.get("proxyserver").servers)
        opts.update(**traffic_options(self.config.host, self.config.port, self.config.ca_dir))
        if self.config.upstream_ca is not None:
            opts.update(ssl_verify_upstream_trusted_ca=str(self.config.upstream_ca))
        self._master = proxy
        if handle_signals:
            self._install_signals()
        self.services.events.start()
        await asyncio.to_thread(self.heartbeat.start)
        if self.chat_watch is not None:
            self.chat_watch.start()
        try:
            self.api.start()
        except OSError as error:
            await asyncio.to_thread(self._close_chat_watch)
            await asyncio.to_thread(self.heartbeat.close)
            await asyncio.to_thread(self.services.events.close)
            raise ListenError(
                f"--api-listen {self.config.api_host}:{self.config.api_port}: cannot listen "
                f"there ({error.strerror or error})",
                error.errno,
            ) from None
        heap.settle()  # everything loaded so far lives as long as the agent
        watcher = asyncio.create_task(self.watcher.run(), name="abhaya policy watcher")
        ready = asyncio.create_task(self._announce(on_ready))
        watchdog = asyncio.create_task(self._watchdog(), name="abhaya watchdog")
        trimmer = asyncio.create_task(memtrim.give_back_every(), name="abhaya memory trim")
        rechecks = asyncio.create_task(self._recheck_tunnels_every(), name="abhaya tunnel check")
        try:
            await proxy.run()
        finally:
            watchdog.cancel()
            trimmer.cancel()
            rechecks.cancel()
            await self._close(proxy, watcher, ready)
        if self._stop_error is not None:
            raise self._stop_error

    async def _close(
        self, proxy: master.Master, watcher: asyncio.Task[None], ready: asyncio.Task[None]
    ) -> None:
        """Close every part, each step on its own: one that fails is logged and the next still
        runs, so the API file is removed and every submitted event is committed in every case."""
        self.notifier.stopping()
        watcher.cancel()
        ready.cancel()

        async def stop_watcher() -> None:
            with contextlib.suppress(asyncio.CancelledError):
                await watcher

        async def close_listeners() -> None:
            # mitmproxy leaves its listening sockets to process exit; close them now so the
            # port is free as soon as run() returns (tests start agents one after another).
            await proxy.addons.get("proxyserver").servers.update([])
            await self.tunnels.close()

        steps: list[tuple[str, Callable[[], Awaitable[object]]]] = [
            ("the policy watcher", stop_watcher),
            ("the proxy's listeners", close_listeners),
            ("the control API", lambda: asyncio.to_thread(self.api.stop)),
            # Messages already read are checked and their alerts stored before it stops.
            ("the chat watch", lambda: asyncio.to_thread(self._close_chat_watch)),
            ("the image screener", lambda: asyncio.to_thread(self.image_screener.close)),
            # The clean-stop mark: the next start reports no gap.
            ("the heartbeat", lambda: asyncio.to_thread(self.heartbeat.close)),
            # Every event the proxy submitted is committed before run() returns.
            ("the event store", lambda: asyncio.to_thread(self.services.events.close)),
        ]
        for name, step in steps:
            try:
                await step()
            except Exception:  # noqa: BLE001 - the other parts must still close
                log.exception("closing %s failed", name)

    def shutdown(self) -> None:
        """Stop the proxy; safe to call from any thread or a signal handler."""
        if self._master is not None:
            self._master.shutdown()

    async def reload_policy(self) -> bool:
        """Reload the policy now (see `PolicyWatcher.reload`)."""
        return await self.watcher.reload()

    def _install_signals(self) -> None:
        assert self._loop is not None
        for signum in (signal.SIGINT, signal.SIGTERM):
            self._loop.add_signal_handler(signum, self.shutdown)
        self._loop.add_signal_handler(
            signal.SIGHUP, lambda: asyncio.ensure_future(self.watcher.reload_now())
        )

    async def _announce(self, on_ready: Callable[[Agent], None] | None) -> None:
        """Wait until the proxy listens, record its addresses, then tell the caller.

        If the proxy could not listen (the port is in use, the address is not this
        machine's), stop with a ListenError that `run()` raises once everything is closed;
        mitmproxy itself would only log it and wait forever.
        """
        assert self._master is not None
        proxyserver = self._master.addons.get("proxyserver")
        while not (proxyserver.is_running and proxyserver.listen_addrs()):
            failed = [s.last_exception for s in proxyserver.servers if s.last_exception]
            if proxyserver.is_running and failed:
                error = failed[0]
                number = error.errno if isinstance(error, OSError) else None
                reason = getattr(error, "__cause__", None) or error
                shown = bracketed(self.config.host)
                self._stop_error = ListenError(
                    f"--listen {shown}:{self.config.port}: cannot listen there ({reason})",
                    number,
                )
                self.shutdown()
                return
            await asyncio.sleep(0.02)
        self.addresses = [(str(addr[0]), int(addr[1])) for addr in proxyserver.listen_addrs()]
        host, port = self.addresses[0]
        self.notifier.ready(f"filtering on {bracketed(host)}:{port}")
        if on_ready is not None:
            on_ready(self)

    async def _watchdog(self) -> None:
        """Ping systemd's watchdog from the event loop itself, at half its timeout: a loop
        that hangs stops the pings, and systemd restarts the agent."""
        interval = self.notifier.watchdog_interval
        if interval is None:
            return
        while True:
            self.notifier.watchdog()
            await asyncio.sleep(interval)

    def _chat_watch(
        self, policy: PolicyState, clock: Callable[[], dt.datetime]
    ) -> ChatWatch | None:
        """The chat watch with the shipped message model, when the policy in force at start
        reads any profile's chats (like retention, turning chat reading on by a reload
        applies at the next start; turning it off applies at once).  A model that cannot be
        loaded refuses the policy, as the search model does: the agent does not start
        believing it watches chats."""
        compiled = policy.current
        if not any(rules.chat.enabled for rules in compiled.profiles.values()):
            return None
        try:
            from abhaya.models.chatmodel import load_chat_model

            model = load_chat_model(self.config.models_dir)
        except Exception as err:  # any failure to load: refuse, with the loader's reason
            raise PolicyError(
                compiled.source,
                [f"[chat] reads chats, but the chat model could not be loaded: {err}"],
            ) from err
        return ChatWatch(
            model, self.store.connect, watching_of(lambda: policy.current), clock=clock
        )

    def _image_screener(self, policy: PolicyState) -> ImageScreener:
        """The image screener, with the shipped classifier when the policy in force at start
        screens any profile's images (turning it on by a reload applies at the next start:
        until then those images are unscannable, blocked by default).  Known-image hash
        lists need no model and are checked whatever the policy says of screening.  A
        classifier that cannot be loaded refuses the policy, as the other models do."""
        compiled = policy.current
        classifier = None
        if any(rules.images.enabled for rules in compiled.profiles.values()):
            try:
                classifier = ImageClassifier.load()
            except Exception as err:  # any failure to load: refuse, with the loader's reason
                raise PolicyError(
                    compiled.source,
                    [f"[images] screens images, but the image model could not be loaded: {err}"],
                ) from err
        return ImageScreener(ImageScanner(classifier))

    def _close_chat_watch(self) -> None:
        if self.chat_watch is not None and not self.chat_watch.close():
            log.error("the chat watch did not stop in time; messages still queued are lost")

    def pin_is_set(self) -> bool:
        """Whether a parent PIN is set; until it is, anyone at the computer can set one."""
        return self.pin.is_set()

    def _writer_gave_up(self, message: str) -> None:
        """The event writer could not be restarted: stop loudly rather than filter on without
        a record (a service manager restarts the agent; the status says why).  Runs on the
        writer's thread, so the stop is handed to the event loop."""
        log.critical("stopping: %s", message)
        self._stop_error = FatalError(f"the event store failed for good: {message}")
        loop = self._loop
        if loop is not None and not loop.is_closed():
            loop.call_soon_threadsafe(self.shutdown)
