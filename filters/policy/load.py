"""Reading a policy file: TOML syntax, then the typed model, with errors a person can act on.

Every failure becomes one `PolicyError` that names the file and, where the TOML parser or the
model can tell, the line or the setting at fault.  Callers keep the policy in force on error.
"""

from __future__ import annotations

import importlib.resources
import re
import tomllib
from pathlib import Path

from pydantic import ValidationError

from abhaya.filters.policy.model import Policy

DEFAULT_POLICY_NAME = "default_policy.toml"


class PolicyError(Exception):
    """A policy that cannot be used; the message says which file, where and why."""

    def __init__(self, path: str, problems: list[str]) -> None:
        self.path = path
        self.problems = problems
        super().__init__(f"{path}: " + "; ".join(problems))


def default_policy_path() -> Path:
    """The policy embedded in the package (its lists sit beside it)."""
    resource = importlib.resources.files("abhaya.filters") / "data" / DEFAULT_POLICY_NAME
    return Path(str(resource))


def read_policy(path: Path) -> Policy:
    """Parse and validate a policy file; raise PolicyError on any problem."""
    try:
        text = path.read_text(encoding="utf-8-sig")
    except (OSError, UnicodeDecodeError) as err:
        raise PolicyError(str(path), [f"cannot read the policy file: {err}"]) from err
    return parse_policy(text, str(path))


def parse_policy(text: str, name: str) -> Policy:
    """Parse policy TOML text; `name` is used in error messages."""
    try:
        raw = tomllib.loads(text)
    except tomllib.TOMLDecodeError as err:
        raise PolicyError(name, [f"not valid TOML: {err}"]) from err
    try:
        return Policy.model_validate(raw)
    except ValidationError as err:
        lines = text.splitlines()
        problems = []
        for issue in err.errors():
            where = ".".join(str(part) for part in issue["loc"]) or "(top level)"
            line = _line_of(lines, issue["loc"])
            at = f"line {line}: " if line else ""
            message = issue["msg"]
            if issue["type"] == "enum":  # name the value that is not one of the choices
                message = (
                    f"{issue['input']!r} is not allowed here; {message[0].lower()}{message[1:]}"
                )
            problems.append(f"{at}{where}: {message}")
        raise PolicyError(name, problems) from err


def _line_of(lines: list[str], loc: tuple[int | str, ...]) -> int | None:
    """Best-effort line number of the setting at `loc`.

    TOML parsers do not keep positions, so this finds the last key of `loc` inside the table
    named by the keys before it.  It returns None rather than guess when the layout is unusual
    (dotted keys); the dotted setting name is always reported anyway.  A key inside an
    inline table is placed on the line of the inline table.
    """
    keys = [part for part in loc if isinstance(part, str)]
    if not keys:
        return None
    *table, key = keys
    header = re.compile(r"^\s*\[\[?\s*([^\]]+?)\s*\]\]?\s*(#.*)?$")
    assignment = re.compile(rf"^\s*\"?{re.escape(key)}\"?\s*=")
    current: list[str] = []
    for number, line in enumerate(lines, start=1):
        found = header.match(line)
        if found:
            current = [part.strip().strip('"') for part in found.group(1).split(".")]
            continue
        if (
            assignment.match(line)
            and current == table[: len(current)]
            and (len(current) == len(table) or not table)
        ):
            return number
    # The key may be a table of its own ([profiles.kid] with a bad value inside).
    target = ".".join(keys)
    for number, line in enumerate(lines, start=1):
        found = header.match(line)
        if found and ".".join(p.strip().strip('"') for p in found.group(1).split(".")) == target:
            return number
    # Or a key of an inline table (`keywords = { words = [...] }`): the line that holds it.
    return _line_of(lines, tuple(keys[:-1])) if len(keys) > 2 else None
