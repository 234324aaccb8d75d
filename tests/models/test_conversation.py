"""The thread tracker: stages add up once each, threats and self-harm alert at once, evidence
fades with time, and a risk alerts once per thread."""

from __future__ import annotations

import datetime as dt

from abhaya.models.conversation import ConversationTracker, Sender, ThreadState

T0 = dt.datetime(2026, 12, 1, 10, 0, tzinfo=dt.UTC)


def _run(
    steps: list[tuple[Sender, set[str]]], gap: dt.timedelta = dt.timedelta(minutes=1)
) -> tuple[ThreadState, list[tuple[int, str]]]:
    tracker, state, raised = ConversationTracker(), ThreadState(), []
    for n, (sender, labels) in enumerate(steps):
        state, alerts = tracker.update(state, labels, sender, T0 + n * gap)
        raised += [(alert.index, alert.risk) for alert in alerts]
    return state, raised


def test_grooming_alerts_once_two_stages_add_up_and_lists_them() -> None:
    state, raised = _run(
        [
            ("contact", {"personal_info"}),  # 1.0
            ("child", set()),
            ("contact", {"secrecy"}),  # 2.5
            ("contact", {"gifts"}),  # 3.5: alert
            ("contact", {"image_request"}),  # no second grooming alert
        ]
    )
    assert raised == [(3, "grooming")]
    assert state.stages == {"personal_info", "secrecy", "gifts", "image_request"}
    assert state.count == 5


def test_a_stage_shown_again_adds_half_but_one_stage_alone_never_alerts() -> None:
    _, probing = _run(
        [
            ("contact", {"personal_info"}),  # 1.0
            ("contact", {"personal_info"}),  # 1.5: asked again
            ("contact", {"secrecy"}),  # 3.0 over two stages: alert
        ]
    )
    assert probing == [(2, "grooming")]
    state, alone = _run([("contact", {"secrecy"})] * 6)  # 1.5 + 5 x 0.75, one stage
    assert alone == []
    assert state.scores["grooming"] > 3.0


def test_secrecy_after_self_harm_is_about_the_self_harm() -> None:
    """A friend asked not to tell about self-harm is not a groomer asking for secrecy."""
    _, raised = _run(
        [
            ("child", {"self_harm"}),
            ("contact", {"isolation"}),  # 1.5
            ("contact", {"secrecy"}),  # not a grooming stage in this thread
        ]
    )
    assert raised == [(0, "self_harm")]
    _, elsewhere = _run([("contact", {"isolation"}), ("contact", {"secrecy"})])
    assert elsewhere == [(1, "grooming")]


def test_the_childs_own_words_are_not_grooming_evidence() -> None:
    _, raised = _run([("child", {"personal_info"}), ("child", {"secrecy", "gifts"})])
    assert raised == []


def test_a_threat_and_self_harm_alert_at_once_from_whoever_says_them() -> None:
    _, threat = _run([("contact", set()), ("contact", {"sextortion"})])
    assert threat == [(1, "sextortion")]
    _, child = _run([("child", {"self_harm"})])
    assert child == [(0, "self_harm")]
    _, insult = _run([("contact", {"bullying"}), ("contact", {"bullying"})])
    assert insult == [(0, "bullying")]
    _, own = _run([("child", {"bullying", "sextortion"})])
    assert own == []  # the child's own words are not threats against the child


def test_evidence_fades_between_slow_messages() -> None:
    steps: list[tuple[Sender, set[str]]] = [
        ("contact", {"personal_info"}),
        ("contact", {"secrecy"}),
        ("contact", {"gifts"}),
    ]
    _, close = _run(steps)
    assert close == [(2, "grooming")]
    # Within a sitting nothing fades: two stages of exactly the threshold still alert.
    _, sitting = _run(
        [("contact", {"isolation"}), ("contact", {"secrecy"})], dt.timedelta(minutes=59)
    )
    assert sitting == [(1, "grooming")]
    state, weeks = _run(steps, gap=dt.timedelta(days=7))  # halved twice between each
    assert weeks == []
    assert 0 < state.scores["grooming"] < 3.0


def test_the_state_stays_small_however_long_the_thread() -> None:
    state, _ = _run([("contact", {"personal_info", "bullying"})] * 500)
    assert len(state.triggers) == 8 and state.triggers[-1] == 499
    assert state.count == 500
