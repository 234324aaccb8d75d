"""A plan: the steps of an install in the order they run, grouped by concern, and the two
ways to carry it out (apply, with rollback on failure) or take it back (uninstall)."""

from __future__ import annotations

import shutil
from collections.abc import Callable
from dataclasses import dataclass, field

from abhaya.installer.host import Host, InstallError
from abhaya.installer.journal import Journal
from abhaya.installer.registry import undo_record
from abhaya.installer.steps import Step, Undo

Progress = Callable[[str], None]


def _quiet(_: str) -> None:
    return None


@dataclass(frozen=True, slots=True)
class Section:
    title: str
    steps: tuple[Step, ...]


@dataclass(frozen=True, slots=True)
class Plan:
    sections: tuple[Section, ...]

    @property
    def steps(self) -> list[Step]:
        return [step for section in self.sections for step in section.steps]

    def render(self) -> str:
        """The plan as `--dry-run` prints it: every file, rule and command, in order."""
        lines: list[str] = []
        number = 0
        for section in self.sections:
            lines.append(f"== {section.title} ==")
            for step in section.steps:
                number += 1
                first, *rest = step.describe()
                lines.append(f"{number:>3}. {first}")
                lines += [f"     {line}" for line in rest]
            lines.append("")
        return "\n".join(lines).rstrip() + "\n"

    def missing_tools(self) -> list[str]:
        """Programs the plan runs that this computer lacks, asked before anything changes.
        A step names its programs in an optional `tools` property (the generic steps do)."""
        needed: list[str] = []
        for step in self.steps:
            needed += [tool for tool in getattr(step, "tools", ()) if tool not in needed]
        return [tool for tool in needed if shutil.which(tool) is None]

    def check_keys(self) -> None:
        """Two steps with one key would share one journal record: a bug in a backend."""
        seen: set[str] = set()
        for step in self.steps:
            if step.key in seen:
                raise ValueError(f"two steps of the plan have the key {step.key}")
            seen.add(step.key)


@dataclass(slots=True)
class Outcome:
    """What an apply or an uninstall did, for the command's output."""

    done: list[str] = field(default_factory=list)
    failed: list[str] = field(default_factory=list)


def apply_plan(plan: Plan, host: Host, progress: Progress = _quiet) -> Outcome:
    """Apply every step in order.  A step that fails undoes, in reverse, every step this run
    added (steps kept from an earlier install stay), then raises InstallError saying which
    step failed and what was rolled back.  Records of an earlier install that the new plan
    no longer has (a browser since removed, say) are undone at the end."""
    plan.check_keys()
    journal = Journal.load(host)
    added: list[Undo] = []
    outcome = Outcome()
    for step in plan.steps:
        previous = journal.find(step.key)
        title = step.describe()[0]
        progress(title)
        try:
            record = step.apply(host, previous)
        except Exception as err:
            rolled_back = _roll_back(host, journal, added)
            if not journal.records:  # a first install rolled back whole leaves no record
                journal.remove()
            message = f"{title}: {err}"
            if rolled_back:
                message += "\nRolled back: " + "; ".join(rolled_back)
            raise InstallError(message) from err
        journal.put(record)
        if previous is None:
            added.append(record)
        outcome.done.append(title)
    wanted = {step.key for step in plan.steps}
    for stale in reversed([r for r in journal.records if r.key not in wanted]):
        progress(f"no longer needed: {stale.summary}")
        undo_record(host, stale)
        journal.drop(stale.key)
    return outcome


def _roll_back(host: Host, journal: Journal, added: list[Undo]) -> list[str]:
    done = []
    for record in reversed(added):
        try:
            undo_record(host, record)
        except Exception as err:  # noqa: BLE001 - keep undoing the rest; the record stays
            done.append(f"{record.summary} FAILED ({err})")
            continue
        journal.drop(record.key)
        done.append(record.summary)
    return done


def uninstall(host: Host, progress: Progress = _quiet) -> Outcome:
    """Undo every journal record, newest first.  One that fails is reported and kept in the
    journal, and the rest still run; running uninstall again retries what is left."""
    journal = Journal.load(host)
    outcome = Outcome()
    for record in reversed(list(journal.records)):
        progress(record.summary)
        try:
            undo_record(host, record)
        except Exception as err:  # noqa: BLE001 - every other record is still undone
            outcome.failed.append(f"{record.summary}: {err}")
            continue
        journal.drop(record.key)
        outcome.done.append(record.summary)
    if not journal.records:
        journal.remove()
    return outcome
