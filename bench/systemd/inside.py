"""The part of bench/systemd/run.sh that runs inside the container, as its root."""

from __future__ import annotations

import hashlib
import os
import signal
import statistics
import subprocess
import sys
import time
from pathlib import Path

from abhaya.agent.store import open_store
from abhaya.agent.store.alerts import list_alerts
from abhaya.installer.service.wait import proxy_answers

ADDRESS = "127.0.0.1:8080"


def timed(*argv: str) -> float:
    started = time.monotonic()
    done = subprocess.run(argv, capture_output=True, text=True, check=False)
    if done.returncode != 0:
        raise SystemExit(f"{' '.join(argv)} failed:\n{done.stdout}\n{done.stderr}")
    return time.monotonic() - started


def main_pid() -> int:
    said = subprocess.run(
        ["systemctl", "show", "-p", "MainPID", "--value", "abhaya.service"],
        capture_output=True, text=True, check=True,
    ).stdout  # fmt: skip
    return int(said or 0)


def snapshot() -> dict[str, str]:
    seen: dict[str, str] = {}
    for top in ("/etc", "/var/lib", "/usr/local", "/home"):
        for folder, dirs, files in os.walk(top):
            for name in dirs + files:
                path = os.path.join(folder, name)
                info = os.lstat(path)
                if os.path.islink(path):
                    what = "-> " + os.readlink(path)
                elif os.path.isfile(path):
                    with open(path, "rb") as handle:
                        what = hashlib.sha256(handle.read()).hexdigest()
                else:
                    what = "folder"
                seen[path] = f"{info.st_mode:o} {info.st_uid}:{info.st_gid} {what}"
    return seen


def main() -> None:
    abhaya, runs = sys.argv[1], int(sys.argv[2])
    print(f"install to filtering: {timed(abhaya, 'install'):.1f} s (target 30 s)")
    doctor = subprocess.run([abhaya, "doctor"], capture_output=True, text=True, check=False)
    print(f"doctor: exit {doctor.returncode}, {doctor.stdout.count('[ok')} checks ok")
    gaps = []
    for _ in range(runs):
        time.sleep(1.0)
        old = main_pid()
        killed = time.monotonic()
        os.kill(old, signal.SIGKILL)
        while main_pid() in (0, old) or proxy_answers(ADDRESS, timeout=0.5) is None:
            time.sleep(0.01)
        gaps.append(time.monotonic() - killed)
    print(
        f"SIGKILL to filtering again under systemd, {runs} runs: median "
        f"{statistics.median(gaps):.2f} s, min {min(gaps):.2f} s, max {max(gaps):.2f} s "
        "(target 2 s)"
    )
    os.environ["PYTHON_KEYRING_BACKEND"] = "keyring.backends.fail.Keyring"
    alerts = list_alerts(open_store(Path("/var/lib/abhaya")).connect())
    print(f"gap alerts recorded: {sum('gap' in str(a) for a in alerts)} of {runs}")
    print(f"uninstall: {timed(abhaya, 'uninstall'):.1f} s (target 10 s)")
    first = snapshot()
    timed(abhaya, "install")
    print(f"second cycle: uninstall {timed(abhaya, 'uninstall'):.1f} s")
    second = snapshot()
    changed = sorted(p for p in set(first) | set(second) if first.get(p) != second.get(p))
    print(f"left changed by a second install and uninstall: {changed or 'nothing'}")


if __name__ == "__main__":
    main()
