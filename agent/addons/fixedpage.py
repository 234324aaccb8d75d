"""The page shown when Abhaya itself failed: fixed bytes, made without templates or the policy.

When an addon raises, the renderer, the policy or the store may be the part that broke, so this
page depends on none of them: it is built once at import from literals and is the same for
every request.  It is kind (it says the page was stopped to be safe, not because the child did
something wrong), bilingual (English and Hindi, the languages of the other pages) and tells the
child what to do.
"""

from __future__ import annotations

from typing import Final

from mitmproxy import http

STATUS: Final = 503

_HTML: Final = """<!doctype html>
<html lang="en"><head><meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>Abhaya: this page was stopped to keep you safe</title>
<style>body{font-family:system-ui,sans-serif;max-width:38rem;margin:3rem auto;padding:0 1rem;
line-height:1.5;color:#1f2933}h1{font-size:1.4rem}p{margin:.6rem 0}
.hi{margin-top:2rem;border-top:1px solid #d9e2ec;padding-top:1rem}</style></head>
<body>
<h1>This page was stopped to keep you safe</h1>
<p>Abhaya could not check this page just now, so it did not open it. You did nothing wrong.</p>
<p>Go back and try again in a minute. If it keeps happening, ask a parent or a teacher for
help.</p>
<div class="hi" lang="hi">
<h1>सुरक्षा के लिए यह पेज रोका गया</h1>
<p>अभय अभी इस पेज की जाँच नहीं कर सका, इसलिए इसे नहीं खोला गया। आपने कुछ ग़लत नहीं किया।</p>
<p>वापस जाएँ और थोड़ी देर बाद फिर कोशिश करें। अगर ऐसा बार-बार हो, तो माता-पिता या शिक्षक से मदद
माँगें।</p>
</div>
</body></html>
"""

BODY: Final = _HTML.encode("utf-8")
HEADERS: Final = (
    (b"Content-Type", b"text/html; charset=utf-8"),
    (b"Cache-Control", b"no-store"),
    (b"X-Content-Type-Options", b"nosniff"),
    (b"Content-Security-Policy", b"default-src 'none'; style-src 'unsafe-inline'"),
)


def answer_with_fixed_page(flow: http.HTTPFlow) -> None:
    """Replace whatever answer the flow had with the fixed page; nothing goes upstream.

    Works at every stage: before the request went out (the server is never contacted) and
    after a response arrived (its body is dropped, never sent on).
    """
    flow.request.stream = False
    flow.response = http.Response.make(STATUS, BODY, HEADERS)
