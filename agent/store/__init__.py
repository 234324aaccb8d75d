"""The agent's encrypted event store: key, schema, writer thread, retention and queries.

Typical use by the agent::

    store = open_store(data_dir)          # key from the OS keyring (or a 0600 file), checked
    writer = EventWriter(store.connect)   # the only writing connection, on its own thread
    writer.start()
    writer.submit(Event(...))             # from any thread; never blocks
    ...
    writer.close()

Readers (control API) open their own connection with `store.connect()` and use `queries`.
"""

from abhaya.agent.store.db import Recovery, Store, open_store
from abhaya.agent.store.errors import StoreError
from abhaya.agent.store.events import Event, EventKind, StoredEvent, url_without_query
from abhaya.agent.store.keys import KeyMode
from abhaya.agent.store.retention import RetentionPolicy
from abhaya.agent.store.writer import EventWriter

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
    "open_store",
    "url_without_query",
]
