"""How long `abhaya install` takes to filtering, and `abhaya uninstall` to a machine as it was,
on this (Debian 12) machine, and whether the uninstall really leaves nothing behind.

    sudo .venv/bin/python bench/install/run.py [--runs N]

It changes this machine for real (an account, /etc, the trust stores, /var/lib) and undoes it
each run, so run it by hand on a machine you may change, never beside the test suite (whose
Chromium tests would see the browser policies).  It runs in a network namespace of its own
(`unshare --net`), so the firewall rules it loads never touch the machine's own traffic.

systemd is not the init system here, so the service concern is replaced by a stand-in that
starts `abhaya run` the way the unit does (its environment, as root: this checkout's Python
lives under /root) and removes it on uninstall; the wait for the proxy is the install's own.
Everything else is the real Linux plan.  Reports the median and worst of each, and every path
under /etc, /var/lib, /usr/local/share/ca-certificates, /opt and the homes' .pki that differs
after the uninstall (useradd's own backups, /etc/passwd- and the like, are listed apart).
"""

from __future__ import annotations

import argparse
import hashlib
import os
import re
import shlex
import shutil
import statistics
import subprocess
import sys
import time
from pathlib import Path

from abhaya.installer.account.linux import AccountLinux
from abhaya.installer.browsers.linux import BrowsersLinux
from abhaya.installer.ca.linux import CaTrustLinux
from abhaya.installer.commands import full_plan
from abhaya.installer.host import Host
from abhaya.installer.plan import Plan, Section, apply_plan, uninstall
from abhaya.installer.prepare import settings_for
from abhaya.installer.routing.linux import RoutingLinux
from abhaya.installer.service.unit import ENVIRONMENT
from abhaya.installer.service.wait import WaitForProxy
from abhaya.installer.settings import InstallSettings, TargetOS
from abhaya.installer.steps import RunCommand

WATCHED = ("/etc", "/var/lib", "/usr/local/share/ca-certificates", "/opt", "/home")
PIDFILE = "/run/abhaya-bench-agent.pid"


def stand_in_service(settings: InstallSettings) -> Section:
    environment = " ".join(f"{key}={shlex.quote(value)}" for key, value in ENVIRONMENT)
    start = (
        f"env {environment} nohup {shlex.join(settings.run_command)} "
        f">/run/abhaya-bench-agent.log 2>&1 & echo $! > {PIDFILE}"
    )
    stop = f"kill $(cat {PIDFILE}) && while kill -0 $(cat {PIDFILE}) 2>/dev/null; do sleep 0.05; done; rm -f {PIDFILE} /run/abhaya-bench-agent.log"  # noqa: E501
    return Section(
        "The agent (a stand-in for systemd)",
        (
            RunCommand("bench-agent", ("sh", "-c", start), "start the agent", ("sh", "-c", stop)),
            WaitForProxy(settings.proxy_address, "abhaya.service", 30.0),
        ),
    )


def bench_plan(settings: InstallSettings, host: Host) -> Plan:
    def section(concern: object) -> Section:
        title = concern.title  # type: ignore[attr-defined]
        return Section(title, tuple(concern.steps(settings)))  # type: ignore[attr-defined]

    sections = [section(c) for c in (AccountLinux(), CaTrustLinux(), BrowsersLinux())]
    sections.append(stand_in_service(settings))
    sections.append(section(RoutingLinux()))
    record = full_plan(settings, host).sections[-1]
    return Plan((*sections, record))


def snapshot() -> dict[str, str]:
    seen: dict[str, str] = {}
    for top in WATCHED:
        for folder, dirs, files in os.walk(top):
            for name in (*dirs, *files):
                path = Path(folder) / name
                if top == "/home" and ".pki" not in path.parts:
                    continue
                info = path.lstat()
                if path.is_symlink():
                    content = "-> " + os.readlink(path)
                elif path.is_file():
                    content = hashlib.sha256(path.read_bytes()).hexdigest()
                else:
                    content = "folder"
                seen[str(path)] = f"{info.st_mode:o} {info.st_uid}:{info.st_gid} {content}"
    # Java's own keystore, fed by update-ca-certificates' hook: its entries, not its bytes
    # (the keystore file is rewritten whenever the hook runs).
    java = Path("/etc/ssl/certs/java/cacerts")
    if java.exists() and shutil.which("keytool"):
        listed = subprocess.run(
            ["keytool", "-list", "-keystore", str(java), "-storepass", "changeit"],
            capture_output=True, text=True, check=False,
        ).stdout  # fmt: skip
        seen[str(java)] = "aliases " + " ".join(sorted(re.findall(r"^(\S+?),", listed, re.M)))
    return seen


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--runs", type=int, default=3)
    args = parser.parse_args()
    if os.geteuid() != 0:
        print("run as root: the bench installs for real", file=sys.stderr)
        return 77
    if os.environ.get("ABHAYA_BENCH_NETNS") != "1":
        os.environ["ABHAYA_BENCH_NETNS"] = "1"
        command = "ip link set lo up && exec " + shlex.join([sys.executable, *sys.argv])
        return subprocess.call(["unshare", "--net", "sh", "-c", command])
    host = Host()
    settings = settings_for(TargetOS.LINUX, None, (sys.executable, "-m", "abhaya.agent.cli"))
    plan = bench_plan(settings, host)
    installs: list[float] = []
    removals: list[float] = []
    differences: set[str] = set()
    for run in range(args.runs):
        before = snapshot()
        started = time.monotonic()
        apply_plan(plan, host)
        installs.append(time.monotonic() - started)
        started = time.monotonic()
        outcome = uninstall(host)
        removals.append(time.monotonic() - started)
        if outcome.failed:
            print(f"run {run + 1}: uninstall failed: {outcome.failed}")
        after = snapshot()
        changed = {p for p in set(before) | set(after) if before.get(p) != after.get(p)}
        differences |= changed
        print(f"run {run + 1}: install {installs[-1]:.2f} s, uninstall {removals[-1]:.2f} s")
    print(f"install to filtering: median {statistics.median(installs):.2f} s, "
          f"worst {max(installs):.2f} s (target 30 s)")  # fmt: skip
    print(f"uninstall: median {statistics.median(removals):.2f} s, "
          f"worst {max(removals):.2f} s (target 10 s)")  # fmt: skip
    backups = sorted(p for p in differences if p.endswith("-") and p.startswith("/etc/"))
    others = sorted(differences - set(backups))
    print(f"left changed after uninstall: {others or 'nothing'}")
    print(f"useradd's own backup copies rewritten: {backups or 'none'}")
    return 0 if not others else 1


if __name__ == "__main__":
    sys.exit(main())
