"""URL and host normalisation: every spelling of an address reduces to the one a browser uses."""

from __future__ import annotations

import pytest

from abhaya.filters.urlnorm import NormalizedUrl, UrlError, ip_of, normalize_host, parse_url


@pytest.mark.parametrize(
    ("host", "expected"),
    [
        ("Example.COM", "example.com"),
        ("example.com.", "example.com"),
        ("WWW.EXAMPLE.COM.", "www.example.com"),
        ("ad_server.example.com", "ad_server.example.com"),
        ("-lead.example.com", "-lead.example.com"),
        ("%65xample.com", "example.com"),
        ("ex%41mple.com", "example.com"),
        ("bücher.de", "xn--bcher-kva.de"),
        ("BÜCHER.de", "xn--bcher-kva.de"),
        ("xn--bcher-kva.de", "xn--bcher-kva.de"),
        ("münchen.example", "xn--mnchen-3ya.example"),
        ("例え.テスト", "xn--r8jz45g.xn--zckzah"),
        ("faß.de", "xn--fa-hia.de"),  # non-transitional: ß is kept, as browsers do
        ("example。com", "example.com"),  # ideographic full stop maps to "."
        ("ｅｘａｍｐｌｅ.com", "example.com"),  # full-width letters map to ASCII
        ("%E2%82%AC.example", "xn--lzg.example"),  # percent-encoded UTF-8 decoded first
        ("€.example", "xn--lzg.example"),  # not IDNA2008, but UTS #46 (browsers) accepts it
        ("☃.example", "xn--n3h.example"),
        # IPv4 in every spelling a browser accepts (WHATWG URL host parsing)
        ("192.168.1.1", "192.168.1.1"),
        ("3232235777", "192.168.1.1"),
        ("0xC0A80101", "192.168.1.1"),
        ("0xc0a80101", "192.168.1.1"),
        ("0300.0250.1.1", "192.168.1.1"),
        ("0300.0250.0.01", "192.168.0.1"),
        ("192.168.257", "192.168.1.1"),
        ("192.11010305", "192.168.1.1"),
        ("127.1", "127.0.0.1"),
        ("0x7f.1", "127.0.0.1"),
        ("1.2.3.4.", "1.2.3.4"),
        ("0", "0.0.0.0"),
        ("0x", "0.0.0.0"),
        ("%31%32%37.0.0.1", "127.0.0.1"),
        # IPv6: compressed, without brackets
        ("[2001:DB8:0:0:0:0:0:1]", "2001:db8::1"),
        ("[::FFFF:192.168.1.1]", "::ffff:c0a8:101"),
        ("[0:0::1]", "::1"),
        ("::1", "::1"),
    ],
)
def test_normalize_host(host: str, expected: str) -> None:
    assert normalize_host(host) == expected


@pytest.mark.parametrize(
    ("host", "reason"),
    [
        ("", "empty host"),
        ("a..b.example", "empty label"),
        ("exa mple.com", "forbidden character"),
        ("exa<mple.com", "forbidden character"),
        ("example.com%00", "forbidden character"),
        ("%00", "forbidden character"),
        ("%ff.example", "not UTF-8"),
        ("1.2.3.256", "out of range"),
        ("256.1.1.1", "out of range"),
        ("4294967296", "out of range"),
        ("1.2.3.4.5", "invalid IPv4"),
        ("1.2.3.09", "invalid IPv4"),  # a leading zero means octal; 9 is not an octal digit
        ("example.123", "invalid IPv4"),  # ends in a number, so it must be an IPv4 address
        ("1..2", "invalid IPv4"),
        ("[::1", "unclosed"),
        ("[fe80::1%25eth0]", "zone id"),
        ("[1:2:3]", "invalid IPv6"),
        ("a\u200d.example", "internationalised"),  # joiner out of context
        ("\u0301a.example", "internationalised"),  # label starts with a combining mark
        ("\ufffd.example", "internationalised"),
        ("a\u00a0b.example", "forbidden character"),  # no-break space maps to a space
        ("a" * 300 + ".com", "longer than 253"),
    ],
)
def test_normalize_host_refuses(host: str, reason: str) -> None:
    with pytest.raises(UrlError, match=reason):
        normalize_host(host)


def _url(
    host: str, path: str = "/", query: str = "", scheme: str = "http", port: int | None = None
) -> NormalizedUrl:
    default = 443 if scheme == "https" else 80
    is_ip = ":" in host or host.replace(".", "").isdigit()
    return NormalizedUrl(scheme, host, default if port is None else port, path, query, is_ip)


@pytest.mark.parametrize(
    ("url", "expected"),
    [
        ("http://example.com", _url("example.com")),
        ("HTTPS://WWW.Example.COM./", _url("www.example.com", scheme="https")),
        ("example.com/path", _url("example.com", "/path")),
        ("example.com", _url("example.com")),
        ("//example.com/x", _url("example.com", "/x")),
        ("http:///example.com/x", _url("example.com", "/x")),  # extra slashes are ignored
        ("localhost:8080/x", _url("localhost", "/x", port=8080)),
        ("http:example.com/a", _url("example.com", "/a")),
        ("http:\\\\example.com\\a\\b", _url("example.com", "/a/b")),
        ("  http://example.com/ \n", _url("example.com")),
        ("ht\ttp://exa\nmple.com/a\r/b", _url("example.com", "/a/b")),
        # ports: the default is filled in, and an explicit default equals it
        ("https://example.com:443/", _url("example.com", scheme="https")),
        ("https://example.com:00443/", _url("example.com", scheme="https")),
        ("http://example.com:80/", _url("example.com")),
        ("http://example.com:/", _url("example.com")),
        ("http://example.com:443/", _url("example.com", port=443)),
        ("https://example.com:8443/", _url("example.com", scheme="https", port=8443)),
        # userinfo tricks: the host is what follows the last "@" of the authority
        ("https://google.com@evil.example/", _url("evil.example", scheme="https")),
        ("http://user:pass@evil.example:8080/", _url("evil.example", port=8080)),
        ("http://a@b@evil.example/", _url("evil.example")),
        ("http://@evil.example/", _url("evil.example")),
        ("http://google.com\\@evil.example/", _url("google.com", "/@evil.example/")),
        ("http://google.com/@evil.example/", _url("google.com", "/@evil.example/")),
        ("http://google.com?@evil.example/", _url("google.com", "/", "@evil.example/")),
        ("http://google.com#@evil.example/", _url("google.com")),
        # IP literal forms
        ("http://3232235777/", _url("192.168.1.1")),
        ("http://0xC0A80101/", _url("192.168.1.1")),
        ("http://0300.0250.1.1/", _url("192.168.1.1")),
        ("http://192.168.257/", _url("192.168.1.1")),
        ("http://[2001:DB8::1]:8080/a", _url("2001:db8::1", "/a", port=8080)),
        ("https://[::1]/", _url("::1", scheme="https")),
        # IDNA
        ("https://Bücher.de/Straße", _url("xn--bcher-kva.de", "/Stra%C3%9Fe", scheme="https")),
        # percent-encoding and dot segments in the path; case is kept
        ("http://example.com/%7euser/%2fA%2f", _url("example.com", "/~user/%2FA%2F")),
        ("http://example.com/%41%42c", _url("example.com", "/ABc")),
        ("http://example.com/Path/To", _url("example.com", "/Path/To")),
        ("http://example.com/a/./b/../c", _url("example.com", "/a/c")),
        ("http://example.com/a/%2e%2E/b", _url("example.com", "/b")),
        ("http://example.com/a/..", _url("example.com", "/")),
        ("http://example.com/a/.", _url("example.com", "/a/")),
        ("http://example.com/../../x", _url("example.com", "/x")),
        ("http://example.com/a b", _url("example.com", "/a%20b")),
        ("http://example.com/ü", _url("example.com", "/%C3%BC")),
        ("http://example.com/%zz%4", _url("example.com", "/%zz%4")),
        ("http://example.com/%ff%00", _url("example.com", "/%FF%00")),
        # query kept raw, fragment dropped
        ("http://example.com/s?q=a+b&x=%FF#frag", _url("example.com", "/s", "q=a+b&x=%FF")),
        ("http://example.com?q", _url("example.com", "/", "q")),
    ],
)
def test_parse_url(url: str, expected: NormalizedUrl) -> None:
    assert parse_url(url) == expected


@pytest.mark.parametrize(
    "url",
    [
        "",
        "http://",
        "http://user@/",
        "ftp://example.com/",
        "javascript:alert(1)",
        "mailto:someone@example.com",
        "data:text/html,hi",
        "http://example.com:99999/",
        "http://example.com:8o/",
        "http://example.com:" + "9" * 5000 + "/",
        "http://a:b:c/",
        "http://[::1/",
        "http://[::1]x/",
        "http://exa mple.com/",
        "http://example.com%00.evil/",
        "http://%00/",
        "http://%C0%80.example/",
        "http://exa\x01mple.com/",
        "http://\ud800.example/",
        "http://999.999.999.999/",
        "http://" + "a" * 70000 + "/",
        "http://a\u200d.example/",
    ],
)
def test_parse_url_refuses_with_url_error_only(url: str) -> None:
    with pytest.raises(UrlError):
        parse_url(url)


@pytest.mark.parametrize(
    "url",
    [
        "http://example.com/?" + "q=" + "x" * 65536,
        "http://example.com/?" + "%FF%FE%00" * 5000,
        "http://example.com/" + "%C3%28%00" * 2000,
        "http://example.com/" + "../" * 10000,
        "http://example.com/\x01\x02\x7f",
        "http://example.com/?\x00\x01",
    ],
)
def test_parse_url_survives_hostile_input(url: str) -> None:
    parsed = parse_url(url)
    assert parsed.host == "example.com"
    assert isinstance(parsed.query_params(), list)


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ("", []),
        ("q=hello+world", [("q", "hello world")]),
        ("q=%E0%A4%A8%E0%A4%AE", [("q", "नम")]),
        ("q=%FF&x=1", [("q", "\ufffd"), ("x", "1")]),
        ("a&b=&c=3", [("a", ""), ("b", ""), ("c", "3")]),
        ("q=%zz", [("q", "%zz")]),
        ("q=a;b", [("q", "a;b")]),
    ],
)
def test_query_params(query: str, expected: list[tuple[str, str]]) -> None:
    assert _url("example.com", query=query).query_params() == expected


@pytest.mark.parametrize(
    ("url", "host_path", "text"),
    [
        ("https://Example.com/a/b?x=1#f", "example.com/a/b", "https://example.com/a/b?x=1"),
        ("http://example.com:8080", "example.com/", "http://example.com:8080/"),
        ("https://[::1]:8443/", "::1/", "https://[::1]:8443/"),
    ],
)
def test_host_path_and_url(url: str, host_path: str, text: str) -> None:
    parsed = parse_url(url)
    assert parsed.host_path == host_path
    assert parsed.url == text


@pytest.mark.parametrize(
    ("text", "address"),
    [
        ("127.0.0.1", "127.0.0.1"),
        ("::ffff:127.0.0.1", "127.0.0.1"),
        ("fe80::1%eth0", "fe80::1"),
        ("::1", "::1"),
    ],
)
def test_ip_of_reads_every_spelling_a_socket_reports(text: str, address: str) -> None:
    assert str(ip_of(text)) == address


@pytest.mark.parametrize("text", ["localhost", "", "127.1.1.1.1", "[::1]"])
def test_ip_of_refuses_what_is_no_address(text: str) -> None:
    with pytest.raises(ValueError):
        ip_of(text)
