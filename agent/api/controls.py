"""The API calls that change what the proxy does: pause and resume, the policy, children's
access requests and the approvals given on them.  Each handler parses its input at the edge
(wire.py), changes one thing through the service that owns it, and records what a parent did as
an event.
"""

from __future__ import annotations

from datetime import timedelta
from typing import Any, cast

from abhaya.agent.api.wire import ApiError, Request, Response, invalid, json_response
from abhaya.agent.pause import MAX_MINUTES
from abhaya.agent.services import Services
from abhaya.agent.store import Event, EventKind
from abhaya.agent.store.access import (
    AccessRequest,
    AlreadyDecidedError,
    ApprovalScope,
    RequestExpiredError,
    RequestStatus,
    UnknownRequestError,
    covers,
)
from abhaya.client import contract
from abhaya.filters.policy.load import PolicyError
from abhaya.filters.urlnorm import UrlError, normalize_host

MAX_APPROVE_MINUTES = 7 * 24 * 60
MAX_PROFILES = 1000
MAX_NAME = 200
REQUESTS_PREFIX = contract.REQUESTS + "/"


def _minutes(body: dict[str, Any], high: int) -> int:
    value = body.get("minutes")
    # bool is an int in Python; `true` is not a number of minutes.
    if not isinstance(value, int) or isinstance(value, bool) or not 1 <= value <= high:
        raise invalid("minutes", f"expected a whole number from 1 to {high}")
    return value


def _only(body: dict[str, Any], allowed: tuple[str, ...]) -> None:
    for name in body:
        if name not in allowed:
            raise invalid(name, f"unknown field; expected {sorted(allowed)}")


def request_record(item: AccessRequest, lifetime: timedelta) -> contract.AccessRequestRecord:
    waiting = item.status in (RequestStatus.PENDING, RequestStatus.EXPIRED)
    approved = item.status is RequestStatus.APPROVED
    return {
        "id": item.id,
        "time": item.time.isoformat(),
        "profile": item.profile,
        "domain": item.domain,
        "url": item.url,
        "reason": item.reason,
        "status": cast(contract.RequestStatus, str(item.status)),
        "answer_by": (item.time + lifetime).isoformat() if waiting else None,
        "decided_at": None if item.decided_at is None else item.decided_at.isoformat(),
        "expires_at": None if item.expires_at is None else item.expires_at.isoformat(),
        "scope": cast(contract.Scope, str(item.scope)) if approved else None,
        "covers": covers(item) if approved else None,
    }


class ParentControls:
    def __init__(self, services: Services) -> None:
        self._services = services

    def _event(self, kind: EventKind, action: str, detail: str, **fields: str) -> None:
        self._services.events.submit(
            Event(time=self._services.clock(), kind=kind, action=action, detail=detail, **fields)
        )

    # -- pause and resume -------------------------------------------------------------------

    def pause(self, request: Request) -> Response:
        body = request.json_object()
        _only(body, ("minutes",))
        minutes = _minutes(body, MAX_MINUTES)
        until = self._services.clock() + timedelta(minutes=minutes)
        self._services.pause.pause(until)
        self._event(
            EventKind.PROTECTION,
            "pause",
            f"protection paused for {minutes} minutes, until {until.isoformat()} "
            "(csam stays blocked)",
        )
        answer: contract.PauseState = {"paused": True, "until": until.isoformat()}
        return json_response(answer)

    def resume(self, request: Request) -> Response:
        request.only_params(())
        self._services.pause.resume()
        self._event(EventKind.PROTECTION, "resume", "protection resumed by a parent")
        answer: contract.PauseState = {"paused": False, "until": None}
        return json_response(answer)

    # -- the policy -------------------------------------------------------------------------

    def get_policy(self, request: Request) -> Response:
        request.only_params(())
        state = self._services.policy
        source = state.current.source
        try:
            with open(source, encoding="utf-8-sig") as file:
                text = file.read()
        except OSError as error:
            raise ApiError(500, f"the policy file {source} cannot be read: {error}") from None
        answer: contract.PolicyText = {
            "source": source,
            "text": text,
            "editable": state.path is not None,
        }
        return json_response(answer)

    def put_policy(self, request: Request) -> Response:
        body = request.json_object()
        _only(body, ("text",))
        text = body.get("text")
        if not isinstance(text, str):
            raise invalid("text", "expected the policy file's TOML text as a string")
        try:
            compiled = self._services.policy.replace_text(text)
        except LookupError:
            raise ApiError(
                409,
                "the agent runs on the embedded default policy, which cannot be changed; "
                "copy it to a file and start the agent with --policy FILE",
            ) from None
        except PolicyError as error:
            raise ApiError(
                422, f"policy refused, the previous one stays in force: {error}", field="text"
            ) from None
        self._event(EventKind.PROTECTION, "policy", f"policy replaced: {compiled.source}")
        answer: contract.PolicyApplied = {
            "applied": True,
            "source": compiled.source,
            "skipped_lines": len(compiled.problems),
            "notices": list(compiled.notices),
        }
        return json_response(answer)

    # -- access requests --------------------------------------------------------------------

    def list_requests(self, request: Request) -> Response:
        request.only_params(("status",))
        text = request.param("status")
        status: RequestStatus | None = None
        if text is not None:
            try:
                status = RequestStatus(text)
            except ValueError:
                raise invalid(
                    "status", f"expected one of {[str(s) for s in RequestStatus]}"
                ) from None
        lifetime = self._services.access.lifetime()
        items = self._services.access.list(status, self._services.clock())
        answer: contract.RequestList = {
            "requests": [request_record(item, lifetime) for item in items]
        }
        return json_response(answer)

    def decide_request(self, request: Request) -> Response:
        rest = request.path.removeprefix(REQUESTS_PREFIX)
        ident_text, _, verb = rest.partition("/")
        if (
            verb not in ("approve", "deny")
            or not ident_text.isascii()
            or not (ident_text.isdigit() and len(ident_text) <= 18)
        ):
            raise ApiError(404, f"no such call: {request.path}")
        if request.method != "POST":
            raise ApiError(405, f"{request.path} accepts POST", headers=(("Allow", "POST"),))
        ident = int(ident_text)
        now = self._services.clock()
        expires = None
        scope = ApprovalScope.SITE
        if verb == "approve":
            body = request.json_object()
            _only(body, ("minutes", "always", "scope"))
            try:
                scope = ApprovalScope(body.get("scope", "site"))
            except ValueError:
                raise invalid("scope", "expected site or host") from None
            always = body.get("always", False)
            if not isinstance(always, bool):
                raise invalid("always", "expected true or false")
            if always and "minutes" in body:
                raise invalid("minutes", "give minutes or always, not both")
            if not always:
                expires = now + timedelta(minutes=_minutes(body, MAX_APPROVE_MINUTES))
            status = RequestStatus.APPROVED
        else:
            if request.body.strip():
                _only(request.json_object(), ())
            status = RequestStatus.DENIED
        lifetime = self._services.access.lifetime()
        try:
            decided = self._services.access.decide(ident, status, now, expires, scope=scope)
        except UnknownRequestError as error:
            raise ApiError(404, str(error)) from None
        except (AlreadyDecidedError, RequestExpiredError) as error:
            raise ApiError(409, str(error)) from None
        until = "always" if expires is None else f"until {expires.isoformat()}"
        approved = f" for {covers(decided)} ({scope} scope) {until}"
        self._event(
            EventKind.ACCESS_DECISION,
            str(status),
            f"request {ident} {status}" + (approved if status is RequestStatus.APPROVED else ""),
            profile=decided.profile,
            domain=decided.domain,
            url=decided.url,
        )
        return json_response(request_record(decided, lifetime))

    def end_approvals(self, request: Request) -> Response:
        """POST /v1/approvals/end: a parent blocked a site, so approvals of it end now.

        An approval beats the profile's block list (`PolicyAddon._override`), so blocking a
        site a child was allowed into would change nothing until the approval ran out.  Each
        ended approval is recorded for the parent's history; ending none is no error.
        """
        body = request.json_object()
        _only(body, ("site", "profiles"))
        text = body.get("site")
        if not isinstance(text, str) or not text.strip() or len(text) > MAX_NAME:
            raise invalid("site", f"expected a site's name, at most {MAX_NAME} characters")
        try:
            site = normalize_host(text.strip())
        except UrlError as error:
            raise invalid("site", f"not a site's name: {error}") from None
        profiles: frozenset[str] | None = None
        if "profiles" in body:
            names = body["profiles"]
            if (
                not isinstance(names, list)
                or not names
                or len(names) > MAX_PROFILES
                or not all(isinstance(n, str) and 0 < len(n) <= MAX_NAME for n in names)
            ):
                raise invalid("profiles", "expected a list of children's (profiles') names")
            profiles = frozenset(names)
        ended = self._services.access.end(site, profiles, self._services.clock())
        for item in ended:
            self._event(
                EventKind.ACCESS_DECISION,
                "ended",
                f"request {item.id}'s approval for {covers(item)} ({item.scope} scope) ended: "
                f"a parent blocked {site}",
                profile=item.profile,
                domain=item.domain,
                url=item.url,
            )
        lifetime = self._services.access.lifetime()
        answer: contract.ApprovalsEnded = {
            "site": site,
            "ended": [request_record(item, lifetime) for item in ended],
        }
        return json_response(answer)
