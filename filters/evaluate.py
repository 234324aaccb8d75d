"""Measuring search warnings on a labelled query set (`abhaya eval queries`).

Each query is decided as a Google search URL by a caller-given function (the CLI passes the
same `decide()` the proxy uses), so what is measured is what the proxy does.  A query counts as
right when:

- `csam`: stopped (warn or block) as csam;
- `self_harm`: stopped as self_harm (the warning is the help page);
- `adult`: stopped as adult or csam;
- `none` (innocent): let through; a safe-search rewrite counts as passing.

Pure: parsing, judging and tables only; no policy loading, no printing.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass
from urllib.parse import quote_plus

from abhaya.filters.problems import LineError, json_objects
from abhaya.filters.verdict import Action, Category, Verdict

__all__ = [
    "CATEGORIES",
    "EvalQuery",
    "EvalReport",
    "QueryFileError",
    "Tally",
    "evaluate",
    "is_right",
    "parse_queries",
    "search_url",
]

CATEGORIES = ("csam", "self_harm", "adult", "none")
_FIELDS = ("id", "q", "category", "lang")


class QueryFileError(LineError):
    """A query file line that is not a labelled query; names the file, line and reason."""


@dataclass(frozen=True, slots=True)
class EvalQuery:
    """One labelled query: `category` is one of `CATEGORIES`."""

    id: str
    q: str
    category: str
    lang: str


@dataclass(frozen=True, slots=True)
class Tally:
    right: int
    total: int

    @property
    def share(self) -> float:
        return self.right / self.total if self.total else 0.0


@dataclass(frozen=True, slots=True)
class Outcome:
    query: EvalQuery
    verdict: Verdict
    right: bool


@dataclass(frozen=True, slots=True)
class EvalReport:
    outcomes: tuple[Outcome, ...]

    def tally(self, category: str, lang: str | None = None) -> Tally:
        chosen = [
            o
            for o in self.outcomes
            if o.query.category == category and (lang is None or o.query.lang == lang)
        ]
        return Tally(sum(o.right for o in chosen), len(chosen))

    def languages(self) -> list[str]:
        return sorted({o.query.lang for o in self.outcomes})

    def wrong(self) -> list[Outcome]:
        return [o for o in self.outcomes if not o.right]

    def table(self) -> str:
        """A markdown table: one row per category, one column per language, then the wrong
        queries with what was decided and why."""
        langs = self.languages()
        lines = [
            "| category | all | " + " | ".join(langs) + " |",
            "|---|---:|" + "---:|" * len(langs),
        ]
        for category in CATEGORIES:
            cells = [_cell(self.tally(category))]
            cells += [_cell(self.tally(category, lang)) for lang in langs]
            lines.append(f"| {category} | " + " | ".join(cells) + " |")
        wrong = self.wrong()
        lines.append("")
        lines.append(f"Wrong: {len(wrong)} of {len(self.outcomes)}")
        for outcome in wrong:
            v = outcome.verdict
            got = f"{v.action}" + (f" as {v.category}" if v.category else "")
            lines.append(
                f"  {outcome.query.id} [{outcome.query.category}, {outcome.query.lang}] "
                f"{outcome.query.q!r}: {got} ({v.reason}: {v.rule or v.detail})"
            )
        return "\n".join(lines)

    def as_json(self) -> dict[str, object]:
        langs = self.languages()
        return {
            "categories": {
                category: {
                    "all": _tally_json(self.tally(category)),
                    **{lang: _tally_json(self.tally(category, lang)) for lang in langs},
                }
                for category in CATEGORIES
            },
            "wrong": [
                {
                    "id": o.query.id,
                    "q": o.query.q,
                    "category": o.query.category,
                    "lang": o.query.lang,
                    "action": str(o.verdict.action),
                    "got": o.verdict.category,
                    "reason": str(o.verdict.reason),
                    "rule": o.verdict.rule,
                }
                for o in self.wrong()
            ],
        }


def _cell(tally: Tally) -> str:
    if not tally.total:
        return "-"
    return f"{tally.right}/{tally.total} ({tally.share:.0%})"


def _tally_json(tally: Tally) -> dict[str, float | int]:
    return {"right": tally.right, "total": tally.total, "share": round(tally.share, 4)}


def parse_queries(text: str, source: str) -> list[EvalQuery]:
    """Read a JSON-lines query file; blank lines are skipped, anything else wrong is refused
    with the file, line and reason (a measurement on half a file would mislead)."""
    queries: list[EvalQuery] = []
    for line in json_objects(text, source, QueryFileError):
        record = line.record
        for field in _FIELDS:
            if not isinstance(record.get(field), str):
                raise QueryFileError(line.problem(f"missing or non-string field {field!r}"))
        if record["category"] not in CATEGORIES:
            message = f"category must be one of {', '.join(CATEGORIES)}"
            raise QueryFileError(line.problem(message))
        queries.append(EvalQuery(record["id"], record["q"], record["category"], record["lang"]))
    return queries


def search_url(query: str) -> str:
    """The Google search URL a browser sends for `query`."""
    return "https://www.google.com/search?q=" + quote_plus(query)


def is_right(category: str, verdict: Verdict) -> bool:
    """Whether a verdict is what a query of this category should get (see the module doc)."""
    if category == "none":
        return verdict.action in (Action.ALLOW, Action.REWRITE)
    if not verdict.stops:
        return False
    if category == "adult":
        return verdict.category in (Category.ADULT, Category.CSAM)
    return verdict.category == Category(category)


def evaluate(queries: Iterable[EvalQuery], decide_url: Callable[[str], Verdict]) -> EvalReport:
    """Decide every query as a search URL and judge it."""
    outcomes = []
    for query in queries:
        verdict = decide_url(search_url(query.q))
        outcomes.append(Outcome(query, verdict, is_right(query.category, verdict)))
    return EvalReport(tuple(outcomes))
