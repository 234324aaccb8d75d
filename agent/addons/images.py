"""Screens the images of inspected pages before the browser gets them.

- `requestheaders`:
  - an image request's `Accept` loses `image/avif` and `image/jxl`, so servers that choose a
    format by it send one Abhaya can check (JPEG, PNG, WebP, GIF), and its `Accept-Encoding`
    loses `br` (brotli cannot be inflated within a bound: such an image is unscannable);
  - a page (a document or frame) of a site held by `HeldSites` (most of its images were
    flagged, or one matched a zero-tolerance hash list) gets a warning instead: the verdict
    is changed here, before the pages addon answers it.  A parent's approval, a pause or a
    "continue anyway" still lets a held site through, never for csam.
- `responseheaders`: an image response is held whole (`holdwhole`), up to `MAX_IMAGE_BYTES`,
  even where mitmproxy would stream it (larger than `STREAM_LARGE_BODIES`, or sent without a
  length and growing past it), so it is checked before any of it is sent.  One that declares
  more than `MAX_IMAGE_BYTES` cannot be checked and gets the policy's `unscannable` action
  (block: the connection is closed before any of it is sent).  One sent without a length that
  grows past `MAX_IMAGE_BYTES` is streamed by mitmproxy and reaches the browser unchecked
  (recorded; see the README).
- `response`: a response that is an image (by its bytes, whatever its content type says; or by
  a content type naming a raster format Abhaya does not decode) is inflated within
  `MAX_IMAGE_BYTES` when the server compressed it (`inflate`: a gzip bomb is unscannable, not
  gigabytes in the agent), then screened off the event loop
  (`ImageScreener`) and, as the verdict says, delivered, blurred or replaced by a placeholder
  of the same size.  Every image that is not plainly allowed is an event (`EventKind.IMAGE`)
  with its SHA-256, PDQ hash and score, never its pixels; and it counts towards its page's
  site in `HeldSites`.

SVG and icons are not screened (drawings and tiny pictures, not photographs); nor is anything
on a host whose TLS is passed through undecrypted (the policy's `[inspect]`: `never`, and in
mode `needed` every host that is not an image site, a search engine or otherwise needed).
While protection is paused, only the known-image hash lists are checked.
"""

from __future__ import annotations

import dataclasses
import logging
from urllib.parse import urlsplit

from mitmproxy import http

from abhaya.agent import holdwhole
from abhaya.agent.addons.flowdata import (
    attribution_of,
    host_key,
    profile_of,
    request_url,
    set_verdict,
    verdict_of,
)
from abhaya.agent.addons.inflate import Uninflatable, head, inflate
from abhaya.agent.holdwhole import held_whole, hold_whole
from abhaya.agent.imageevidence import ImageEvidence
from abhaya.agent.imagescreen import ImageScreener, Screened
from abhaya.agent.imagesites import HeldSites
from abhaya.agent.services import Services
from abhaya.agent.store import Event, EventKind, url_without_query
from abhaya.filters.policy.compile import ImageScreening
from abhaya.filters.policy.model import UnscannableAction
from abhaya.filters.verdict import ZERO_TOLERANCE, Action, Category, Reason, Verdict
from abhaya.models.imagedecode import sniff_format
from abhaya.models.imageredact import SVG_TYPE, placeholder

log = logging.getLogger(__name__)

MAX_IMAGE_BYTES = 16 * 1024 * 1024
"""The largest image held whole to be checked; a larger one is unscannable."""
_NOT_SCREENED_TYPES = frozenset(
    {"image/svg+xml", "image/x-icon", "image/vnd.microsoft.icon"}
)  # fmt: skip
_UNDECODED_FORMATS = ("image/avif", "image/jxl")
"""Formats browsers ask for that Abhaya does not decode: dropped from `Accept`."""
_NO_BODY_STATUSES = frozenset({204, 304})
_PAGE_DESTINATIONS = frozenset({"document", "iframe", "frame"})
_HELD_RULE = "images.page_share"


class ImageScreen:
    name = "images"

    def __init__(self, services: Services, screener: ImageScreener) -> None:
        holdwhole.install()
        self._services = services
        self._screener = screener
        self._held = HeldSites(services.clock)

    def requestheaders(self, flow: http.HTTPFlow) -> None:
        verdict = verdict_of(flow)
        if verdict is None or verdict.stops:
            return
        _ask_for_checkable_images(flow.request)
        if not _is_page(flow.request):
            return
        profile = profile_of(flow, self._services.policy.current).name
        held = self._held.held(profile, host_key(flow.request.pretty_host))
        if held is None or (verdict.override is not None and held is not ZERO_TOLERANCE):
            return
        set_verdict(flow, _held_verdict(held))

    async def responseheaders(self, flow: http.HTTPFlow) -> None:
        response = flow.response
        if response is None or _content_type(response) is None:
            return
        rules = self._rules(flow)
        if not rules.enabled and not len(self._services.policy.current.hashes):
            return
        length = _declared_length(response)
        if length is None or length <= MAX_IMAGE_BYTES:
            hold_whole(flow, MAX_IMAGE_BYTES)  # never streamed: checked whole at `response`
            response.stream = False
            return
        screened = self._screener.unchecked(b"", rules, "too large to check")
        if screened.verdict.action is Action.BLOCK:
            flow.kill()  # the image never arrives: a broken image, not an unchecked one
        await self._record(flow, screened, profile_of(flow, self._services.policy.current).name)

    async def response(self, flow: http.HTTPFlow) -> None:
        response = flow.response
        verdict = verdict_of(flow)
        if response is None or verdict is None or verdict.stops:
            return  # Abhaya's own page, or a flow the last word blocks
        if response.status_code in _NO_BODY_STATUSES or response.status_code < 200:
            return
        media = _content_type(response)
        if response.stream:
            if media is not None and held_whole(flow):
                # Held, but sent without a length and grown past MAX_IMAGE_BYTES: mitmproxy
                # streamed it.  The others were refused or left alone at `responseheaders`.
                late = dataclasses.replace(self._rules(flow), unscannable=UnscannableAction.ALLOW)
                why = "streamed before it could be checked"
                await self._apply(flow, self._screener.unchecked(b"", late, why))
            return
        raw = response.raw_content or b""
        coding = response.headers.get("content-encoding", "")
        if media is None and sniff_format(head(raw, coding)) is None:
            return  # not an image: its body is not inflated at all
        compiled = self._services.policy.current
        rules = self._rules(flow)
        if not rules.enabled and not len(compiled.hashes):
            return  # nothing checks this profile's images
        try:
            data = inflate(raw, coding, MAX_IMAGE_BYTES)
        except Uninflatable as err:
            await self._apply(flow, self._screener.unchecked(b"", rules, str(err)))
            return
        if not data:
            return
        if response.status_code == 206:
            why = "only part of the image was sent"
            screened = self._screener.unchecked(data, rules, why)
        else:
            screened = await self._screener.screen(data, rules, compiled.hashes)
        await self._apply(flow, screened)

    def _rules(self, flow: http.HTTPFlow) -> ImageScreening:
        """The profile's screening; while protection is paused, hash lists only."""
        services = self._services
        rules = profile_of(flow, services.policy.current).images
        if services.pause.paused_until(services.clock()) is not None:
            return dataclasses.replace(rules, enabled=False)
        return rules

    async def _apply(self, flow: http.HTTPFlow, screened: Screened) -> None:
        verdict = screened.verdict
        response = flow.response
        assert response is not None
        if verdict.action in (Action.BLUR, Action.BLOCK):
            body = screened.replacement or placeholder(screened.scan.width, screened.scan.height)
            _replace_body(response, body)
        profile = profile_of(flow, self._services.policy.current)
        site = _page_site(flow)
        if screened.hit is not None and screened.hit.category is ZERO_TOLERANCE:
            self._held.hold(profile.name, site, ZERO_TOLERANCE)
        elif not screened.scan.unscannable and not screened.scan.skipped:
            # A profile that only logs flagged images is never shown a held site's warning.
            flagged = verdict.reason is Reason.MODEL and verdict.action is not Action.ALLOW
            if self._held.note(profile.name, site, flagged, profile.images):
                log.warning("%s held: most images on its pages were flagged", site)
        if verdict.action is not Action.ALLOW or verdict.reason is not Reason.NO_MATCH:
            await self._record(flow, screened, profile.name)

    async def _record(self, flow: http.HTTPFlow, screened: Screened, profile: str) -> None:
        services = self._services
        verdict, scan, hit = screened.verdict, screened.scan, screened.hit
        url = request_url(flow.request, by_host_header=True)
        keep_query = services.policy.current.policy.events.keep_query
        evidence = ImageEvidence(
            sha256=scan.sha256,
            pdq=scan.pdq.hex if scan.pdq is not None else "",
            pdq_quality=scan.pdq.quality if scan.pdq is not None else None,
            distance=hit.distance if hit is not None else None,
            list_name=hit.list_name if hit is not None else "",
            list_version=hit.list_version if hit is not None else "",
            listed_hash=hit.listed_hex if hit is not None else "",
            label=hit.label if hit is not None else "",
            score=scan.score,
            model=self._screener.model_version if scan.score is not None else "",
            page=_page_url(flow, keep_query),
            width=scan.width or None,
            height=scan.height or None,
            format=scan.format,
        )
        who = attribution_of(flow)
        services.events.submit(
            Event(
                time=services.clock(),
                kind=EventKind.IMAGE,
                profile=profile,
                category=str(verdict.category or ""),
                action=str(verdict.action),
                domain=flow.request.pretty_host,
                url=url if keep_query else url_without_query(url),
                rule=verdict.rule,
                detail=evidence.to_json(),
                reason=str(verdict.reason),
                os_user=who.user,
                process=await who.process_name_off_loop(),
            )
        )
        log.info("image %s %s on %s", verdict.action, verdict.reason, flow.request.pretty_host)


def _held_verdict(category: Category) -> Verdict:
    zero = category is ZERO_TOLERANCE
    return Verdict(
        Action.BLOCK if zero else Action.WARN,
        Reason.HASH_MATCH if zero else Reason.MODEL,
        category=category,
        detail="an image on this site matched a known-image list"
        if zero
        else "most images on this site's pages were flagged",
        rule=_HELD_RULE,
        source="images",
    )


def _ask_for_checkable_images(request: http.Request) -> None:
    """Leave out of the request what Abhaya could not check in the answer: image formats it
    does not decode, and, on image requests, brotli (it cannot be inflated within a bound, so a
    brotli image is unscannable)."""
    _drop_listed(request, "accept", _UNDECODED_FORMATS)
    destination = request.headers.get("sec-fetch-dest", "").lower()
    if destination == "image" or request.headers.get("accept", "").startswith("image/"):
        _drop_listed(request, "accept-encoding", ("br",))


def _drop_listed(request: http.Request, header: str, names: tuple[str, ...]) -> None:
    """Remove `names` (and their parameters) from a comma-separated header."""
    value = request.headers.get(header, "")
    parts = value.split(",")
    kept = [part for part in parts if part.split(";", 1)[0].strip().lower() not in names]
    if len(kept) != len(parts):
        request.headers[header] = ",".join(kept)


def _is_page(request: http.Request) -> bool:
    destination = request.headers.get("sec-fetch-dest", "").lower()
    if destination:
        return destination in _PAGE_DESTINATIONS
    return request.method == "GET" and "text/html" in request.headers.get("accept", "")


def _content_type(response: http.Response) -> str | None:
    """The response's media type when it names a raster image (screened, or unscannable when
    it is not JPEG, PNG, WebP or GIF); None for anything else (decided by its bytes)."""
    media = str(response.headers.get("content-type", "")).split(";", 1)[0].strip().lower()
    if media.startswith("image/") and media not in _NOT_SCREENED_TYPES:
        return media
    return None


def _declared_length(response: http.Response) -> int | None:
    """The body's length as the headers declare it; None when they do not (or not readably)."""
    try:
        return int(response.headers.get("content-length", ""))
    except ValueError:
        return None


def _replace_body(response: http.Response, body: bytes) -> None:
    for name in ("content-encoding", "etag", "last-modified", "content-range"):
        response.headers.pop(name, None)
    response.headers["content-type"] = SVG_TYPE
    response.headers["cache-control"] = "no-store"
    response.headers["x-content-type-options"] = "nosniff"
    response.content = body


def _page_site(flow: http.HTTPFlow) -> str:
    """The host of the page the image is on (its Referer), else the image's own host."""
    referer = flow.request.headers.get("referer", "")
    try:
        host = urlsplit(referer).hostname or ""
    except ValueError:
        host = ""
    return host_key(host or flow.request.pretty_host)


def _page_url(flow: http.HTTPFlow, keep_query: bool) -> str:
    referer = flow.request.headers.get("referer", "")
    return referer if keep_query else url_without_query(referer) if referer else ""
