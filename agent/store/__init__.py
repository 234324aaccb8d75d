"""The agent's encrypted event store: key, schema, writer thread, retention and queries.

Typical use by the agent::

    store = open_store(data_dir)          # key from the OS keyring (or a 0600 file), checked
    writer = EventWriter(                 # the only writing connection, on its own thread
        store.connect, high_water=store.high_water, on_fatal=stop_the_agent_loudly
    )
    writer.start()
    writer.submit(Event(...))             # from any thread; never blocks
    writer.health()                       # alive, restarts, dropped, failed, last error
    ...
    writer.close()

Readers (control API) open their own connection with `store.connect()` and use `queries`.
The parent PIN and the pause end live outside the database in `store.security` (sealed
`security.json`); `reset_pin(data_dir)` is the administrator's way back when it is refused.
Every file and folder the store writes is 0600 / 0700.
"""

from abhaya.agent.store.db import Recovery, Store, open_store
from abhaya.agent.store.errors import StoreError
from abhaya.agent.store.events import Event, EventKind, StoredEvent, url_without_query
from abhaya.agent.store.keys import KeyMode
from abhaya.agent.store.pin_reset import reset_pin
from abhaya.agent.store.retention import RetentionPolicy
from abhaya.agent.store.writer import EventWriter, WriterHealth

__all__ = [
    "Event",
    "EventKind",
    "EventWriter",
    "KeyMode",
    "Recovery",
    "RetentionPolicy",
    "Store",
    "StoreError",
    "StoredEvent",
    "WriterHealth",
    "open_store",
    "reset_pin",
    "url_without_query",
]
