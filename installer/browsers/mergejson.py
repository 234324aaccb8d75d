"""Abhaya's keys merged into a policies.json that a school may already have.

Firefox reads ONE system policies file (on Linux /etc/firefox/policies/policies.json, which
replaces the install folder's distribution/policies.json when it exists: JSONPoliciesProvider.
_getLocalConfigurationFile in Firefox's EnterprisePoliciesParent), so Abhaya cannot add a file
of its own beside the school's as it does for Chrome.  The step reads the file when it APPLIES
(not when the plan is made), sets Abhaya's top-level policies in it, and keeps the original
bytes in the install's state folder; undo puts them back byte for byte.  A file that is not
valid JSON is refused and left exactly as it is: merging into a guess would lose the school's
settings.

If someone edited the file after the install, undo cannot put the original back without losing
that edit; it then takes back only Abhaya's keys (each restored to the school's own value, or
removed where the school had none) and keeps the rest.
"""

from __future__ import annotations

import hashlib
import json
import os
from dataclasses import dataclass, field
from pathlib import Path, PurePosixPath
from typing import ClassVar

from abhaya.installer.host import Host, InstallError
from abhaya.installer.steps import JsonValue, Undo

PolicyMap = dict[str, JsonValue]


def read_policies(path: Path, shown: PurePosixPath) -> dict[str, JsonValue] | None:
    """The parsed file (None when there is none); InstallError if it is not a policies file."""
    try:
        raw = path.read_bytes()
    except FileNotFoundError:
        return None
    try:
        parsed = json.loads(raw.decode("utf-8"))
    except (UnicodeDecodeError, ValueError) as err:
        raise InstallError(
            f"{shown} is not valid JSON ({err}); Abhaya left it untouched. Fix the file (or move "
            "it away) and run the install again"
        ) from None
    if not isinstance(parsed, dict) or not isinstance(parsed.get("policies", {}), dict):
        raise InstallError(
            f'{shown} is not a browser policies file (expected {{"policies": {{...}}}}); Abhaya '
            "left it untouched. Fix the file (or move it away) and run the install again"
        )
    return parsed


def merged(document: dict[str, JsonValue], ours: PolicyMap) -> dict[str, JsonValue]:
    """`document` with Abhaya's policies set.  A school's own certificates stay installed: the
    Certificates policy is joined, not replaced."""
    theirs = dict(_policies(document))
    for key, value in ours.items():
        old = theirs.get(key)
        if key == "Certificates" and isinstance(old, dict) and isinstance(value, dict):
            joined: dict[str, JsonValue] = {**old, **value}
            old_install, new_install = old.get("Install"), value.get("Install")
            if isinstance(old_install, list) and isinstance(new_install, list):
                joined["Install"] = old_install + [p for p in new_install if p not in old_install]
            theirs[key] = joined
        else:
            theirs[key] = value
    return {**document, "policies": theirs}


def _policies(document: dict[str, JsonValue]) -> PolicyMap:
    policies = document.get("policies", {})
    return policies if isinstance(policies, dict) else {}


def _reverted(document: dict[str, JsonValue], data: dict[str, JsonValue]) -> dict[str, JsonValue]:
    """`document` with the keys an earlier apply set put back as the school had them."""
    policies = dict(_policies(document))
    originals = data.get("originals")
    absent = data.get("absent")
    if isinstance(originals, dict):
        policies.update(originals)
    if isinstance(absent, list):
        for key in absent:
            policies.pop(str(key), None)
    return {**document, "policies": policies}


def _encode(document: dict[str, JsonValue]) -> bytes:
    return (json.dumps(document, indent=2, ensure_ascii=False) + "\n").encode("utf-8")


def _write(target: Path, content: bytes, mode: int) -> None:
    target.parent.mkdir(parents=True, exist_ok=True)
    temporary = target.with_name(f".{target.name}.abhaya-new")
    fd = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, mode)
    with os.fdopen(fd, "wb") as handle:
        handle.write(content)
    os.chmod(temporary, mode)
    os.replace(temporary, target)


@dataclass(frozen=True, slots=True)
class MergePolicies:
    kind: ClassVar[str] = "policies-json"
    path: PurePosixPath
    policies: PolicyMap = field(hash=False)
    why: str
    mode: int = 0o644

    @property
    def key(self) -> str:
        return f"policies-json:{self.path}"

    def describe(self) -> list[str]:
        lines = [
            self.why,
            f"  merge into {self.path} (made if missing; a school's own keys are kept, the "
            "original is put back on uninstall):",
        ]
        shown = json.dumps({"policies": self.policies}, indent=2).splitlines()
        return lines + [f"  | {line}" for line in shown]

    def apply(self, host: Host, previous: Undo | None) -> Undo:
        target = host.path(self.path)
        current = read_policies(target, self.path)  # refuses a broken file before any change
        backup: JsonValue = None
        if previous is not None:
            backup = previous.data.get("backup")
            base = _reverted(current or {}, previous.data)
        else:
            base = current or {}
            if current is not None:
                saved = _backup_path(host, self.path)
                saved.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
                saved.write_bytes(target.read_bytes())
                os.chmod(saved, target.stat().st_mode & 0o7777)
                backup = str(saved)
        before = _policies(base)
        content = _encode(merged(base, self.policies))
        _write(target, content, self.mode)
        summary = f"put back the original {self.path}" if backup else f"remove {self.path}"
        return Undo(
            self.kind,
            self.key,
            summary,
            {
                "path": str(self.path),
                "backup": backup,
                "written": hashlib.sha256(content).hexdigest(),
                "originals": {k: before[k] for k in self.policies if k in before},
                "absent": [k for k in self.policies if k not in before],
            },
        )

    @classmethod
    def undo(cls, host: Host, record: Undo) -> None:
        shown = PurePosixPath(str(record.data["path"]))
        target = host.path(shown)
        backup = record.data.get("backup")
        saved = Path(backup) if isinstance(backup, str) else None
        if not target.exists() or _digest(target) == record.data.get("written"):
            if saved is not None and saved.exists():
                os.replace(saved, target)
            elif saved is None:
                target.unlink(missing_ok=True)
            return
        # Edited since the install: keep the edit, take back only Abhaya's keys.
        current = read_policies(target, shown)
        if current is not None:
            _write(target, _encode(_reverted(current, record.data)), target.stat().st_mode & 0o777)
        if saved is not None:
            saved.unlink(missing_ok=True)


def _digest(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def _backup_path(host: Host, path: PurePosixPath) -> Path:
    """Beside WriteFile's originals, under a name of its own."""
    digest = hashlib.sha256(f"merge:{path}".encode()).hexdigest()[:16]
    return host.path(host.state_dir / "originals" / f"{digest}-{path.name}")
