"""The wrap of mitmproxy's body-size check: in place once, and only for marked responses.

What it does to real traffic is tested through the agent: a flagged image over 1 MB, with and
without a length, is held and blurred (tests/agent/addons/test_images.py), and large downloads
still stream (tests/agent/test_proxy.py)."""

from __future__ import annotations

import inspect

from mitmproxy.proxy.layers.http import HttpStream
from mitmproxy.test import tflow

from abhaya.agent import holdwhole


def test_mitmproxy_still_has_the_check_that_is_wrapped() -> None:
    holdwhole.install()
    original = HttpStream.check_body_size
    assert getattr(original, holdwhole._WRAPPED, False)
    assert inspect.isgeneratorfunction(original)
    assert list(inspect.signature(original).parameters) == ["self", "request"]


def test_installing_twice_wraps_once() -> None:
    holdwhole.install()
    first = HttpStream.check_body_size
    holdwhole.install()
    assert HttpStream.check_body_size is first


def test_a_flow_is_marked_with_its_limit() -> None:
    flow = tflow.tflow(resp=True)
    assert not holdwhole.held_whole(flow)
    holdwhole.hold_whole(flow, 1234)
    assert holdwhole.held_whole(flow) and flow.metadata[holdwhole.HOLD_KEY] == 1234
