"""Running mitmproxy in-process with Abhaya's addons.

`Agent.run()` is the service main loop: it starts the proxy and the control API, watches the
policy file, reloads on SIGHUP or on change (an invalid new policy is refused and the old one
stays), and returns after SIGINT/SIGTERM or `shutdown()`.  Tests run the same class in a thread.
"""

from __future__ import annotations

import asyncio
import contextlib
import datetime as dt
import logging
import os
import signal
from collections.abc import Callable, Sequence

from mitmproxy import master, options
from mitmproxy.addons import default_addons, errorcheck

from abhaya.agent.access import AccessDesk
from abhaya.agent.addons import build_addons
from abhaya.agent.api.pin import ParentPin
from abhaya.agent.api.routes import ControlApi
from abhaya.agent.api.server import ApiServer
from abhaya.agent.api.sessions import SessionStore
from abhaya.agent.ca import CaFiles, ensure_ca
from abhaya.agent.config import ConfigError, RunConfig
from abhaya.agent.pause import PauseSwitch
from abhaya.agent.policy_state import PolicyState
from abhaya.agent.services import Services, utc_now
from abhaya.agent.store import EventWriter, RetentionPolicy, open_store
from abhaya.filters.policy.compile import CompiledPolicy
from abhaya.filters.policy.load import PolicyError
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


def _pages_exist_for(pages: PageRenderer) -> Callable[[CompiledPolicy], None]:
    """A policy check: the jurisdiction it names must have a pack of legal text and help lines."""

    def check(compiled: CompiledPolicy) -> None:
        try:
            pages.check_jurisdiction(compiled.book.jurisdiction)
        except ValueError as err:
            raise PolicyError(compiled.source, [f"jurisdiction: {err}"]) from err

    return check


class Agent:
    """One running filtering proxy."""

    def __init__(
        self,
        config: RunConfig,
        extra_addons: Sequence[object] = (),
        clock: Callable[[], dt.datetime] = utc_now,
    ) -> None:
        self.config = config
        # The folder holds the CA key, the store and its key file: its owner's alone.
        config.data_dir.mkdir(parents=True, exist_ok=True)
        os.chmod(config.data_dir, 0o700)
        self.ca: CaFiles = ensure_ca(config.ca_dir)
        pages = PageRenderer.load_default()
        policy = PolicyState(config.policy_path, config.cache_dir, check=_pages_exist_for(pages))
        self.store = open_store(config.data_dir)
        settings = policy.current.policy.events
        # Retention follows the policy in force at start; a reload applies at the next start.
        events = EventWriter(
            self.store.connect,
            retention=RetentionPolicy(settings.retention_days, settings.alert_retention_days),
        )
        self.services = Services(
            policy=policy,
            pages=pages,
            events=events,
            access=AccessDesk(self.store),
            pause=PauseSwitch(self.store),
            clock=clock,
        )
        self.sessions = SessionStore(clock)
        control = ControlApi(
            self.store, self.services, ParentPin(self.store.connect, events, clock), self.sessions
        )
        self.api = ApiServer(
            control, self.services.api, config.data_dir, config.api_host, config.api_port
        )
        self._extra = list(extra_addons)
        self._master: master.Master | None = None
        self._loop: asyncio.AbstractEventLoop | None = None
        self.addresses: list[Address] = []

    async def run(
        self,
        on_ready: Callable[[Agent], None] | None = None,
        handle_signals: bool = False,
    ) -> None:
        """Serve until shut down.  `on_ready` is called once the proxy is listening."""
        self._loop = asyncio.get_running_loop()
        opts = options.Options()
        proxy = master.Master(opts, event_loop=self._loop)
        proxy.addons.add(*default_addons(), errorcheck.ErrorCheck())
        proxy.addons.add(*build_addons(self.services, self.config, self._extra))
        opts.update(
            listen_host=self.config.host,
            listen_port=self.config.port,
            confdir=str(self.config.ca_dir),
            connection_strategy="lazy",
            stream_large_bodies=STREAM_LARGE_BODIES,
            body_size_limit=BODY_SIZE_LIMIT,
            onboarding=False,
            ssl_insecure=False,
            http3=False,
        )
        if self.config.upstream_ca is not None:
            opts.update(ssl_verify_upstream_trusted_ca=str(self.config.upstream_ca))
        self._master = proxy
        if handle_signals:
            self._install_signals()
        self.services.events.start()
        try:
            self.api.start()
        except OSError as error:
            await asyncio.to_thread(self.services.events.close)
            raise ConfigError(
                f"--api-listen {self.config.api_host}:{self.config.api_port}: cannot listen "
                f"there ({error.strerror or error})"
            ) from None
        watcher = asyncio.create_task(self._watch_policy())
        ready = asyncio.create_task(self._announce(on_ready))
        try:
            await proxy.run()
        finally:
            watcher.cancel()
            ready.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await watcher
            # mitmproxy leaves its listening sockets to process exit; close them now so the
            # port is free as soon as run() returns (tests start agents one after another).
            await proxy.addons.get("proxyserver").servers.update([])
            await asyncio.to_thread(self.api.stop)
            # Every event the proxy submitted is committed before run() returns.
            await asyncio.to_thread(self.services.events.close)

    def shutdown(self) -> None:
        """Stop the proxy; safe to call from any thread or a signal handler."""
        if self._master is not None:
            self._master.shutdown()

    async def reload_policy(self) -> bool:
        """Reload in a worker thread (big lists take a while); log the outcome."""
        result = await asyncio.to_thread(self.services.policy.reload)
        if result.applied:
            log.info("%s", result.message)
        else:
            log.error("%s", result.message)
        return result.applied

    def _install_signals(self) -> None:
        assert self._loop is not None
        for signum in (signal.SIGINT, signal.SIGTERM):
            self._loop.add_signal_handler(signum, self.shutdown)
        self._loop.add_signal_handler(
            signal.SIGHUP, lambda: asyncio.ensure_future(self.reload_policy())
        )

    async def _watch_policy(self) -> None:
        """Poll the policy file and its lists; cheap (a few stat calls) and portable."""
        while True:
            await asyncio.sleep(self.config.reload_interval)
            if self.services.policy.changed_on_disk():
                await self.reload_policy()

    async def _announce(self, on_ready: Callable[[Agent], None] | None) -> None:
        """Wait until the proxy listens, record its addresses, then tell the caller."""
        assert self._master is not None
        proxyserver = self._master.addons.get("proxyserver")
        while not (proxyserver.is_running and proxyserver.listen_addrs()):
            await asyncio.sleep(0.02)
        self.addresses = [(str(addr[0]), int(addr[1])) for addr in proxyserver.listen_addrs()]
        if on_ready is not None:
            on_ready(self)
