"""The one record of a bad input line, shared by list, keyword and labelled files.

In a list or keyword file a bad line never stops a load; it is skipped and reported with its
file and line, so the parent or IT admin can fix it.  A labelled evaluation file is refused
whole (`LineError`), read through the one JSON-lines reader here.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True)
class LineProblem:
    """One line that could not be used, with where it is and why."""

    file: str
    line: int
    text: str
    message: str

    def __str__(self) -> str:
        return f"{self.file}:{self.line}: {self.message}: {self.text}"


class LineError(ValueError):
    """A line of a labelled file that is not what its format says (evaluation sets): unlike a
    list line it refuses the whole file, since a measurement on half a file would mislead."""

    def __init__(self, problem: LineProblem) -> None:
        super().__init__(str(problem))
        self.problem = problem


@dataclass(frozen=True, slots=True)
class JsonLine:
    """One object of a JSON-lines file, with where it came from."""

    source: str
    number: int
    text: str
    record: dict[str, Any]

    def problem(self, message: str) -> LineProblem:
        return LineProblem(self.source, self.number, self.text[:40], message)


def json_objects(text: str, source: str, error: type[LineError]) -> Iterator[JsonLine]:
    """Each non-blank line of a JSON-lines file as an object; a line that is not JSON, or not
    an object, raises `error` naming the file and line."""
    for number, line in enumerate(text.splitlines(), start=1):
        if not line.strip():
            continue
        try:
            record = json.loads(line)
        except json.JSONDecodeError as err:
            raise error(LineProblem(source, number, line[:40], f"not JSON: {err}")) from err
        if not isinstance(record, dict):
            raise error(LineProblem(source, number, line[:40], "not a JSON object"))
        yield JsonLine(source, number, line, record)
