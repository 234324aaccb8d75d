"""Child process for the durability tests in test_writer.py and test_highwater.py.

Opens the store in DATA_DIR (key file mode), writes generated events through the EventWriter
(with the store's high-water mark, as the agent does) as fast as the queue takes them, and
prints the last id of each batch after its COMMIT returned.  Prints "ready" once the writer
runs, and "recovered" if the store had to be replaced (which the tests treat as a failure).
Given COUNT, it writes that many events, waits until they are committed and the mark records
them, and prints "marked".  It never stops by itself: the test kills it with SIGKILL.
"""

from __future__ import annotations

import sys
import time
from datetime import UTC, datetime
from pathlib import Path

import keyring
import keyring.backends.fail

from abhaya.agent.store import Event, EventKind, EventWriter, open_store


def _report(last_id: int) -> None:
    sys.stdout.write(f"{last_id}\n")
    sys.stdout.flush()


def main(data_dir: Path, count: int | None) -> None:
    keyring.set_keyring(keyring.backends.fail.Keyring())
    store = open_store(data_dir)
    if store.recovery is not None:
        print(f"recovered: {store.recovery.reason}", flush=True)
    writer = EventWriter(
        store.connect,
        batch_size=200,
        batch_window=0.005,
        retention=None,
        on_commit=_report,
        high_water=store.high_water,
    )
    writer.start()
    print("ready", flush=True)
    n = 0
    while count is None or n < count:
        for _ in range(50 if count is None else min(50, count - n)):
            n += 1
            writer.submit(
                Event(
                    time=datetime.now(UTC),
                    kind=EventKind.VERDICT,
                    category="gambling",
                    action="block",
                    domain=f"site{n % 97}.example",
                    url=f"https://site{n % 97}.example/p/{n}",
                    detail="x" * (n % 300),
                )
            )
        time.sleep(0.002)
    writer.flush()
    while store.high_water.read() != writer.last_committed_id:
        time.sleep(0.05)
    print("marked", flush=True)
    time.sleep(3600)


if __name__ == "__main__":
    main(Path(sys.argv[1]), int(sys.argv[2]) if len(sys.argv) > 2 else None)
