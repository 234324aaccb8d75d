"""Measuring the image classifier on a labelled folder (`abhaya eval images DIR --labels CSV`).

For organisations that hold lawful labelled sets: the set stays where it is, and the labels
file is a CSV with a header line ``path,label``: ``path`` relative to the folder (it may not
leave it), ``label`` 1 or ``explicit`` for an explicit image, 0 or ``benign`` for a benign one.
A wrong line refuses the whole file with its line number (a measurement on half a set would
mislead).  Images that cannot be decoded or are too small to scan are counted apart, not
scored; the figures (precision, recall, false-positive rate) are over the scored images, at the
chosen threshold and along a sweep of thresholds.

Pure: parsing and arithmetic only; the caller decodes and scores.
"""

from __future__ import annotations

import csv
import io
from dataclasses import dataclass
from pathlib import Path, PurePosixPath

from abhaya.filters.problems import LineError, LineProblem

__all__ = [
    "SWEEP",
    "ImageReport",
    "LabelFileError",
    "LabelledImage",
    "Scored",
    "evaluate",
    "parse_labels",
]

SWEEP = tuple(round(0.1 + 0.05 * step, 2) for step in range(18))  # 0.10, 0.15, ..., 0.95
_LABELS = {"1": True, "explicit": True, "0": False, "benign": False}


class LabelFileError(LineError):
    """A line of the labels file that is not ``path,label``; names the file, line and reason."""


@dataclass(frozen=True, slots=True)
class LabelledImage:
    path: Path
    explicit: bool


def parse_labels(text: str, source: str, folder: Path) -> list[LabelledImage]:
    """The labelled images of a CSV file; paths resolved inside `folder`."""
    rows = list(csv.reader(io.StringIO(text)))
    if not rows or [cell.strip().lower() for cell in rows[0]] != ["path", "label"]:
        shown = ",".join(rows[0]) if rows else ""
        raise LabelFileError(LineProblem(source, 1, shown[:40], "the header must be path,label"))
    out: list[LabelledImage] = []
    for number, row in enumerate(rows[1:], start=2):
        if not row or not "".join(row).strip():
            continue
        shown = ",".join(row)[:40]
        if len(row) != 2:
            raise LabelFileError(LineProblem(source, number, shown, "expected path,label"))
        name, label = row[0].strip(), row[1].strip().lower()
        if label not in _LABELS:
            problem = "the label must be 1, 0, explicit or benign"
            raise LabelFileError(LineProblem(source, number, shown, problem))
        relative = PurePosixPath(name)
        if not name or relative.is_absolute() or ".." in relative.parts:
            problem = "the path must be relative to the folder and stay inside it"
            raise LabelFileError(LineProblem(source, number, shown, problem))
        out.append(LabelledImage(folder / relative, _LABELS[label]))
    return out


@dataclass(frozen=True, slots=True)
class Scored:
    image: LabelledImage
    score: float
    """The float model's score."""
    screened_clear: bool = False
    """The int8 screen's score stood at the threshold (`ImageClassifier.screen`): the proxy
    would have decided this image without the float model."""


@dataclass(frozen=True, slots=True)
class Figures:
    threshold: float
    precision: float
    recall: float
    false_positive_rate: float
    flagged: int

    def as_json(self) -> dict[str, float]:
        return {
            "threshold": self.threshold,
            "precision": round(self.precision, 4),
            "recall": round(self.recall, 4),
            "false_positive_rate": round(self.false_positive_rate, 4),
            "flagged": self.flagged,
        }


@dataclass(frozen=True)
class ImageReport:
    threshold: float
    at_threshold: Figures
    sweep: tuple[Figures, ...]
    explicit: int
    benign: int
    unscannable: dict[str, int]
    skipped: int
    screened_clear: int = 0
    screen_misses: int = 0
    """Images the float model flags at the threshold that the int8 screen let through (the
    proxy decides with the screen first): the figure that shows whether the screen's margin
    holds on this set."""

    def as_json(self) -> dict[str, object]:
        return {
            "scored": {"explicit": self.explicit, "benign": self.benign},
            "unscannable": dict(sorted(self.unscannable.items())),
            "skipped": self.skipped,
            "screen": {"clear": self.screened_clear, "misses": self.screen_misses},
            "at_threshold": self.at_threshold.as_json(),
            "sweep": [figures.as_json() for figures in self.sweep],
        }

    def table(self) -> str:
        lines = [
            f"scored: {self.explicit} explicit, {self.benign} benign; skipped (under 64×64): "
            f"{self.skipped}; unscannable: {sum(self.unscannable.values())}"
            + "".join(f"\n  {reason}: {n}" for reason, n in sorted(self.unscannable.items())),
            f"int8 screen at the threshold: {self.screened_clear} decided by it, "
            f"{self.screen_misses} of them flagged by the float model (misses)",
            "",
            "| threshold | precision | recall | false-positive rate | flagged |",
            "|---:|---:|---:|---:|---:|",
        ]
        for figures in (self.at_threshold, *self.sweep):
            mark = " (default)" if figures is self.at_threshold else ""
            lines.append(
                f"| {figures.threshold:.2f}{mark} | {figures.precision:.3f} | "
                f"{figures.recall:.3f} | {figures.false_positive_rate:.3f} | {figures.flagged} |"
            )
        return "\n".join(lines)


def figures(scored: list[Scored], threshold: float) -> Figures:
    """Precision (1.0 when nothing is flagged), recall and false-positive rate (0.0 with no
    image of the class) at `threshold`; an image is flagged at or above it."""
    hit = sum(1 for item in scored if item.image.explicit and item.score >= threshold)
    false = sum(1 for item in scored if not item.image.explicit and item.score >= threshold)
    explicit = sum(1 for item in scored if item.image.explicit)
    benign = len(scored) - explicit
    return Figures(
        threshold,
        hit / (hit + false) if hit + false else 1.0,
        hit / explicit if explicit else 0.0,
        false / benign if benign else 0.0,
        hit + false,
    )


def evaluate(
    scored: list[Scored], unscannable: dict[str, int], skipped: int, threshold: float
) -> ImageReport:
    explicit = sum(1 for item in scored if item.image.explicit)
    return ImageReport(
        threshold,
        figures(scored, threshold),
        tuple(figures(scored, value) for value in SWEEP),
        explicit,
        len(scored) - explicit,
        unscannable,
        skipped,
        sum(1 for item in scored if item.screened_clear),
        sum(1 for item in scored if item.screened_clear and item.score >= threshold),
    )
