"""Keeps Python's cyclic garbage collector off the objects the agent holds for its whole life.

The compiled policy (domain sets, keyword tables, the search rules), the text model's tables and
the rest of what the agent loads at start are some 130,000 container objects.  Every full
(generation 2) collection walked all of them with the event loop stopped: 140-190 ms on the
2-core VM when idle, up to 750 ms on a busy one, about once every ten page loads of
bench/pageload.  py-spy on the proxy during that benchmark found one such pause taking a tenth
of the event loop's busy time.

`settle()` collects once and then moves everything that survived into the permanent generation
(`gc.freeze`), which collections skip; what is allocated afterwards (connections, flows) is
still collected as before.  It runs when the agent starts serving and after a new policy is in
force.  Before freezing again it unfreezes, so that the replaced policy's reference cycles, if
it has any, are collected rather than kept for good.

Then it gives the freed heap back to the system (`memtrim`).  Loading a model leaves much of
its memory free but held by glibc: onnxruntime's graph rewrites for the image model copy its
weights more than once, and the session kept ~75 MiB of RSS where ~33 MiB is in use
(bench/images).  The start and a new policy are when models are loaded and old tables let go.
"""

from __future__ import annotations

import gc
import logging
import time

from abhaya.agent import memtrim

log = logging.getLogger(__name__)


def settle() -> float:
    """Collect, freeze what survives and give the freed memory back; the seconds it took (the
    loop waits that long, so call it at start and after a reload, never per request)."""
    started = time.perf_counter()
    gc.unfreeze()
    gc.collect()
    gc.freeze()
    memtrim.give_back()
    took = time.perf_counter() - started
    log.debug("heap settled: %d objects frozen in %.0f ms", gc.get_freeze_count(), took * 1000)
    return took
