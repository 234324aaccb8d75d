"""Expand templates.txt into labelled training queries, drawn reproducibly.

Slots are filled from Abhaya's own term classes (``filters/data/term_classes``), so the head
learns from the same vocabulary the rules use, and the embedding carries it to words no list
names; ``words/`` adds innocent words used only here.  Nothing here reads the validation set.
"""

from __future__ import annotations

import random
import re
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
CLASSES = ROOT / "filters" / "data" / "term_classes"
WORDS = Path(__file__).with_name("words")
TEMPLATES = Path(__file__).with_name("templates.txt")
LABELS = ("none", "csam", "self_harm", "adult")
LANGS = ("en", "hi-Latn", "hi")
DRAWS = 6  # expansions of a template with slots

_LINE = re.compile(r"^(?P<label>[a-z_]+)\s+(?P<lang>en|hi-Latn|hi)\s*:\s*(?P<text>.+)$")
_SLOT = re.compile(r"\{([a-z_]+)\}")
_DIGITS_HI = str.maketrans("0123456789", "०१२३४५६७८९")


@dataclass(frozen=True)
class Example:
    text: str
    label: str
    lang: str


def read_class(path: Path) -> dict[str, list[str]]:
    """Terms of one class by language section (all terms under "any" too)."""
    by_lang: dict[str, list[str]] = {"any": []}
    lang = "any"
    for raw in path.read_text(encoding="utf-8").splitlines():
        line = raw.strip()
        if line.startswith("#"):
            name = line.lstrip("#").strip()
            if name in LANGS:
                lang = name
            continue
        if line:
            term = line.rstrip("*")
            by_lang.setdefault(lang, []).append(term)
            by_lang["any"].append(term)
    return by_lang


def age_phrase(rng: random.Random, lang: str) -> str:
    age = rng.randint(5, 17)
    if lang == "hi":
        number = str(age) if rng.random() < 0.5 else str(age).translate(_DIGITS_HI)
        return rng.choice([f"{number} साल की", f"{number} साल का", f"{number} वर्षीय"])
    if lang == "hi-Latn":
        return rng.choice([f"{age} saal ki", f"{age} sal ka", f"{age} saal"])
    return rng.choice(
        [
            f"{age}yo",
            f"{age} yo",
            f"{age} y/o",
            f"age {age}",
            f"{age} year old",
            f"{age} years old",
            f"under {min(age + 1, 17)}",
            f"{age}yr",
            f"aged {age}",
        ]
    )


def examples(seed: int = 7) -> list[Example]:
    rng = random.Random(seed)
    classes = {path.stem: read_class(path) for path in sorted(CLASSES.glob("*.txt"))}
    for path in sorted(WORDS.glob("*.txt")):
        if path.stem in classes:
            raise ValueError(f"{path}: a term class has the name {path.stem!r} already")
        classes[path.stem] = read_class(path)
    out: list[Example] = []
    for number, raw in enumerate(TEMPLATES.read_text(encoding="utf-8").splitlines(), start=1):
        line = raw.strip()
        if not line or line.startswith("#"):
            continue
        found = _LINE.match(line)
        if found is None or found["label"] not in LABELS:
            raise ValueError(f"{TEMPLATES}:{number}: not LABEL LANG: TEXT: {line!r}")
        label, lang, text = found["label"], found["lang"], found["text"]
        slots = _SLOT.findall(text)
        for slot in slots:
            if slot != "age" and slot not in classes:
                raise ValueError(f"{TEMPLATES}:{number}: no class {slot!r}")
        draws = DRAWS if slots else 1
        seen: set[str] = set()
        for _ in range(draws * 3):
            if len(seen) >= draws:
                break

            def fill(match: re.Match[str], lang: str = lang) -> str:
                name = match.group(1)
                if name == "age":
                    return age_phrase(rng, lang)
                terms = classes[name].get(lang) or classes[name]["any"]
                return rng.choice(terms)

            query = _SLOT.sub(fill, text)
            if query not in seen:
                seen.add(query)
                out.append(Example(query, label, lang))
    return out


if __name__ == "__main__":
    made = examples()
    for label in LABELS:
        print(label, sum(e.label == label for e in made))
