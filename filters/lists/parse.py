"""Read the block-list formats people actually use into one neutral, immutable shape.

Formats:
- HOSTS: `0.0.0.0 a.example b.example  # comment` (StevenBlack and friends); the address may be
  any IPv4/IPv6 address; the machine's own names (`localhost`, `broadcasthost`, ...) are skipped.
- PLAIN: one domain a line, `#` and `!` comments; `*.example.com` and `.example.com` mean the
  domain and its subdomains, which is what every listed domain means here anyway.
- ADBLOCK: `||domain^` blocks and `@@||domain^` exceptions.  Modifiers that only narrow when a
  rule applies (`$third-party`, `$important`, `$document`, `$all`) still mean "block this domain"
  and are accepted; cosmetic, path, regex and other rules cannot be enforced by domain and are
  skipped and counted by reason in `ParsedList.skipped`, not reported as problems.
- UT1: a category folder of the Toulouse blacklists, with a `domains` file (plain) and an
  optional `urls` file (`host/path` lines, which become URL rules).

A malformed line is skipped and reported as a `ListProblem` with file and line number; parsing
goes on, because one bad line in a list of millions must not disable the rest.  Only a file that
cannot be read at all raises `ListLoadError`.
"""

from __future__ import annotations

import ipaddress
import re
from collections import Counter
from collections.abc import Mapping
from dataclasses import dataclass
from enum import StrEnum
from pathlib import Path
from types import MappingProxyType

from abhaya.filters.lists.domains import normalize_domain
from abhaya.filters.problems import LineProblem
from abhaya.filters.urlnorm import UrlError, parse_url

__all__ = [
    "MAX_PROBLEMS",
    "ListFormat",
    "ListLoadError",
    "ListProblem",
    "ParsedList",
    "parse_list",
]

# Problems listed per parse; a list that is garbage throughout still yields a bounded report, and
# the rest are counted in `skipped["problems_not_listed"]`.
MAX_PROBLEMS = 1000
_SNIFF_LINES = 1000
_LOCAL_NAMES = frozenset(
    {
        "localhost",
        "localhost.localdomain",
        "local",
        "broadcasthost",
        "ip6-localhost",
        "ip6-loopback",
        "ip6-localnet",
        "ip6-mcastprefix",
        "ip6-allnodes",
        "ip6-allrouters",
        "ip6-allhosts",
        "0.0.0.0",
    }
)
_COMMON_ADDRESSES = frozenset({"0.0.0.0", "127.0.0.1", "::", "::1", "::0"})
_ACCEPTED_MODIFIERS = frozenset({"third-party", "3p", "important", "document", "doc", "all"})
_COSMETIC = re.compile(r"#[@?$%]{0,3}#|\$\$")


class ListFormat(StrEnum):
    AUTO = "auto"
    HOSTS = "hosts"
    PLAIN = "plain"
    ADBLOCK = "adblock"
    UT1 = "ut1"


ListProblem = LineProblem
"""One line that could not be used, with where it is and why."""


@dataclass(frozen=True)
class ParsedList:
    """What a list contains, normalised and deduplicated, in first-seen order."""

    domains: tuple[str, ...]
    exceptions: tuple[str, ...]
    url_rules: tuple[str, ...]
    problems: tuple[ListProblem, ...]
    skipped: Mapping[str, int]


class ListLoadError(Exception):
    """A list file or folder could not be read at all; the message names the path and reason."""


class _Collector:
    """Mutable state of one `parse_list` call; frozen into a `ParsedList` at the end."""

    def __init__(self) -> None:
        self.domains: dict[str, None] = {}
        self.exceptions: dict[str, None] = {}
        self.url_rules: dict[str, None] = {}
        self.problems: list[ListProblem] = []
        self.skipped: Counter[str] = Counter()

    def problem(self, file: str, line: int, text: str, message: str) -> None:
        if len(self.problems) < MAX_PROBLEMS:
            self.problems.append(ListProblem(file, line, text[:300], message))
        else:
            self.skipped["problems_not_listed"] += 1

    def freeze(self) -> ParsedList:
        return ParsedList(
            domains=tuple(self.domains),
            exceptions=tuple(self.exceptions),
            url_rules=tuple(self.url_rules),
            problems=tuple(self.problems),
            skipped=MappingProxyType(dict(self.skipped)),
        )


def parse_list(path: Path, fmt: ListFormat = ListFormat.AUTO) -> ParsedList:
    """Parse a list file (or a UT1 category folder); see the module docstring for formats.

    Raises `ListLoadError` if the file or folder cannot be read, or is a folder when `fmt` names
    a file format.
    """
    out = _Collector()
    if path.is_dir() or fmt is ListFormat.UT1:
        if fmt not in (ListFormat.AUTO, ListFormat.UT1):
            raise ListLoadError(f"cannot read {path}: is a folder, not a {fmt} list file")
        _parse_ut1(path, out)
        return out.freeze()
    lines = _read_lines(path, out)
    if fmt is ListFormat.AUTO:
        fmt = sniff_format(lines)
    parser = {
        ListFormat.HOSTS: _parse_hosts,
        ListFormat.PLAIN: _parse_plain,
        ListFormat.ADBLOCK: _parse_adblock,
    }[fmt]
    parser(str(path), lines, out)
    return out.freeze()


def _read_lines(path: Path, out: _Collector) -> list[str]:
    """Lines of a UTF-8 file (BOM tolerated); undecodable bytes become U+FFFD and a problem."""
    try:
        data = path.read_bytes()
    except OSError as exc:
        raise ListLoadError(f"cannot read {path}: {exc.strerror or exc}") from exc
    text = data.decode("utf-8", errors="replace").removeprefix("\ufeff")
    lines = text.split("\n")
    if "\ufffd" in text:
        for number, line in enumerate(lines, 1):
            if "\ufffd" in line:
                out.problem(str(path), number, line.strip(), "not valid UTF-8")
                lines[number - 1] = ""
    return lines


def sniff_format(lines: list[str]) -> ListFormat:
    """Guess HOSTS, ADBLOCK or PLAIN from the first meaningful lines of a file."""
    seen = 0
    hosts = False
    for raw in lines:
        line = raw.strip()
        if not line:
            continue
        if line.startswith(("[Adblock", "||", "@@", "|http")):
            return ListFormat.ADBLOCK
        if line[0] in "#!":
            continue
        if _COSMETIC.search(line):
            return ListFormat.ADBLOCK
        tokens = line.split()
        if len(tokens) >= 2 and not tokens[1].startswith("#") and _is_address(tokens[0]):
            hosts = True
        seen += 1
        if seen >= _SNIFF_LINES:
            break
    return ListFormat.HOSTS if hosts else ListFormat.PLAIN


def _is_address(text: str) -> bool:
    if text in _COMMON_ADDRESSES:
        return True
    try:
        ipaddress.ip_address(text)
    except ValueError:
        return False
    return True


def _parse_plain(file: str, lines: list[str], out: _Collector) -> None:
    domains = out.domains
    for number, raw in enumerate(lines, 1):
        line = raw.strip()
        if not line or line[0] in "#!":
            continue
        if "#" in line:
            line = line.partition("#")[0].rstrip()
        if line.startswith("*."):
            line = line[2:]
        elif line[0] == ".":
            line = line[1:]
        try:
            domains[normalize_domain(line)] = None
        except UrlError as exc:
            out.problem(file, number, raw.strip(), str(exc))


def _parse_hosts(file: str, lines: list[str], out: _Collector) -> None:
    domains = out.domains
    for number, raw in enumerate(lines, 1):
        line = raw.strip()
        if not line or line[0] == "#":
            continue
        if "#" in line:
            line = line.partition("#")[0]
        tokens = line.split()
        if not _is_address(tokens[0]):
            out.problem(file, number, raw.strip(), "expected an IP address before the names")
            continue
        if len(tokens) == 1:
            out.problem(file, number, raw.strip(), "no host name after the address")
            continue
        for name in tokens[1:]:
            if name.lower() in _LOCAL_NAMES:
                out.skipped["local"] += 1
                continue
            try:
                domains[normalize_domain(name)] = None
            except UrlError as exc:
                out.problem(file, number, raw.strip(), f"{name!r}: {exc}")


def _parse_adblock(file: str, lines: list[str], out: _Collector) -> None:
    for number, raw in enumerate(lines, 1):
        line = raw.strip()
        if not line or line[0] in "![":
            continue
        if _COSMETIC.search(line):
            out.skipped["cosmetic"] += 1
            continue
        if line[0] == "#":
            continue
        target = out.domains
        body = line
        if body.startswith("@@"):
            target, body = out.exceptions, body[2:]
        reason, domain_text = _adblock_domain(body)
        if reason:
            out.skipped[reason] += 1
            continue
        try:
            target[normalize_domain(domain_text)] = None
        except UrlError as exc:
            out.problem(file, number, line, str(exc))


def _adblock_domain(body: str) -> tuple[str, str]:
    """(skip reason, "") for a rule that is not a whole-domain rule, else ("", domain text)."""
    if body.startswith("/"):
        return (
            "regex" if len(body) > 1 and body.partition("$")[0].endswith("/") else "path_rule"
        ), ""
    if not body.startswith("||"):
        return ("path_rule" if "/" in body else "other"), ""
    rule, _, modifiers = body[2:].partition("$")
    if modifiers and not all(m.strip() in _ACCEPTED_MODIFIERS for m in modifiers.split(",")):
        return "modifier", ""
    if rule.endswith("^|"):
        rule = rule[:-2]
    elif rule.endswith("^"):
        rule = rule[:-1]
    rule = rule.removeprefix("*.")
    if "/" in rule or "^" in rule or "|" in rule:
        return "path_rule", ""
    if "*" in rule:
        return "wildcard", ""
    return "", rule


def _parse_ut1(folder: Path, out: _Collector) -> None:
    """A UT1 category folder: `domains` (plain) and `urls` (host/path rules), either optional."""
    domains_file, urls_file = folder / "domains", folder / "urls"
    if not folder.is_dir():
        raise ListLoadError(f"cannot read {folder}: not a folder (UT1 lists are folders)")
    if not domains_file.exists() and not urls_file.exists():
        raise ListLoadError(f"cannot read {folder}: no 'domains' or 'urls' file in this folder")
    if domains_file.exists():
        _parse_plain(str(domains_file), _read_lines(domains_file, out), out)
    if urls_file.exists():
        _parse_urls(str(urls_file), _read_lines(urls_file, out), out)


def _parse_urls(file: str, lines: list[str], out: _Collector) -> None:
    """`example.com/some/path` lines; a rule with a query cannot be matched by path, so skip it."""
    for number, raw in enumerate(lines, 1):
        line = raw.strip()
        if not line or line[0] in "#!":
            continue
        if "?" in line:
            out.skipped["url_query"] += 1
            continue
        try:
            url = parse_url(line)
            normalize_domain(url.host)
        except UrlError as exc:
            out.problem(file, number, line, str(exc))
            continue
        out.url_rules[url.host_path] = None
