"""Headless Chromium through the proxy, trusting the agent's CA the way a Linux user does
(an NSS database in the browser profile's home), loading a blocked HTTPS page, a keyword
search, and csam and self-harm searches in English and Hindi, decided by lists, by rules and by
the query model.  Screenshots are kept as test
artefacts in test-artifacts/ for a person to look at.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import subprocess
from pathlib import Path

import pytest

from abhaya.agent.store.queries import EventFilter, events_page
from tests.agent.conftest import RunningAgent, Upstream

CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
ARTIFACTS = Path(os.environ.get("ABHAYA_TEST_ARTIFACTS", "test-artifacts"))

pytestmark = pytest.mark.chromium


@pytest.fixture(scope="module")
def browser_home(running: RunningAgent, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A home folder whose NSS database trusts the agent's CA (what certutil -A does for users)."""
    if CHROMIUM is None or shutil.which("certutil") is None:
        pytest.fail("chromium and certutil are required: run scripts/test.sh to install them")
    home = tmp_path_factory.mktemp("chromium-home")
    nssdb = home / ".pki" / "nssdb"
    nssdb.mkdir(parents=True)
    subprocess.run(["certutil", "-d", f"sql:{nssdb}", "-N", "--empty-password"], check=True)
    subprocess.run(
        [
            "certutil",
            "-d",
            f"sql:{nssdb}",
            "-A",
            "-t",
            "C,,",
            "-n",
            "Abhaya",
            "-i",
            str(running.ca_file),
        ],
        check=True,
    )
    return home


def chromium(home: Path, proxy: str, *args: str) -> subprocess.CompletedProcess[str]:
    assert CHROMIUM is not None
    return subprocess.run(
        [
            CHROMIUM,
            "--headless",
            "--no-sandbox",
            "--disable-gpu",
            "--disable-quic",
            "--no-first-run",
            "--disable-background-networking",
            "--disable-component-update",
            "--disable-sync",
            f"--user-data-dir={home / 'profile'}",
            f"--proxy-server={proxy}",
            "--proxy-bypass-list=<-loopback>",
            "--window-size=1000,1200",
            "--virtual-time-budget=5000",
            *args,
        ],
        capture_output=True,
        text=True,
        timeout=120,
        env={**os.environ, "HOME": str(home)},
    )


@pytest.mark.parametrize(
    ("name", "url", "expected"),
    [
        ("blocked-https-en", "https://www.adult.example/", ["adult.example"]),
        ("csam-https", "https://csam-test.invalid/", ["1930", "67B", "1098"]),
        ("keyword-search", "https://www.bing.com/search?q=online+casino", ["ask-parent"]),
        ("unreachable-https", "https://nothing-here.invalid/", ["not-a-block"]),
    ],
)
def test_warning_page_renders_in_chromium(
    running: RunningAgent, browser_home: Path, name: str, url: str, expected: list[str]
) -> None:
    render_and_keep(running, browser_home, name, url, expected)


# The test policy's keyword lists hold generated terms: "zanzibar quokka" is csam, "want to
# vanish forever" is self_harm (tests/conftest.py).
RISKY_SEARCHES = [
    (
        "csam-search-en",
        "en-US",
        "https://www.bing.com/search?q=zanzibar+quokka+video",
        ["Warning: sexual images of children are illegal", "by mistake", "67B", "1098", "14416"],
        ["zanzibar", "quokka", "bing.com", 'id="continue"'],
    ),
    (
        "csam-search-hi",
        "hi-IN",
        "https://duckduckgo.com/?q=zanzibar+quokka",
        ["बच्चों की यौन तस्वीरें गैरकानूनी हैं", "गलती से", "67B", "1098"],
        ["zanzibar", "quokka", 'id="continue"'],
    ),
    (
        "self-harm-search-en",
        "en-US",
        "https://duckduckgo.com/?q=i+want+to+vanish+forever",
        ["You are not alone", "Talk to someone now", "14416", "1098", "112"],
        ["vanish"],
    ),
    (
        "self-harm-search-hi",
        "hi-IN",
        "https://www.bing.com/search?q=want+to+vanish+forever",
        ["आप अकेले नहीं हैं", "14416", "112"],
        ["vanish"],
    ),
    # No list names these: the combination rules of filters/data/search_rules/ decide them
    # (a minor word with a sexual word; Hindi word order around hurting oneself).
    (
        "csam-search-rule-hinglish",
        "hi-IN",
        "https://www.bing.com/search?q=nabalig+nangi+tasveer",
        ["बच्चों की यौन तस्वीरें गैरकानूनी हैं", "67B", "1098"],
        ["nabalig", "tasveer", 'id="continue"'],
    ),
    (
        "self-harm-search-rule-hinglish",
        "hi-IN",
        "https://duckduckgo.com/?q=khud+ko+kaise+maare",
        ["आप अकेले नहीं हैं", "14416", "112"],
        ["maare"],
    ),
    # Neither lists nor rules name these words: the query model's second opinion decides.
    (
        "csam-search-model-en",
        "en-US",
        "https://www.bing.com/search?q=youngsters+without+clothing+pictures",
        ["Warning: sexual images of children are illegal", "67B", "1098"],
        ["youngsters", 'id="continue"'],
    ),
    (
        "self-harm-search-model-hinglish",
        "hi-IN",
        "https://duckduckgo.com/?q=naa+jeene+ki+ichha+hai",
        ["आप अकेले नहीं हैं", "14416", "112"],
        ["jeene"],
    ),
]


@pytest.mark.parametrize(("name", "lang", "url", "expected", "absent"), RISKY_SEARCHES)
def test_risky_search_pages_in_chromium(
    running: RunningAgent,
    browser_home: Path,
    name: str,
    lang: str,
    url: str,
    expected: list[str],
    absent: list[str],
) -> None:
    """A search is answered with its own page; nothing the child typed is shown back."""
    dom = render_and_keep(running, browser_home, name, url, expected, f"--accept-lang={lang}")
    for text in absent:
        assert text not in dom, f"{text!r} is on the page Chromium rendered for {url}"


def render_and_keep(
    running: RunningAgent, home: Path, name: str, url: str, expected: list[str], *args: str
) -> str:
    """Load `url` in Chromium through the proxy, check the page and keep a screenshot."""
    dom = chromium(home, running.proxy_url, *args, "--dump-dom", url)
    assert dom.returncode == 0, dom.stderr[-2000:]
    for text in expected:
        assert text in dom.stdout, f"{text!r} not in the page Chromium rendered for {url}"
    assert "ERR_" not in dom.stdout  # not Chromium's own error page (e.g. an untrusted cert)

    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    shot = (ARTIFACTS / f"chromium-{name}.png").absolute()
    result = chromium(home, running.proxy_url, *args, f"--screenshot={shot}", url)
    assert result.returncode == 0, result.stderr[-2000:]
    assert shot.stat().st_size > 10_000  # a rendered page, not an empty frame
    return dom.stdout


def test_a_search_a_page_script_posts_is_judged_on_its_body(
    running: RunningAgent, browser_home: Path, upstream: Upstream
) -> None:
    """As YouTube's page script does: a fetch() POST with the search in a JSON body.  Chromium
    declares the body's length (over HTTP/2 too), so the proxy waits for the body and reads it:
    the csam search is blocked before the site, the innocent one goes on."""
    script = (
        "const send = (q) => fetch('https://www.youtube.com/youtubei/v1/search?prettyPrint=false',"
        " {method: 'POST', mode: 'no-cors', body: JSON.stringify({context: {}, query: q})});"
        "send('zanzibar quokka').then(() => send('rain songs'))"
        ".then(() => document.body.append('both ' + 'sent'), (e) => document.body.append('' + e));"
    )
    page = browser_home / "search.html"
    page.write_text(f"<body><script>{script}</script>", encoding="utf-8")
    before = len(upstream.hosts_seen)
    dom = chromium(browser_home, running.proxy_url, "--dump-dom", page.as_uri())
    assert dom.returncode == 0, dom.stderr[-2000:]
    assert "both sent" in dom.stdout, dom.stdout[-2000:]
    assert upstream.hosts_seen[before:] == ["www.youtube.com"]  # the innocent search only
    assert running.agent.services.events.flush(20)
    with contextlib.closing(running.agent.store.connect(read_only=True)) as conn:
        page_of_events = events_page(conn, EventFilter(text="youtubei"), limit=10)
    judged = [(item.event.category, item.event.reason) for item in page_of_events.events]
    assert ("csam", "keyword") in judged, judged
    assert ("", "limits") not in judged, judged  # the body was waited for, not refused
