"""Measuring the chat-message model on a labelled set (`abhaya eval chat`).

The set's format is the chat validation set's (``{"id", "text", "lang", "labels": [...]}``, an
empty list meaning benign).  For each label: precision, recall and F1; over the labels, the
macro F1; and the two figures a parent feels: how many risky messages were flagged at all
(risky-vs-benign recall) and how many benign ones were flagged (false-positive rate).  Each
figure is given for the whole set and for each language.

Pure: parsing and arithmetic only; the caller classifies.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass

from abhaya.filters.problems import LineError, json_objects
from abhaya.models.chatmodel import CHAT_LABELS

__all__ = ["ChatReport", "LabelledMessage", "MessageFileError", "evaluate", "parse_messages"]


class MessageFileError(LineError):
    """A line that is not a labelled message; names the file, line and reason."""


@dataclass(frozen=True, slots=True)
class LabelledMessage:
    id: str
    text: str
    lang: str
    labels: frozenset[str]


@dataclass(frozen=True, slots=True)
class Outcome:
    message: LabelledMessage
    flagged: frozenset[str]


@dataclass(frozen=True, slots=True)
class Scores:
    precision: float
    recall: float
    f1: float
    support: int


def parse_messages(text: str, source: str) -> list[LabelledMessage]:
    """Read a JSON-lines message file; blank lines are skipped, anything else wrong is refused
    with the file, line and reason (a measurement on half a file would mislead)."""
    out: list[LabelledMessage] = []
    for line in json_objects(text, source, MessageFileError):
        record = line.record
        for field in ("id", "text", "lang"):
            if not isinstance(record.get(field), str):
                raise MessageFileError(line.problem(f"missing or non-string field {field!r}"))
        labels = record.get("labels")
        if not isinstance(labels, list) or not all(isinstance(label, str) for label in labels):
            raise MessageFileError(line.problem("'labels' must be a list of label names"))
        unknown = sorted(set(labels) - set(CHAT_LABELS))
        if unknown:
            raise MessageFileError(line.problem(f"unknown label {', '.join(unknown)}"))
        out.append(LabelledMessage(record["id"], record["text"], record["lang"], frozenset(labels)))
    return out


@dataclass(frozen=True, slots=True)
class ChatReport:
    outcomes: tuple[Outcome, ...]

    def languages(self) -> list[str]:
        return sorted({o.message.lang for o in self.outcomes})

    def _chosen(self, lang: str | None) -> list[Outcome]:
        return [o for o in self.outcomes if lang is None or o.message.lang == lang]

    def label(self, label: str, lang: str | None = None) -> Scores:
        chosen = self._chosen(lang)
        true_pos = sum(label in o.flagged and label in o.message.labels for o in chosen)
        predicted = sum(label in o.flagged for o in chosen)
        actual = sum(label in o.message.labels for o in chosen)
        precision = true_pos / predicted if predicted else 0.0
        recall = true_pos / actual if actual else 0.0
        f1 = 2 * precision * recall / (precision + recall) if precision + recall else 0.0
        return Scores(precision, recall, f1, actual)

    def macro_f1(self, lang: str | None = None) -> float:
        """The mean F1 over the labels present in the (language's) set."""
        present = [s for s in (self.label(x, lang) for x in CHAT_LABELS) if s.support]
        return sum(s.f1 for s in present) / len(present) if present else 0.0

    def risky_recall(self, lang: str | None = None) -> tuple[int, int]:
        """(risky messages flagged with any label, risky messages)."""
        risky = [o for o in self._chosen(lang) if o.message.labels]
        return sum(bool(o.flagged) for o in risky), len(risky)

    def benign_flagged(self, lang: str | None = None) -> tuple[int, int]:
        """(benign messages flagged with any label, benign messages)."""
        benign = [o for o in self._chosen(lang) if not o.message.labels]
        return sum(bool(o.flagged) for o in benign), len(benign)

    def wrong(self) -> list[Outcome]:
        return [o for o in self.outcomes if o.flagged != o.message.labels]

    def table(self) -> str:
        langs = self.languages()
        head = "| | all | " + " | ".join(langs) + " |"
        rule = "|---|---:|" + "---:|" * len(langs)
        lines = ["Per label: F1 (precision / recall), then the number of messages.", ""]
        lines += [head, rule]
        for name in CHAT_LABELS:
            cells = [_f1_cell(self.label(name, lang)) for lang in (None, *langs)]
            lines.append(f"| {name} | " + " | ".join(cells) + " |")
        lines += ["", head, rule]
        rows: list[tuple[str, Callable[[str | None], str]]] = [
            ("macro F1", lambda lang: f"{self.macro_f1(lang):.3f}"),
            ("risky flagged (recall)", lambda lang: _share(*self.risky_recall(lang))),
            ("benign flagged (false positives)", lambda lang: _share(*self.benign_flagged(lang))),
        ]
        for name, cell in rows:
            lines.append(f"| {name} | " + " | ".join(cell(lang) for lang in (None, *langs)) + " |")
        wrong = self.wrong()
        lines += ["", f"Not exactly right: {len(wrong)} of {len(self.outcomes)}"]
        for outcome in wrong:
            message = outcome.message
            want = ",".join(sorted(message.labels)) or "benign"
            got = ",".join(sorted(outcome.flagged)) or "nothing"
            lines.append(f"  {message.id} [{message.lang}] {message.text[:70]!r}: {want} -> {got}")
        return "\n".join(lines)

    def as_json(self) -> dict[str, object]:
        def figures(lang: str | None) -> dict[str, object]:
            flagged, risky = self.risky_recall(lang)
            false, benign = self.benign_flagged(lang)
            return {
                "labels": {
                    name: {
                        "precision": round(s.precision, 4),
                        "recall": round(s.recall, 4),
                        "f1": round(s.f1, 4),
                        "support": s.support,
                    }
                    for name in CHAT_LABELS
                    for s in (self.label(name, lang),)
                },
                "macro_f1": round(self.macro_f1(lang), 4),
                "risky_recall": {"flagged": flagged, "total": risky},
                "benign_false_positives": {"flagged": false, "total": benign},
            }

        return {
            "all": figures(None),
            **{lang: figures(lang) for lang in self.languages()},
            "wrong": [
                {
                    "id": o.message.id,
                    "lang": o.message.lang,
                    "labels": sorted(o.message.labels),
                    "flagged": sorted(o.flagged),
                }
                for o in self.wrong()
            ],
        }


def _f1_cell(scores: Scores) -> str:
    if not scores.support:
        return "-"
    return f"{scores.f1:.2f} ({scores.precision:.2f} / {scores.recall:.2f}) n={scores.support}"


def _share(part: int, whole: int) -> str:
    return f"{part}/{whole} ({part / whole:.1%})" if whole else "-"


def evaluate(
    messages: Sequence[LabelledMessage],
    classify: Callable[[list[str]], list[frozenset[str]]],
) -> ChatReport:
    """Classify every message (in one call, so the caller can batch) and keep the outcome."""
    flagged = classify([message.text for message in messages])
    return ChatReport(tuple(Outcome(m, f) for m, f in zip(messages, flagged, strict=True)))
