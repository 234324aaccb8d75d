"""`abhaya install`, `abhaya uninstall` and `abhaya doctor`: the words around the plan.

Exit statuses: 0 done (doctor: every check passed), 1 failed (doctor: a problem found; install:
a step failed and was rolled back), 77 (sysexits' EX_NOPERM) not run as root; a dry run never
needs root.
"""

from __future__ import annotations

import io
import sys
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import TextIO

from abhaya.filters.policy.load import PolicyError
from abhaya.installer.backend import backend_for
from abhaya.installer.base import Check
from abhaya.installer.checkfile import CHECKS_FILE, save_checks
from abhaya.installer.host import Host, InstallError
from abhaya.installer.journal import Journal
from abhaya.installer.plan import Plan, Section, apply_plan, uninstall
from abhaya.installer.prepare import (
    check_accounts,
    check_readable_by_service,
    settings_for,
    this_os,
)
from abhaya.installer.record import read_record, record_step
from abhaya.installer.service.linux import SYSTEMD_RUNNING
from abhaya.installer.settings import InstallSettings, TargetOS

EXIT_OK = 0
EXIT_FAILED = 1
EXIT_NOT_ROOT = 77

NEEDS_ROOT = (
    "abhaya {command} changes the whole computer (a system account, a service, firewall "
    "rules, trusted certificates), so it needs administrator rights: run `sudo abhaya "
    "{command}`{extra}."
)


def full_plan(settings: InstallSettings, host: Host) -> Plan:
    """The backend's plan, then the record of what was installed."""
    plan = backend_for(settings.target).plan(settings)
    record = Section("Record the install", (record_step(settings, host.state_dir),))
    return Plan((*plan.sections, record))


def install(
    policy_file: Path | None,
    dry_run: bool,
    target: TargetOS | None = None,
    host: Host | None = None,
    out: TextIO | None = None,
) -> int:
    host = host or Host()
    out = out or sys.stdout  # read at call time: a caller may have replaced it
    target = target or this_os()
    try:
        settings = settings_for(target, policy_file)
    except PolicyError as err:
        print(f"abhaya install: the policy cannot be used, nothing was changed: {err}", file=out)
        return EXIT_FAILED
    plan = full_plan(settings, host)
    if dry_run:
        print(f"Abhaya would install on this {target.value} computer as follows:\n", file=out)
        print(plan.render(), file=out)
        if target is not this_os():
            print(f"(A plan only: the {target.value} backend cannot run here.)", file=out)
        return EXIT_OK
    if target is not this_os():
        print(
            f"abhaya install: the {target.value} plan can only be shown here; add --dry-run",
            file=out,
        )
        return EXIT_FAILED
    if host.euid() != 0:
        print(NEEDS_ROOT.format(command="install", extra=" (or add --dry-run to see the plan)"),
              file=out)  # fmt: skip
        return EXIT_NOT_ROOT
    if target is TargetOS.LINUX and not host.path(SYSTEMD_RUNNING).is_dir():
        print(
            "abhaya install: this computer's services are not run by systemd, which the "
            "Linux installer needs (Debian and Ubuntu use it); nothing was changed.",
            file=out,
        )
        return EXIT_FAILED
    missing = plan.missing_tools()
    if missing:
        print(
            f"abhaya install: this computer lacks {', '.join(missing)}; nothing was changed. "
            "On Debian and Ubuntu, `sudo apt-get install nftables libnss3-tools ca-certificates "
            "passwd systemd` provides them (scripts/install-system.sh does it for you).",
            file=out,
        )
        return EXIT_FAILED
    started = time.monotonic()
    try:
        check_accounts(settings)
        check_readable_by_service(settings)
        apply_plan(plan, host, progress=lambda line: print(f"  {line}", file=out, flush=True))
    except InstallError as err:
        print(f"abhaya install failed: {err}", file=out)
        return EXIT_FAILED
    took = time.monotonic() - started
    # The first checks, so the parent console has them before the timer's first run.
    doctor(host, io.StringIO(), save=True)
    print(
        f"\nAbhaya is installed and filtering (took {took:.1f} s). The proxy listens on "
        f"{settings.proxy_address}; check the computer any time with `sudo abhaya doctor`.",
        file=out,
    )
    return EXIT_OK


def remove(dry_run: bool, host: Host | None = None, out: TextIO | None = None) -> int:
    host = host or Host()
    out = out or sys.stdout  # read at call time: a caller may have replaced it
    if not dry_run and host.euid() != 0:
        print(NEEDS_ROOT.format(command="uninstall", extra=""), file=out)
        return EXIT_NOT_ROOT
    try:
        journal = Journal.load(host)
    except InstallError as err:
        print(f"abhaya uninstall: {err}", file=out)
        return EXIT_FAILED
    if not journal.records:
        print("Abhaya is not installed on this computer: nothing to remove.", file=out)
        return EXIT_OK
    if dry_run:
        print("abhaya uninstall would, in this order:", file=out)
        for record in reversed(journal.records):
            print(f"  {record.summary}", file=out)
        return EXIT_OK
    started = time.monotonic()
    outcome = uninstall(host, progress=lambda line: print(f"  {line}", file=out, flush=True))
    took = time.monotonic() - started
    if outcome.failed:
        print("\nSome parts could not be removed (run `sudo abhaya uninstall` again):", file=out)
        for line in outcome.failed:
            print(f"  {line}", file=out)
        return EXIT_FAILED
    print(f"\nAbhaya is removed from this computer (took {took:.1f} s).", file=out)
    return EXIT_OK


def doctor(host: Host | None = None, out: TextIO | None = None, save: bool = False) -> int:
    """Check the installed machine; with `save` (root: after an install and on a timer), also
    keep the results where the parent console reads them (`checkfile.py`)."""
    host = host or Host()
    out = out or sys.stdout  # read at call time: a caller may have replaced it
    try:
        settings = read_record(host)
    except InstallError as err:
        print(f"abhaya doctor: {err}", file=out)
        return EXIT_FAILED
    if settings is None:
        print(
            "Abhaya is not installed on this computer (no install record). Install it with "
            "`sudo abhaya install`.",
            file=out,
        )
        return EXIT_FAILED
    checks = run_checks(settings, host)
    if save:
        save_checks(host.path(CHECKS_FILE), checks, datetime.now(UTC))
    for check in checks:
        print(_shown(check), file=out)
    problems = [check for check in checks if not check.ok]
    if problems:
        print(f"\n{len(problems)} problem(s) found; each says how to fix it above.", file=out)
        if host.euid() != 0:
            print("Some checks need administrator rights: run `sudo abhaya doctor`.", file=out)
        return EXIT_FAILED
    print("\nEverything is in place: Abhaya is protecting this computer.", file=out)
    return EXIT_OK


def run_checks(settings: InstallSettings, host: Host) -> list[Check]:
    """Every concern's checks; a check that itself fails is a problem, not a crash."""
    try:
        return backend_for(settings.target).checks(settings, host)
    except Exception as err:  # noqa: BLE001 - doctor reports, it does not crash
        return [Check("the checks could run", False, str(err), "report this as a bug")]


def _shown(check: Check) -> str:
    mark = "ok     " if check.ok else "PROBLEM"
    line = f"[{mark}] {check.name}"
    if check.detail and not check.ok:
        line += f"\n          found: {check.detail}"
    if check.fix and not check.ok:
        line += f"\n          fix:   {check.fix}"
    return line
