"""`abhaya classify-text`, `classify-chat`, `eval chat` and `eval conversations`: the chat
model from the command line.

Both load the same model the agent will run (`abhaya.models.chatmodel`), its encoder built into
the model folder the first time.  Their output is a contract for scripts: `classify-text -`
(reading standard input, with or without `--json`) and `classify-text --json TEXT` write one
JSON object a line, ``{"labels": {...}, "flagged": [...], "ms": 2.1}``, in
the order of the input lines, each as soon as it is scored (so a pipe sees answers as it feeds
messages).  `classify-chat` reads one conversation a line in the conversation set's format and
writes ``{"risk", "flagged", "first_alert_at", "labels"}`` for each.
"""

from __future__ import annotations

import json
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Protocol, TextIO, TypeVar

from abhaya.filters.problems import LineError
from abhaya.models import chatthread
from abhaya.models.chateval import evaluate, parse_messages
from abhaya.models.chatmodel import ChatClassifier, ChatHeadError, load_chat_model
from abhaya.models.manifest import ModelVerificationError

EXIT_USAGE = 2
_Item = TypeVar("_Item")


def classify_text(
    text: str, as_json: bool, models: Path, stdin: TextIO = sys.stdin, stdout: TextIO = sys.stdout
) -> int:
    """Score `text`, or with ``-`` every line of standard input (blank lines are skipped)."""
    model = _load(models)
    if model is None:
        return EXIT_USAGE
    lines = (line.rstrip("\r\n") for line in stdin) if text == "-" else iter([text])
    as_json = as_json or text == "-"  # a pipe is a script's: it always gets the contract
    for line in lines:
        if not line.strip():
            continue
        start = time.perf_counter()
        (scored,) = model.classify([line])
        elapsed = (time.perf_counter() - start) * 1000
        if as_json:
            record = {
                "labels": {label: round(score, 4) for label, score in scored.scores.items()},
                "flagged": list(scored.flagged),
                "ms": round(elapsed, 2),
            }
            stdout.write(json.dumps(record, ensure_ascii=False) + "\n")
        else:
            top = sorted(scored.scores.items(), key=lambda item: -item[1])[:3]
            shown = ", ".join(f"{label} {score:.2f}" for label, score in top)
            flagged = ", ".join(scored.flagged) or "nothing"
            stdout.write(f"flagged: {flagged}  (highest: {shown})\n")
        stdout.flush()
    return 0


def eval_chat(file: Path, as_json: bool, models: Path) -> int:
    """Measure the model on a labelled message file (the chat validation set's format)."""
    return _measure(file, parse_messages, evaluate, as_json, models)


def classify_chat(models: Path, stdin: TextIO = sys.stdin, stdout: TextIO = sys.stdout) -> int:
    """Judge each conversation of standard input, one JSON object a line out."""
    model = _load(models)
    if model is None:
        return EXIT_USAGE
    for number, line in enumerate(stdin, start=1):
        if not line.strip():
            continue
        try:
            (conversation,) = chatthread.parse_conversations(line, f"<stdin>:{number}", False)
        except chatthread.ConversationFileError as err:
            print(f"abhaya: {err}", file=sys.stderr)
            return EXIT_USAGE
        verdict = chatthread.judge(conversation.messages, _flags(model))
        stdout.write(json.dumps(verdict.as_json(), ensure_ascii=False) + "\n")
        stdout.flush()
    return 0


def eval_conversations(file: Path, as_json: bool, models: Path) -> int:
    """Measure the message model and the thread tracker on a labelled conversation file."""
    return _measure(file, chatthread.parse_conversations, chatthread.evaluate, as_json, models)


class _Report(Protocol):
    def table(self) -> str: ...

    def as_json(self) -> dict[str, object]: ...


def _measure(
    file: Path,
    parse: Callable[[str, str], list[_Item]],
    measure: Callable[[list[_Item], chatthread.Classify], _Report],
    as_json: bool,
    models: Path,
) -> int:
    """Read a labelled file (refused whole, with file and line, when a line is wrong), load the
    model, measure, print the table or the JSON."""
    try:
        items = parse(file.read_text(encoding="utf-8"), str(file))
    except (OSError, UnicodeDecodeError) as err:
        print(f"abhaya: cannot read {file}: {err}", file=sys.stderr)
        return EXIT_USAGE
    except LineError as err:
        print(f"abhaya: {err}", file=sys.stderr)
        return EXIT_USAGE
    model = _load(models)
    if model is None:
        return EXIT_USAGE
    report = measure(items, _flags(model))
    print(json.dumps(report.as_json(), ensure_ascii=False, indent=1) if as_json else report.table())
    return 0


def _flags(model: ChatClassifier) -> chatthread.Classify:
    return lambda texts: [frozenset(scored.flagged) for scored in model.classify(texts)]


def _load(models: Path) -> ChatClassifier | None:
    try:
        return load_chat_model(models)
    except (ModelVerificationError, ChatHeadError, OSError) as err:
        print(f"abhaya: the chat model could not be loaded: {err}", file=sys.stderr)
        return None
