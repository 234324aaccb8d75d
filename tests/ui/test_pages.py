"""Warning pages: every kind renders in every language, says what it must, reflects nothing it
must not, escapes everything it reflects, and the locale and jurisdiction data stay in step."""

from __future__ import annotations

import datetime as dt
import re
import shutil
import tomllib
from html.parser import HTMLParser
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from markupsafe import escape

from abhaya.ui.pages.packs import PageDataError
from abhaya.ui.pages.render import (
    Opening,
    PageContext,
    PageRenderer,
    choose_language,
    page_kind_for,
)

PAGES_DIR = Path(__file__).resolve().parents[2] / "ui" / "pages"
LOCALES = PAGES_DIR / "locales"
JURISDICTIONS = PAGES_DIR / "jurisdictions"
TEMPLATES = PAGES_DIR / "templates"
DEVANAGARI = re.compile(r"[\u0900-\u097F]")

HOSTILE = (
    "<script>alert(1)</script>",
    '"><img src=x onerror=alert(1)>',
    "' onmouseover='alert(1)",
    "javascript:alert(1)//<b>",
)


@pytest.fixture(scope="module")
def renderer() -> PageRenderer:
    return PageRenderer.load_default()


def _ctx(kind: str, **kwargs: Any) -> PageContext:
    defaults: dict[str, Any] = {
        "csam": {"category": "csam", "action": "block"},
        "self_harm": {"category": "self_harm", "action": "block"},
        "blocked": {"category": "adult", "action": "block", "url": "https://site.example/page"},
        "error": {"category": "", "action": "block", "status_text": "413 request too large"},
    }[kind]
    return PageContext(kind=kind, **{**defaults, **kwargs})


class _Structure(HTMLParser):
    """Collects what the structural checks need, without running any script."""

    def __init__(self) -> None:
        super().__init__()
        self.html_lang: str | None = None
        self.viewport = False
        self.ids: list[str] = []
        self.h1 = 0
        self.external: list[str] = []
        self.scripts = 0

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        a = dict(attrs)
        if tag == "html":
            self.html_lang = a.get("lang")
        if tag == "meta" and a.get("name") == "viewport":
            self.viewport = "width=device-width" in (a.get("content") or "")
        if tag == "h1":
            self.h1 += 1
        if tag == "script":
            self.scripts += 1
        if tag in ("link", "img", "iframe", "object", "embed") or (tag == "svg" and "src" in a):
            self.external.append(tag)
        if "id" in a and a["id"]:
            self.ids.append(a["id"])


def _structure(html: str) -> _Structure:
    parser = _Structure()
    parser.feed(html)
    parser.close()
    return parser


# --- every kind, every language -------------------------------------------------------------

EXPECTED_TEXT = {
    ("csam", "en"): ("67B", "POCSO", "1930", "cybercrime.gov.in", "1098", "112", "tel:1930"),
    ("csam", "hi"): ("67B", "पॉक्सो अधिनियम 2012", "सूचना प्रौद्योगिकी अधिनियम, 2000", "1930",
                     "cybercrime.gov.in", "1098", "112"),
    ("self_harm", "en"): ("You are not alone", "14416", "1-800-891-4416", "112", "1098"),
    ("self_harm", "hi"): ("आप अकेले नहीं हैं", "14416", "1-800-891-4416", "112"),
    ("blocked", "en"): ("This page has been stopped", "grown-up", "site.example/page"),
    ("blocked", "hi"): ("यह पेज रोक दिया गया है", "site.example/page"),
    ("error", "en"): ("could not be completed", "413 request too large"),
    ("error", "hi"): ("अनुरोध", "413 request too large"),
}  # fmt: skip


@pytest.mark.parametrize(("kind", "lang"), sorted(EXPECTED_TEXT))
def test_each_kind_renders_with_its_key_text(renderer: PageRenderer, kind: str, lang: str) -> None:
    html = renderer.render(_ctx(kind), lang, "in")
    for needle in EXPECTED_TEXT[kind, lang]:
        assert needle in html, needle
    assert bool(DEVANAGARI.search(html)) == (lang == "hi")


@pytest.mark.parametrize("kind", ["csam", "self_harm", "blocked", "error"])
@pytest.mark.parametrize("lang", ["en", "hi"])
@pytest.mark.parametrize("jurisdiction", ["in", "intl"])
def test_pages_are_self_contained_and_accessible(
    renderer: PageRenderer, kind: str, lang: str, jurisdiction: str
) -> None:
    html = renderer.render(_ctx(kind), lang, jurisdiction)
    page = _structure(html)
    assert page.html_lang == lang
    assert page.viewport
    assert page.h1 == 1
    assert page.scripts == 0
    assert page.external == []
    assert "<style>" in html
    assert "@import" not in html and "url(" not in html
    assert len(page.ids) == len(set(page.ids)), "duplicate element ids"
    assert 'onclick="history.back()"' in html
    assert 'id="leave-page" href="about:blank"' in html


@pytest.mark.parametrize("template", sorted(p.name for p in TEMPLATES.glob("*.html")))
def test_templates_never_turn_escaping_off(template: str) -> None:
    source = (TEMPLATES / template).read_text(encoding="utf-8")
    assert not re.search(r"\|\s*safe\b|autoescape\s+false|Markup", source)


@pytest.mark.parametrize(
    ("lang", "shown"), [("fr", "en"), ("", "en"), ("hi-IN", "hi"), ("HI", "hi")]
)
def test_render_language_is_normalised_or_falls_back_to_english(
    renderer: PageRenderer, lang: str, shown: str
) -> None:
    html = renderer.render(_ctx("self_harm"), lang, "in")
    assert f'<html lang="{shown}"' in html


# --- csam: no reflection, no way on ---------------------------------------------------------


@pytest.mark.parametrize("lang", ["en", "hi"])
def test_csam_page_never_reflects_query_or_url_and_has_no_way_on(
    renderer: PageRenderer, lang: str
) -> None:
    ctx = PageContext(
        kind="csam",
        category="csam",
        action="warn",
        url="https://abuse-site.example/zq-marker-path",
        query="zq-marker-query",
        ask_parent=True,
        continue_url="https://abuse-site.example/continue",
    )
    html = renderer.render(ctx, lang, "in")
    assert "zq-marker" not in html
    assert "abuse-site.example" not in html
    assert 'id="continue"' not in html
    assert 'id="ask-parent"' not in html


@pytest.mark.parametrize("kind", ["blocked", "self_harm", "error"])
def test_csam_category_must_use_the_csam_page(kind: str) -> None:
    with pytest.raises(ValueError, match="csam"):
        PageContext(kind=kind, category="csam", action="block")


# --- escaping ------------------------------------------------------------------------------


@pytest.mark.parametrize("hostile", HOSTILE)
@pytest.mark.parametrize("lang", ["en", "hi"])
def test_blocked_page_escapes_url_and_query(
    renderer: PageRenderer, hostile: str, lang: str
) -> None:
    ctx = _ctx("blocked", url="https://x.example/?" + hostile, query=hostile)
    html = renderer.render(ctx, lang, "in")
    body = html.split("</style>", 1)[1]
    assert "<script" not in body
    assert "<img" not in body
    assert "' onmouseover='" not in body
    assert f'id="search-query"><bdi>{escape(hostile)}</bdi>' in body
    page = _structure(html)
    assert page.scripts == 0 and page.external == []


@pytest.mark.parametrize("hostile", HOSTILE)
def test_error_page_escapes_status_text(renderer: PageRenderer, hostile: str) -> None:
    html = renderer.render(_ctx("error", status_text=hostile), "en", "in")
    body = html.split("</style>", 1)[1]
    assert "<script" not in body and "<img" not in body
    assert "' onmouseover='" not in body


def test_long_url_is_shortened_with_both_ends_kept(renderer: PageRenderer) -> None:
    url = "https://start.example/" + "a" * 500 + "/the-end"
    html = renderer.render(_ctx("blocked", url=url), "en", "in")
    shown = re.search(r'id="page-address"><bdi dir="ltr">(.*?)</bdi>', html)
    assert shown is not None
    assert shown.group(1).startswith("https://start.example/")
    assert shown.group(1).endswith("/the-end")
    assert "\u2026" in shown.group(1)
    assert len(shown.group(1)) <= 80


def test_bidi_controls_are_removed_from_the_address(renderer: PageRenderer) -> None:
    html = renderer.render(_ctx("blocked", url="https://evil.example/\u202egpj.exe"), "en", "in")
    assert "\u202e" not in html
    assert "evil.example/gpj.exe" in html


# --- ask a parent, continue anyway ---------------------------------------------------------

ASK_PARENT_TABLE = [
    ("blocked", "adult", True, True),
    ("blocked", "adult", False, False),
    ("blocked", "schedule", True, True),
    ("csam", "csam", True, False),
    ("self_harm", "self_harm", True, False),
    ("error", "", True, False),
]


@pytest.mark.parametrize(("kind", "category", "allowed", "shown"), ASK_PARENT_TABLE)
def test_ask_parent_section_only_when_allowed(
    renderer: PageRenderer, kind: str, category: str, allowed: bool, shown: bool
) -> None:
    ctx = PageContext(kind=kind, category=category, action="block", ask_parent=allowed)
    for lang in renderer.languages:
        html = renderer.render(ctx, lang, "in")
        assert ('id="ask-parent"' in html) is shown


CONTINUE_TABLE = [
    ("blocked", "gambling", "warn", "https://bet.example/?go=1&x=2", True),
    ("blocked", "gambling", "warn", "/__abhaya/continue?token=abc", True),
    ("blocked", "gambling", "warn", "", False),
    ("blocked", "gambling", "block", "https://bet.example/", False),
    ("self_harm", "self_harm", "warn", "/search?q=x&abhaya-continue=t", True),
    ("self_harm", "self_harm", "warn", "", False),
    ("self_harm", "self_harm", "block", "/search?q=x&abhaya-continue=t", False),
    ("csam", "csam", "warn", "https://x.example/", False),
]
CONTINUE_LABEL = {"blocked": "Continue anyway", "self_harm": "I am safe, continue"}


@pytest.mark.parametrize(("kind", "category", "action", "continue_url", "shown"), CONTINUE_TABLE)
def test_continue_link_only_for_warn_with_continue_url(
    renderer: PageRenderer, kind: str, category: str, action: str, continue_url: str, shown: bool
) -> None:
    ctx = PageContext(kind=kind, category=category, action=action, continue_url=continue_url)
    html = renderer.render(ctx, "en", "in")
    assert ('id="continue"' in html) is shown
    if shown:
        assert f'href="{continue_url.replace("&", "&amp;")}"' in html
        assert CONTINUE_LABEL[kind] in html
        assert 'id="continue-note"' in html


@pytest.mark.parametrize("lang", ["en", "hi"])
def test_self_harm_page_offers_its_own_way_on_in_each_language(
    renderer: PageRenderer, lang: str
) -> None:
    ctx = PageContext(
        kind="self_harm", category="self_harm", action="warn", continue_url="/s?abhaya-continue=t"
    )
    html = renderer.render(ctx, lang, "in")
    label = {"en": "I am safe, continue", "hi": "मैं सुरक्षित हूँ, आगे जाएँ"}[lang]
    assert re.search(r'id="continue" href="/s\?abhaya-continue=t"[^>]*>' + label + "</a>", html)
    # help comes first: the helplines are above the way on
    assert html.index("14416") < html.index('id="if-safe"') < html.index('id="continue"')


@pytest.mark.parametrize("lang", ["en", "hi"])
@pytest.mark.parametrize("jurisdiction", ["in", "intl"])
def test_csam_page_follows_the_warning_programmes(
    renderer: PageRenderer, lang: str, jurisdiction: str
) -> None:
    """Calm first (for a child who typed it by accident), then: it is a crime, it harms real
    children, there are consequences, and there is confidential help to stop."""
    html = renderer.render(
        PageContext(kind="csam", category="csam", action="block"), lang, jurisdiction
    )
    order = ['id="accident"', 'id="harm"', 'id="law"', 'id="consequences"', 'id="self-help"',
             'id="child-help"', 'id="report"']  # fmt: skip
    positions = [html.index(marker) for marker in order]
    assert positions == sorted(positions)
    assert "troubled-desire.com" in html  # help to stop, in every pack
    if jurisdiction == "in":
        assert "67B" in html and "14416" in html and "1098" in html and "1930" in html
    words = {"en": ("mistake", "real children", "prison", "confidential"),
             "hi": ("गलती", "असली बच्चों", "जेल", "गोपनीय")}[lang]  # fmt: skip
    for word in words:
        assert word in html, word


@pytest.mark.parametrize(
    "bad", ["javascript:alert(1)", "data:text/html,hi", "//evil.example/", "ftp://x.example/"]
)
def test_continue_url_must_be_http_or_a_path(bad: str) -> None:
    with pytest.raises(ValueError, match="continue_url"):
        PageContext(kind="blocked", category="adult", action="warn", continue_url=bad)


def test_unknown_kind_is_refused() -> None:
    with pytest.raises(ValueError, match="kind"):
        PageContext(kind="popup", category="adult", action="block")


# --- categories ------------------------------------------------------------------------------

CATEGORY_TEXT = [
    ("adult", "en", "grown-up content"),
    ("gambling", "en", "gambling"),
    ("violence", "en", "violence"),
    ("anonymizers", "en", "safety settings"),
    ("custom_rule", "en", "A parent has chosen"),
    ("schedule", "en", "not allowed at this time"),
    ("no-such-category", "en", "do not allow this page"),
    ("schedule", "hi", "इस समय इंटरनेट चलाने की अनुमति नहीं है"),
    ("no-such-category", "hi", "इस पेज की अनुमति नहीं देतीं"),
]


@pytest.mark.parametrize(("category", "lang", "needle"), CATEGORY_TEXT)
def test_blocked_reason_follows_category(
    renderer: PageRenderer, category: str, lang: str, needle: str
) -> None:
    html = renderer.render(_ctx("blocked", category=category), lang, "in")
    reason = re.search(r'<p id="reason">(.*?)</p>', html)
    assert reason is not None and needle in reason.group(1)


@pytest.mark.parametrize(
    ("category", "kind"),
    [("csam", "csam"), ("self_harm", "self_harm"), ("adult", "blocked"), ("schedule", "blocked"),
     ("custom", "blocked"), ("", "blocked"), ("CSAM", "blocked")],
)  # fmt: skip
def test_page_kind_for(category: str, kind: str) -> None:
    assert page_kind_for(category) == kind


# --- choose_language -----------------------------------------------------------------------

LANGUAGE_TABLE = [
    # accept-language, profile preference, expected
    ("hi-IN,hi;q=0.9,en;q=0.8", None, "hi"),
    ("en-US,en;q=0.9,hi;q=0.8", None, "en"),
    ("fr-FR,fr;q=0.9,hi;q=0.5", None, "hi"),
    ("hi;q=0.2,en;q=0.7", None, "en"),
    ("hi;q=0,en", None, "en"),
    ("HI-in", None, "hi"),
    ("hi-Deva-IN", None, "hi"),
    ("*", None, "en"),
    ("fr, de", None, "en"),
    ("en-US,en;q=0.9", "hi", "hi"),
    ("hi-IN", "en", "en"),
    ("hi-IN", "hi-IN", "hi"),
    ("hi-IN", "fr", "hi"),
    (None, None, "en"),
    (None, "hi", "hi"),
    ("", "", "en"),
    # garbage: never raises, falls back
    (";;;,,,q=", None, "en"),
    ("hi;q=abc", None, "en"),
    ("hi;q=nan,en;q=0.1", None, "en"),
    ("hi;q=inf", None, "en"),
    ("hi;q=-1", None, "en"),
    ("\x00\xff\ufffd;q=1", None, "en"),
    ("hi" + ",x" * 5000, None, "en"),
    ("😀;q=0.9, hi;q=0.8", None, "hi"),
]


@pytest.mark.parametrize(("header", "preferred", "expected"), LANGUAGE_TABLE)
def test_choose_language(header: str | None, preferred: str | None, expected: str) -> None:
    assert choose_language(header, preferred, ("en", "hi")) == expected


# --- jurisdictions ---------------------------------------------------------------------------


def test_default_data_is_loaded(renderer: PageRenderer) -> None:
    assert renderer.languages == ("en", "hi")
    assert renderer.jurisdictions == ("in", "intl")


def test_check_jurisdiction(renderer: PageRenderer) -> None:
    assert renderer.check_jurisdiction("in") == "in"
    with pytest.raises(ValueError, match="unknown jurisdiction 'zz'.*in, intl"):
        renderer.check_jurisdiction("zz")


@pytest.mark.parametrize("lang", ["en", "hi"])
def test_unknown_jurisdiction_renders_the_generic_pack(renderer: PageRenderer, lang: str) -> None:
    html = renderer.render(_ctx("csam"), lang, "zz")
    assert html == renderer.render(_ctx("csam"), lang, "intl")
    for india_only in ("67B", "POCSO", "1930", "cybercrime.gov.in", "1098", "14416"):
        assert india_only not in html
    assert "inhope.org" in html


def test_a_country_is_added_by_adding_a_file(tmp_path: Path) -> None:
    root = tmp_path / "pages"
    shutil.copytree(PAGES_DIR, root, ignore=shutil.ignore_patterns("*.py", "__pycache__"))
    pack = (JURISDICTIONS / "intl.toml").read_text(encoding="utf-8")
    pack = pack.replace('emergency_number = ""', 'emergency_number = "999"')
    (root / "jurisdictions" / "xx.toml").write_text(pack, encoding="utf-8")
    custom = PageRenderer(root)
    assert custom.jurisdictions == ("in", "intl", "xx")
    assert 'href="tel:999"' in custom.render(_ctx("self_harm"), "en", "xx")


@pytest.mark.parametrize(
    ("folder", "name", "edit", "message"),
    [
        ("locales", "hi.toml", lambda s: s.replace("go_back =", "go_bak ="), "go_bak"),
        ("locales", "hi.toml", lambda s: s.replace("malware =", "# malware ="), "categories"),
        ("jurisdictions", "in.toml",
         lambda s: re.sub(r"\[text\.hi\].*?(?=\[\[contacts\]\])", "", s, flags=re.S),
         "missing \\['hi'\\]"),
        ("jurisdictions", "in.toml", lambda s: s.replace('"1930"', '"call us"'), "phone"),
        ("jurisdictions", "in.toml",
         lambda s: s.replace("https://cybercrime", "http://cybercrime"), "https"),
        ("jurisdictions", "intl.toml", lambda s: "this is = = not toml", "intl.toml"),
        ("templates", "blocked.html",
         lambda s: s.replace("t.blocked.lead_warn", "t.blocked.no_such_key"), "blocked.html"),
        ("locales", "hi.toml", lambda s: s.replace("{day} को ", ""), "opens_on"),
        ("locales", "en.toml", lambda s: s.replace("today from {time}", "today"), "opens_today"),
        ("locales", "en.toml", lambda s: s.replace(', sun = "Sunday"', ""), "weekdays"),
    ],
)  # fmt: skip
def test_bad_data_is_refused_at_load(
    tmp_path: Path, folder: str, name: str, edit: Any, message: str
) -> None:
    root = tmp_path / "pages"
    shutil.copytree(PAGES_DIR, root, ignore=shutil.ignore_patterns("*.py", "__pycache__"))
    target = root / folder / name
    target.write_text(edit(target.read_text(encoding="utf-8")), encoding="utf-8")
    with pytest.raises(PageDataError, match=message):
        PageRenderer(root)


# --- locale and pack parity (read straight from the TOML) ----------------------------------


def _keys(table: dict[str, Any], prefix: str = "") -> set[str]:
    out: set[str] = set()
    for key, value in table.items():
        path = f"{prefix}{key}"
        if isinstance(value, dict):
            out |= _keys(value, path + ".")
        else:
            out.add(path)
    return out


def _toml(path: Path) -> dict[str, Any]:
    return tomllib.loads(path.read_text(encoding="utf-8"))


def test_locale_key_parity() -> None:
    locales = {p.stem: _keys(_toml(p)) for p in LOCALES.glob("*.toml")}
    assert set(locales) == {"en", "hi"}
    assert locales["en"] - locales["hi"] == set(), "keys in en.toml missing from hi.toml"
    assert locales["hi"] - locales["en"] == set(), "keys in hi.toml missing from en.toml"


def test_hindi_locale_is_in_devanagari() -> None:
    def strings(table: dict[str, Any]) -> list[str]:
        return [
            text
            for value in table.values()
            for text in (strings(value) if isinstance(value, dict) else [value])
        ]

    found = strings(_toml(LOCALES / "hi.toml"))
    assert "सोमवार" in found  # nested tables (the weekdays) are read too
    assert all(DEVANAGARI.search(s) for s in found if s not in ("ltr",))


@pytest.mark.parametrize("pack", sorted(p.name for p in JURISDICTIONS.glob("*.toml")))
def test_each_jurisdiction_pack_has_every_language(pack: str) -> None:
    data = _toml(JURISDICTIONS / pack)
    languages = {p.stem for p in LOCALES.glob("*.toml")}
    assert set(data["text"]) == languages
    for contact in data["contacts"]:
        assert set(contact["text"]) == languages
        assert _keys(contact["text"]["en"]) == _keys(contact["text"]["hi"])
    assert _keys(data["text"]["en"]) == _keys(data["text"]["hi"])


@pytest.mark.parametrize(
    ("fields", "error"),
    [
        ({"ask_action": "/__abhaya/ask"}, "only where the category allows"),
        ({"ask_state": "pending"}, "only where the category allows"),
        ({"ask_parent": True, "ask_state": "maybe"}, "unknown ask_state"),
        ({"ask_parent": True, "ask_action": "//evil.example/ask"}, "same site"),
        ({"ask_parent": True, "ask_action": "https://evil.example/ask"}, "same site"),
    ],
)
def test_ask_form_fields_are_checked(fields: dict[str, Any], error: str) -> None:
    with pytest.raises(ValueError, match=error):
        PageContext(kind="blocked", category="gambling", action="block", **fields)


@pytest.mark.parametrize("lang", ["en", "hi"])
@pytest.mark.parametrize(
    ("state", "form", "marker"),
    [
        ("", True, None),
        ("sent", False, "sent"),
        ("pending", False, "pending"),
        ("denied", True, "denied"),
    ],
)
def test_ask_form_and_request_state(
    renderer: PageRenderer, lang: str, state: str, form: bool, marker: str | None
) -> None:
    page = renderer.render(
        PageContext(
            kind="blocked",
            category="gambling",
            action="block",
            ask_parent=True,
            ask_action="/__abhaya/ask",
            ask_page='/a"b',
            ask_state=state,
        ),
        lang,
        "in",
    )
    assert ('id="ask-form"' in page) is form
    assert ('maxlength="500"' in page) is form
    assert ('data-state="' in page) is (marker is not None)
    if marker:
        assert f'data-state="{marker}"' in page
    assert '/a"b' not in page


# --- when browsing is allowed again (a page stopped by the schedule) -----------------------


@pytest.mark.parametrize(
    ("day", "lang", "said"),
    [
        ("today", "en", "You can use the internet again today from 16:00."),
        ("tomorrow", "en", "You can use the internet again tomorrow from 16:00."),
        ("sat", "en", "You can use the internet again on Saturday from 16:00."),
        ("today", "hi", "आप आज 16:00 बजे से फिर इंटरनेट चला सकते हैं।"),
        ("mon", "hi", "आप सोमवार को 16:00 बजे से फिर इंटरनेट चला सकते हैं।"),
    ],
)
def test_a_schedule_page_says_when_browsing_is_allowed_again(
    renderer: PageRenderer, day: str, lang: str, said: str
) -> None:
    page = renderer.render(
        _ctx("blocked", category="schedule", opens=Opening(day, "16:00")), lang, "in"
    )
    assert f'<p id="opens">{said}</p>' in page
    assert 'id="opens"' not in renderer.render(_ctx("blocked", category="schedule"), lang, "in")


KOLKATA = ZoneInfo("Asia/Kolkata")


@pytest.mark.parametrize(
    ("now", "day"),
    [
        # 20:00 UTC on Tuesday 1 December is already 01:30 on Wednesday in Kolkata
        (dt.datetime(2026, 12, 1, 20, 0, tzinfo=dt.UTC), "today"),
        (dt.datetime(2026, 12, 1, 18, 0, tzinfo=dt.UTC), "tomorrow"),
        (dt.datetime(2026, 11, 29, 12, 0, tzinfo=dt.UTC), "wed"),
    ],
)
def test_an_opening_is_said_from_the_family_s_own_day(now: dt.datetime, day: str) -> None:
    opening = dt.datetime(2026, 12, 2, 16, 0, tzinfo=KOLKATA)  # Wednesday
    assert Opening.at(opening, now) == Opening(day, "16:00")


@pytest.mark.parametrize(
    ("make", "message"),
    [
        (lambda: Opening("someday", "16:00"), "opening day"),
        (lambda: Opening("today", "4pm"), "HH:MM"),
        (lambda: _ctx("self_harm", opens=Opening("today", "16:00")), "only a blocked page"),
    ],
)
def test_an_opening_is_checked(make: Any, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        make()
