"""URL and host normalisation: one canonical form for every way of writing the same address.

A filter is only as strong as its weakest spelling of a host.  A child (or a tool) can reach
`example.com` as `EXAMPLE.com.`, `http://google.com@example.com/`, `http://3232235777/`,
`%65xample.com` or a Unicode look-alike, so every URL is reduced here to the form a browser
actually connects to, and block lists are reduced to the same form when they are loaded.

Where browsers and RFC 3986 disagree we follow the WHATWG URL standard, because that is what the
browser on the child's machine does: backslashes count as slashes, the host comes after the *last*
`@` of the authority, IPv4 hosts may be written as one integer, in hex or octal, or with fewer
than four parts, and the IDNA mapping is UTS #46 (non-transitional).

Everything that can go wrong raises `UrlError` (a `ValueError`), never anything else, so callers
can turn a hostile URL into a verdict instead of a crash.
"""

from __future__ import annotations

import ipaddress
import re
import string
from dataclasses import dataclass
from urllib.parse import parse_qsl, unquote_to_bytes

import idna

__all__ = [
    "NormalizedUrl",
    "UrlError",
    "bracketed",
    "ip_of",
    "normalize_host",
    "normalize_path",
    "parse_url",
]

DEFAULT_PORTS = {"http": 80, "https": 443}

# WHATWG "forbidden domain code points" (forbidden host code points, C0 controls, % and DEL).
_FORBIDDEN_DOMAIN = re.compile(r"[\x00-\x20#/:<>?@\[\\\]^|%\x7f]")
_SCHEME = re.compile(r"([A-Za-z][A-Za-z0-9+.\-]*):")
# `example.com:8080/...` has the shape of a scheme; it is a scheme-less host with a port.
_HOST_PORT = re.compile(r"[^/\\?#:@]*:[0-9]+(?:[/\\?#]|\Z)")
_PERCENT = re.compile(r"%([0-9A-Fa-f]{2})")
_UNRESERVED = frozenset("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-._~")
_SINGLE_DOT = frozenset({".", "%2e"})
_DOUBLE_DOT = frozenset({"..", ".%2e", "%2e.", "%2e%2e"})
_MAX_HOST = 253
_DIGITS = {8: frozenset("01234567"), 10: frozenset("0123456789"), 16: frozenset(string.hexdigits)}
_C0_AND_SPACE = "".join(chr(c) for c in range(0x21))
_NEEDS_ESCAPE = re.compile(r'[\x00-\x20"<>`{}\x7f]|[^\x00-\x7f]')


class UrlError(ValueError):
    """The URL or host cannot be what a browser would connect to; the message says why."""


def ip_of(text: str) -> ipaddress.IPv4Address | ipaddress.IPv6Address:
    """An address as a socket reports it (`fe80::1%eth0`, `::ffff:127.0.0.1`): the zone is
    dropped and an IPv4-mapped IPv6 address is read as the IPv4 it maps, so a check made on
    the IPv4 address holds for every spelling.  ValueError when `text` is no IP address."""
    address = ipaddress.ip_address(text.partition("%")[0])
    if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped is not None:
        return address.ipv4_mapped
    return address


def bracketed(host: str) -> str:
    """`host` as it is written in a URL or `host:port`: IPv6 literals in brackets."""
    return f"[{host}]" if ":" in host and not host.startswith("[") else host


@dataclass(frozen=True, slots=True)
class NormalizedUrl:
    """A URL in canonical form.

    `host` is lowercase ASCII (punycode A-labels), without a trailing dot; IPv4 as a dotted quad,
    IPv6 compressed without brackets.  `port` is always set (the scheme default when absent).
    `path` starts with `/`, has dot segments removed and percent-escapes normalised, and keeps
    its case.  `query` is raw, without `?`; the fragment is dropped (it never reaches a server).
    """

    scheme: str
    host: str
    port: int
    path: str
    query: str
    is_ip: bool

    @property
    def host_path(self) -> str:
        """Host followed by path, the form URL-path rules are written in (`example.com/a/b`)."""
        return self.host + self.path

    @property
    def url(self) -> str:
        """The canonical URL as text (default port omitted), for logs and explanations."""
        host = bracketed(self.host)
        port = "" if DEFAULT_PORTS.get(self.scheme) == self.port else f":{self.port}"
        query = f"?{self.query}" if self.query else ""
        return f"{self.scheme}://{host}{port}{self.path}{query}"

    def query_params(self) -> list[tuple[str, str]]:
        """Decoded query parameters in order; tolerant: `+` is a space, bad UTF-8 is replaced.

        Used for search-keyword checks, where a malformed query must still be read, not refused.
        """
        return parse_qsl(self.query, keep_blank_values=True, errors="replace")


def normalize_host(host: str) -> str:
    """Return the canonical form of `host` (see `NormalizedUrl`), or raise `UrlError`.

    Accepts a bracketed or bare IPv6 literal, any IPv4 spelling a browser accepts, percent-encoded
    and Unicode names.  Empty labels (`a..b`) are refused: no such name resolves.
    """
    if not host:
        raise UrlError("empty host")
    if host.startswith("["):
        if not host.endswith("]"):
            raise UrlError(f"unclosed IPv6 literal: {host[:100]!r}")
        return _ipv6(host[1:-1])
    if ":" in host:
        return _ipv6(host)
    if "%" in host:
        try:
            host = unquote_to_bytes(host).decode("utf-8")
        except UnicodeDecodeError as exc:
            raise UrlError(f"percent-encoded host is not UTF-8: {host[:100]!r}") from exc
    host = host.lower() if host.isascii() else _to_ascii(host)
    if _FORBIDDEN_DOMAIN.search(host):
        raise UrlError(f"forbidden character in host: {host[:100]!r}")
    if host.endswith("."):
        host = host[:-1]
    if not host:
        raise UrlError("empty host")
    labels = host.split(".")
    if _ends_in_number(labels[-1]):
        return _ipv4(labels, host)
    if "" in labels:
        raise UrlError(f"empty label in host: {host[:100]!r}")
    if len(host) > _MAX_HOST:
        raise UrlError(f"host longer than {_MAX_HOST} characters: {host[:100]!r}...")
    return host


def _ipv6(literal: str) -> str:
    """Compressed IPv6 text; zone ids (`%eth0`) are refused as browsers do."""
    if "%" in literal:
        raise UrlError(f"IPv6 zone id is not allowed in a URL: {literal[:100]!r}")
    try:
        return ipaddress.IPv6Address(literal).compressed
    except ValueError as exc:
        raise UrlError(f"invalid IPv6 address: {literal[:100]!r}") from exc


def _to_ascii(host: str) -> str:
    """UTS #46 mapping (non-transitional) and punycode, label by label.

    ASCII labels are kept as they are (with underscores and other characters IDNA2008 would
    refuse but browsers accept).  Unicode labels go through the IDNA2008 encoder; a label it
    refuses only because a code point is not in IDNA2008 (a symbol such as `€` or an emoji) is
    still valid under UTS #46, which browsers follow, so it is punycoded as the browser would.
    Labels that UTS #46 refuses too (bad joiners, a leading combining mark, wrong bidi, ...)
    raise `UrlError`.
    """
    try:
        mapped = idna.uts46_remap(host, std3_rules=False, transitional=False)
    except (idna.IDNAError, UnicodeError) as exc:
        raise UrlError(f"host is not a valid internationalised name: {host[:100]!r}") from exc
    if _FORBIDDEN_DOMAIN.search(mapped):
        raise UrlError(f"forbidden character in host: {host[:100]!r}")
    return ".".join(_label_to_ascii(label, host) for label in mapped.split("."))


def _label_to_ascii(label: str, host: str) -> str:
    if label.isascii():
        return label
    try:
        return idna.alabel(label).decode("ascii")
    except idna.InvalidCodepoint:
        return "xn--" + label.encode("punycode").decode("ascii")
    except (idna.IDNAError, UnicodeError) as exc:
        raise UrlError(f"host is not a valid internationalised name: {host[:100]!r}") from exc


def _ends_in_number(label: str) -> bool:
    """WHATWG "ends in a number": such a host must parse as IPv4 or is invalid."""
    if label.isdigit() and label.isascii():
        return True
    return label[:2] in ("0x", "0X") and all(c in "0123456789abcdefABCDEF" for c in label[2:])


def _ipv4_number(part: str, host: str) -> int:
    """One IPv4 part: decimal, `0x` hex or leading-zero octal (WHATWG IPv4 number parser)."""
    base, digits = 10, part
    if part[:2] in ("0x", "0X"):
        base, digits = 16, part[2:]
    elif len(part) > 1 and part[0] == "0":
        base, digits = 8, part[1:]
    if not digits:
        return 0
    # Checked by hand because int() also takes signs, spaces and underscores.
    if len(digits) > 32 or not all(c in _DIGITS[base] for c in digits):
        raise UrlError(f"invalid IPv4 address: {host[:100]!r}")
    return int(digits, base)


def _ipv4(labels: list[str], host: str) -> str:
    """Dotted quad for any IPv4 spelling a browser accepts (`3232235777`, `0xC0A80101`, ...)."""
    if len(labels) > 4 or "" in labels:
        raise UrlError(f"invalid IPv4 address: {host[:100]!r}")
    numbers = [_ipv4_number(part, host) for part in labels]
    if any(n > 255 for n in numbers[:-1]) or numbers[-1] >= 256 ** (5 - len(numbers)):
        raise UrlError(f"IPv4 address out of range: {host[:100]!r}")
    value = numbers[-1]
    for i, n in enumerate(numbers[:-1]):
        value += n * 256 ** (3 - i)
    return str(ipaddress.IPv4Address(value))


def parse_url(url: str) -> NormalizedUrl:
    """Parse an absolute http(s) URL, or a scheme-less `host/path` (taken as http).

    Raises `UrlError` for anything else: other schemes, a missing or invalid host or port.
    """
    if not url.isascii():
        try:
            url.encode("utf-8")
        except UnicodeEncodeError as exc:
            raise UrlError("URL contains a lone surrogate") from exc
    # WHATWG: strip leading/trailing C0 controls and spaces, drop every tab and newline.
    rest = url.strip(_C0_AND_SPACE)
    if "\t" in rest or "\n" in rest or "\r" in rest:
        rest = rest.replace("\t", "").replace("\n", "").replace("\r", "")
    scheme = "http"
    match = _SCHEME.match(rest)
    if match:
        candidate = match.group(1).lower()
        if candidate in DEFAULT_PORTS:
            scheme, rest = candidate, rest[match.end() :]
        elif not _HOST_PORT.match(rest):
            raise UrlError(f"unsupported scheme: {candidate[:20]!r}")
    rest = rest.lstrip("/\\")
    end = len(rest)
    for sep in "/\\?#":
        pos = rest.find(sep)
        if pos != -1 and pos < end:
            end = pos
    authority, rest = rest[:end], rest[end:]
    host, port = _split_host_port(authority.rpartition("@")[2], scheme)
    rest = rest.partition("#")[0]
    path, _, query = rest.partition("?")
    norm_host = normalize_host(host)
    return NormalizedUrl(
        scheme=scheme,
        host=norm_host,
        port=port,
        path=normalize_path(path),
        query=query,
        is_ip=":" in norm_host or _ends_in_number(norm_host.rpartition(".")[2]),
    )


def _split_host_port(hostport: str, scheme: str) -> tuple[str, int]:
    """Split `host:port` (host may be `[v6]`); an empty port means the default."""
    if hostport.startswith("["):
        close = hostport.find("]")
        if close == -1:
            raise UrlError(f"unclosed IPv6 literal: {hostport[:100]!r}")
        host, tail = hostport[: close + 1], hostport[close + 1 :]
        if tail and not tail.startswith(":"):
            raise UrlError(f"unexpected text after IPv6 literal: {hostport[:100]!r}")
        port_text = tail[1:]
    else:
        host, _, port_text = hostport.partition(":")
    if not host:
        raise UrlError("URL has no host")
    if not port_text:
        return host, DEFAULT_PORTS[scheme]
    if not (port_text.isascii() and port_text.isdigit()):
        raise UrlError(f"invalid port: {port_text[:20]!r}")
    digits = port_text.lstrip("0") or "0"
    port = int(digits) if len(digits) <= 5 else 65536
    if port > 65535:
        raise UrlError(f"port out of range: {port}")
    return host, port


def normalize_path(raw: str) -> str:
    """Percent-encoding normalised and dot segments removed; case kept.

    Escapes of unreserved characters are decoded (`%7E` -> `~`), other escapes get uppercase hex,
    and characters a browser would escape (space, non-ASCII, ...) are escaped, so that every
    spelling of a path compares equal.  A `%` not followed by two hex digits is kept, as browsers
    do.
    """
    path = raw.replace("\\", "/")
    if "%" in path:
        path = _PERCENT.sub(_fix_escape, path)
    if _NEEDS_ESCAPE.search(path):
        path = _NEEDS_ESCAPE.sub(_escape_char, path)
    segments = path.split("/")[1:] if path.startswith("/") else path.split("/")
    out: list[str] = []
    for i, segment in enumerate(segments):
        last = i == len(segments) - 1
        lowered = segment.lower()
        if lowered in _DOUBLE_DOT:
            if out:
                out.pop()
            if last:
                out.append("")
        elif lowered in _SINGLE_DOT:
            if last:
                out.append("")
        else:
            out.append(segment)
    return "/" + "/".join(out)


def _fix_escape(match: re.Match[str]) -> str:
    char = chr(int(match.group(1), 16))
    return char if char in _UNRESERVED else "%" + match.group(1).upper()


def _escape_char(match: re.Match[str]) -> str:
    return "".join(f"%{b:02X}" for b in match.group().encode("utf-8"))
