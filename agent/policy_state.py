"""The policy in force, and safe replacement of it.

A reload compiles the new policy completely before anything changes; only a whole, valid
policy replaces the old one (a single reference assignment, so requests in flight see either
the old or the new policy, never a mix).  An invalid file leaves the running policy in force.
"""

from __future__ import annotations

import contextlib
import logging
import os
import stat
import tempfile
import threading
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from abhaya.filters.policy.compile import (
    CompiledPolicy,
    ScorerLoader,
    compile_policy,
    load_policy,
)
from abhaya.filters.policy.load import PolicyError, parse_policy

log = logging.getLogger(__name__)

Signature = tuple[tuple[str, int, int], ...]


@dataclass(frozen=True, slots=True)
class ReloadResult:
    applied: bool
    message: str


class PolicyState:
    """Owns the compiled policy and knows which files it was built from."""

    def __init__(
        self,
        path: Path | None,
        cache_dir: Path | None,
        check: Callable[[CompiledPolicy], None] = lambda compiled: None,
        scorer: ScorerLoader | None = None,
        installed: Callable[[], object] = lambda: None,
    ) -> None:
        """`check` is the agent's own validation on top of the policy model's (for example,
        that the jurisdiction has a page pack); it raises PolicyError to refuse a policy.
        `scorer` loads the query model when a policy turns it on.  `installed` is called
        after a new policy is in force (the agent settles its heap, `agent.heap`)."""
        self._path = path
        self._cache_dir = cache_dir
        self._scorer = scorer
        self._check = check
        self._installed = installed
        self._lock = threading.Lock()  # one reload at a time; readers never take it
        self._current = self._load()
        self._signature = self._disk_signature(self._current)

    @property
    def current(self) -> CompiledPolicy:
        return self._current

    @property
    def path(self) -> Path | None:
        """The policy file, or None when the embedded default policy is in force."""
        return self._path

    def replace_text(self, text: str) -> CompiledPolicy:
        """Make `text` the policy file's content and the policy in force, or change nothing.

        The text is parsed and compiled completely (lists are resolved beside the policy file)
        and passes the agent's own check before the file is touched; then it is written to a
        temporary file in the same folder and renamed over the policy (atomic on one file
        system), and the compiled policy is swapped in.  Raises PolicyError when the text is
        refused, and LookupError when there is no policy file (the embedded default policy is
        part of the installed package and is never written).
        """
        path = self._path
        if path is None:
            raise LookupError("the agent runs on the embedded default policy, which has no file")
        with self._lock:
            compiled = compile_policy(
                parse_policy(text, str(path)), path, self._cache_dir, self._scorer
            )
            self._check(compiled)
            _write_atomically(path, text)
            self._current = compiled
            self._signature = self._disk_signature(compiled)
        self._installed()
        return compiled

    def changed_on_disk(self) -> bool:
        """Whether the policy file or any list it names changed since the last load."""
        return self._disk_signature(self._current) != self._signature

    def reload(self) -> ReloadResult:
        """Load the policy file again; keep the old policy if the new one is refused."""
        with self._lock:
            try:
                fresh = self._load()
            except PolicyError as err:
                # Remember this version of the files so a broken file is reported once, not
                # every time the watcher looks.
                self._signature = self._disk_signature(self._current)
                return ReloadResult(False, f"new policy refused, the previous one stays: {err}")
            self._current = fresh
            self._signature = self._disk_signature(fresh)
            self._installed()
            skipped = f" ({len(fresh.problems)} list lines skipped)" if fresh.problems else ""
            notes = "".join(f"; note: {notice}" for notice in fresh.notices)
            return ReloadResult(True, f"policy reloaded from {fresh.source}{skipped}{notes}")

    def _load(self) -> CompiledPolicy:
        compiled = load_policy(self._path, self._cache_dir, self._scorer)
        self._check(compiled)
        return compiled

    def _disk_signature(self, compiled: CompiledPolicy) -> Signature:
        return tuple(_stat(path) for path in compiled.inputs)


def _stat(path: Path) -> tuple[str, int, int]:
    try:
        info = path.stat()
    except OSError:
        return (str(path), -1, -1)
    return (str(path), info.st_mtime_ns, info.st_size)


def _write_atomically(path: Path, text: str) -> None:
    """Write via a temporary file in the same folder and `os.replace`, so a reader (or a crash)
    sees the old file or the new one, never half of one."""
    fd, temporary = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    done = False
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as file:
            file.write(text)
            file.flush()
            os.fsync(file.fileno())
        with contextlib.suppress(FileNotFoundError):  # keep the old file's permissions
            os.chmod(temporary, stat.S_IMODE(path.stat().st_mode))
        os.replace(temporary, path)
        done = True
    finally:
        if not done:
            os.unlink(temporary)
