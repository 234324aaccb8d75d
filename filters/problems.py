"""The one record of a skipped input line, shared by list and keyword files.

A bad line never stops a load; it is skipped and reported with its file and line, so the
parent or IT admin can fix it.  Lists and keyword files report the same way.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class LineProblem:
    """One line that could not be used, with where it is and why."""

    file: str
    line: int
    text: str
    message: str

    def __str__(self) -> str:
        return f"{self.file}:{self.line}: {self.message}: {self.text}"
