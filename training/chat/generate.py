"""Expand templates.txt into labelled chat messages for the chat-risk classifier.

Every message is drawn reproducibly from a template (see the header of templates.txt): ``[a|b]``
picks one phrasing, ``{slot}`` one word from ``words/<slot>.txt`` in the template's language, and
a light "casual typing" pass (lower case, short forms, a dropped question mark, an emoji from one
shared pool) makes the spelling look like children's chats rather than like a template.  The
emoji pool is the same for every label, so an emoji never tells the model the label.

Templates are grouped by language and by kind (one risky label, several labels, or benign), and
each group is filled to a quota by drawing round-robin over its templates, so no single template
dominates a label.  Nothing here reads the validation set (shared/data/chat).

    python training/chat/generate.py --out FILE     # JSON lines, the format of messages_dev.jsonl
    python training/chat/generate.py --counts       # the label x language table for the README
"""

from __future__ import annotations

import argparse
import json
import math
import random
import re
import sys
from collections import Counter
from dataclasses import dataclass
from pathlib import Path

HERE = Path(__file__).resolve().parent
WORDS = HERE / "words"
TEMPLATES = HERE / "templates.txt"
LABELS = (
    "personal_info",
    "secrecy",
    "meeting",
    "image_request",
    "platform_move",
    "gifts",
    "sexual",
    "isolation",
    "sextortion",
    "bullying",
    "self_harm",
)
LANGS = ("en", "hi-Latn", "hi")
SEED = 7
POOL = 60  # distinct expansions tried per template before quotas are applied
# Messages wanted per label and language, multi-label messages included: the multi-label group
# is drawn first, and each single-label group then tops its label up to the target (but never
# below a third of it, so a label common in combinations still has its own plain messages).
TARGET = {"en": 330, "hi-Latn": 190, "hi": 170}
MULTI_SHARE = 0.3  # multi-label messages, as a share of TARGET x the number of labels
EMOJI = ("😂", "🙂", "😊", "😅", "👍", "🙏", "😭", "🥺", "❤️", "🤔", "😐", "🔥", "💀", "😒")

_LINE = re.compile(r"^(?P<labels>[a-z_,]+)\s+(?P<lang>en|hi-Latn|hi)\s*:\s*(?P<text>.+)$")
_SLOT = re.compile(r"\{([a-z_]+)\}")
_CHOICE = re.compile(r"\[([^\[\]]*)\]")
_DIGITS_HI = str.maketrans("0123456789", "०१२३४५६७८९")

# Short forms children type; each is applied to a whole word with some probability.
_SHORT_EN = {
    "you": ("u",),
    "your": ("ur",),
    "you're": ("ur", "youre"),
    "are": ("r",),
    "please": ("pls", "plz"),
    "okay": ("ok", "k"),
    "tomorrow": ("tmrw", "tmr"),
    "because": ("cuz", "bc"),
    "really": ("rly",),
    "don't": ("dont",),
    "can't": ("cant",),
    "i'm": ("im",),
    "what's": ("whats", "wats"),
    "it's": ("its",),
    "message": ("msg",),
    "brother": ("bro",),
    "people": ("ppl",),
    "something": ("smth",),
    "why": ("y",),
}
_SHORT_HI_LATN = {
    "hai": ("h", "he", "hai"),
    "hain": ("h", "hai"),
    "nahi": ("nhi", "nai", "nahin"),
    "kya": ("kia", "kya"),
    "kyun": ("kyu", "q"),
    "mujhe": ("mjhe", "muje"),
    "tum": ("tm",),
    "kar": ("kr",),
    "karo": ("kro",),
    "raha": ("rha",),
    "rahi": ("rhi",),
    "rahe": ("rhe",),
    "bhai": ("bhai", "bhaii", "bro"),
    "acha": ("accha", "achha", "acha"),
    "theek": ("thik", "thk"),
    "please": ("pls", "plz"),
}


@dataclass(frozen=True)
class Template:
    labels: tuple[str, ...]
    lang: str
    text: str
    line: int


@dataclass(frozen=True)
class Example:
    id: str
    text: str
    lang: str
    labels: tuple[str, ...]
    template: int = 0
    """The line of templates.txt it came from (the trainer keeps a template's messages in one
    cross-validation fold, so a fold is never scored on near-copies of its training lines)."""

    def as_json(self) -> str:
        return json.dumps(
            {"id": self.id, "text": self.text, "lang": self.lang, "labels": list(self.labels)},
            ensure_ascii=False,
        )


def read_words(path: Path) -> dict[str, list[str]]:
    """Words of one slot by language section (``# en``, ``# hi-Latn``, ``# hi``)."""
    by_lang: dict[str, list[str]] = {}
    lang = ""
    for number, raw in enumerate(path.read_text(encoding="utf-8").splitlines(), start=1):
        line = raw.strip()
        if line.startswith("#"):
            name = line.lstrip("#").strip()
            if name in LANGS:
                lang = name
            continue
        if line:
            if not lang:
                raise ValueError(f"{path}:{number}: a word before any language section")
            by_lang.setdefault(lang, []).append(line)
    return by_lang


def read_templates(path: Path, words: dict[str, dict[str, list[str]]]) -> list[Template]:
    out: list[Template] = []
    for number, raw in enumerate(path.read_text(encoding="utf-8").splitlines(), start=1):
        line = raw.strip()
        if not line or line.startswith("#"):
            continue
        found = _LINE.match(line)
        if found is None:
            raise ValueError(f"{path}:{number}: not LABELS LANG: TEXT: {line!r}")
        names = found["labels"].split(",")
        labels = () if names == ["none"] else tuple(sorted(names, key=LABELS.index))
        if any(name not in LABELS for name in labels):
            raise ValueError(f"{path}:{number}: unknown label in {found['labels']!r}")
        lang, text = found["lang"], found["text"]
        for slot in _SLOT.findall(text):
            if slot != "age" and lang not in words.get(slot, {}):
                raise ValueError(f"{path}:{number}: no {lang} words for slot {slot!r}")
        out.append(Template(labels, lang, text, number))
    return out


def age_phrase(rng: random.Random, lang: str) -> str:
    age = rng.randint(11, 17)
    if lang == "hi":
        return str(age) if rng.random() < 0.7 else str(age).translate(_DIGITS_HI)
    return str(age)


def _ends_in_emoji(text: str) -> bool:
    last = ord(text[-1]) if text else 0
    return last >= 0x2190 and not 0x0900 <= last <= 0x097F


def casual(text: str, lang: str, rng: random.Random) -> str:
    """Type the message the way a child would: short forms, case, punctuation, an emoji."""
    table = _SHORT_EN if lang == "en" else _SHORT_HI_LATN if lang == "hi-Latn" else {}
    if table and rng.random() < 0.6:
        strength = rng.choice((0.3, 0.7, 1.0))

        def shorten(match: re.Match[str]) -> str:
            word = match.group(0)
            forms = table.get(word.lower())
            if forms is None or rng.random() > strength:
                return word
            return rng.choice(forms)

        text = re.sub(r"[A-Za-z']+", shorten, text)
    if lang != "hi" and rng.random() < 0.55:
        text = text.lower()
    roll = rng.random()
    if roll < 0.2:
        text = text.rstrip("?.!। ")
    elif roll < 0.27 and text.endswith("?"):
        text += "??"
    if rng.random() < 0.1 and not _ends_in_emoji(text):
        text = f"{text} {rng.choice(EMOJI)}"
    return text


def expand(template: Template, words: dict[str, dict[str, list[str]]], rng: random.Random) -> str:
    text = _CHOICE.sub(lambda m: rng.choice(m.group(1).split("|")), template.text)

    def fill(match: re.Match[str]) -> str:
        name = match.group(1)
        if name == "age":
            return age_phrase(rng, template.lang)
        return rng.choice(words[name][template.lang])

    text = _SLOT.sub(fill, text)
    # An empty [a|] at the end leaves a dangling comma; an empty one inside, a doubled one.
    text = re.sub(r",\s*,", ",", re.sub(r"[\s,]+$", "", text))
    text = casual(text, template.lang, rng)
    text = re.sub(r"\s+", " ", text).strip()
    return re.sub(r" ([,?.!।])", r"\1", text)


def kind(template: Template) -> str:
    if not template.labels:
        return "benign"
    return template.labels[0] if len(template.labels) == 1 else "multi"


def quota(lang: str, group: str, made: list[tuple[str, str, tuple[str, ...], int]]) -> int:
    """How many messages the group still needs, given what was drawn for the language so far."""
    target = TARGET[lang]
    if group == "multi":
        return math.ceil(target * len(LABELS) * MULTI_SHARE)
    mine = [labels for _, made_lang, labels, _ in made if made_lang == lang]
    if group == "benign":  # as many benign messages as risky ones
        return sum(1 for labels in mine if labels)
    already = sum(1 for labels in mine if group in labels)
    return max(target // 3, target - already)


def examples(seed: int = SEED) -> list[Example]:
    """All generated messages, in a shuffled but reproducible order, without duplicates."""
    rng = random.Random(seed)
    words = {path.stem: read_words(path) for path in sorted(WORDS.glob("*.txt"))}
    templates = read_templates(TEMPLATES, words)
    taken: dict[str, tuple[str, ...]] = {}  # text -> labels, across the whole set
    made: list[tuple[str, str, tuple[str, ...], int]] = []
    for lang in LANGS:
        for group in ("multi", *LABELS, "benign"):
            wanted = quota(lang, group, made)
            members = [t for t in templates if t.lang == lang and kind(t) == group]
            if not members:
                raise ValueError(f"no {lang} templates for {group}")
            pools: list[list[str]] = []
            for template in members:
                pool: list[str] = []
                for _ in range(POOL * 3):
                    if len(pool) >= POOL:
                        break
                    text = expand(template, words, rng)
                    if text not in taken and text not in pool:
                        pool.append(text)
                rng.shuffle(pool)
                pools.append(pool)
            chosen = 0
            while chosen < wanted and any(pools):
                order = list(range(len(members)))
                rng.shuffle(order)
                for index in order:
                    if chosen >= wanted:
                        break
                    while pools[index]:
                        text = pools[index].pop()
                        if text not in taken:
                            taken[text] = members[index].labels
                            made.append((text, lang, members[index].labels, members[index].line))
                            chosen += 1
                            break
    rng.shuffle(made)
    return [
        Example(f"t{number:05d}", text, lang, labels, line)
        for number, (text, lang, labels, line) in enumerate(made, start=1)
    ]


def counts_table(made: list[Example]) -> str:
    rows = ["| label | " + " | ".join(LANGS) + " | all |", "|---|" + "---:|" * (len(LANGS) + 1)]
    by: Counter[tuple[str, str]] = Counter()
    for example in made:
        names = example.labels or ("benign",)
        for name in names:
            by[(name, example.lang)] += 1
        if len(example.labels) > 1:
            by[("multi-label", example.lang)] += 1
        by[("messages", example.lang)] += 1
    for name in (*LABELS, "benign", "multi-label", "messages"):
        cells = [by[(name, lang)] for lang in LANGS]
        rows.append(f"| {name} | " + " | ".join(str(c) for c in cells) + f" | {sum(cells)} |")
    return "\n".join(rows)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("--out", type=Path, help="write JSON lines here (default: stdout)")
    parser.add_argument("--counts", action="store_true", help="print the label x language table")
    parser.add_argument("--seed", type=int, default=SEED)
    args = parser.parse_args(argv)
    made = examples(args.seed)
    if args.counts:
        print(counts_table(made))
        return 0
    lines = "".join(example.as_json() + "\n" for example in made)
    if args.out is None:
        sys.stdout.write(lines)
    else:
        args.out.write_text(lines, encoding="utf-8")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
