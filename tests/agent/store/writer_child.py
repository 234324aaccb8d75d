"""Child process for the durability test in test_writer.py.

Opens the store in DATA_DIR (key file mode), writes generated events through the EventWriter as
fast as the queue takes them, and prints the last id of each batch after its COMMIT returned.
Prints "ready" once the writer runs, and "recovered" if the store had to be replaced (which the
test treats as a failure).  It never stops by itself: the test kills it with SIGKILL.
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


def main(data_dir: Path) -> None:
    keyring.set_keyring(keyring.backends.fail.Keyring())
    store = open_store(data_dir)
    if store.recovery is not None:
        print(f"recovered: {store.recovery.reason}", flush=True)
    writer = EventWriter(
        store.connect, batch_size=200, batch_window=0.005, retention=None, on_commit=_report
    )
    writer.start()
    print("ready", flush=True)
    n = 0
    while True:
        for _ in range(50):
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


if __name__ == "__main__":
    main(Path(sys.argv[1]))
