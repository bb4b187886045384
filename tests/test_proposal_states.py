"""The proposal negotiation as a state machine: every legal step, every illegal one, four eyes."""
from __future__ import annotations

from decimal import Decimal

import pytest

from portal.proposals import states as ps

LEGAL = [
    (ps.DRAFT, "submit", "provider", ps.SUBMITTED),
    (ps.SUBMITTED, "counter", "region", ps.IN_NEGOTIATION),
    (ps.IN_NEGOTIATION, "accept_counter", "provider", ps.SUBMITTED),
    (ps.IN_NEGOTIATION, "revise", "provider", ps.SUBMITTED),
    (ps.SUBMITTED, "reject", "region", ps.REJECTED),
    (ps.IN_NEGOTIATION, "reject", "region", ps.REJECTED),
    (ps.DRAFT, "withdraw", "provider", ps.WITHDRAWN),
    (ps.SUBMITTED, "withdraw", "provider", ps.WITHDRAWN),
    (ps.IN_NEGOTIATION, "withdraw", "provider", ps.WITHDRAWN),
]


@pytest.mark.parametrize("state, action, side, result", LEGAL)
def test_legal_steps(state, action, side, result):
    assert ps.next_state(state, action, side) == result


def test_every_other_step_is_refused():
    legal = {(s, a, side) for s, a, side, _ in LEGAL} | {(ps.DRAFT, "edit_draft", "provider"),
                                                          (ps.SUBMITTED, "approve", "region")}
    for state in ps.LABELS:
        for action in ps.TRANSITIONS:
            for side in ("provider", "region"):
                if (state, action, side) in legal:
                    continue
                with pytest.raises(ps.TransitionRefused):
                    ps.next_state(state, action, side)


def test_final_states_allow_nothing():
    for state in ps.FINAL:
        assert ps.allowed_actions(state, "provider") == [] and ps.allowed_actions(state, "region") == []


def test_four_eyes_above_threshold():
    threshold = Decimal("250000")
    one = ps.register_approval(1, [], Decimal("250000.01"), threshold, None)
    assert (one.approved, one.needed) == (False, 2)
    assert ps.register_approval(2, [1], Decimal("250000.01"), threshold, None).approved
    with pytest.raises(ps.TransitionRefused):
        ps.register_approval(1, [1], Decimal("250000.01"), threshold, None)
    assert ps.register_approval(1, [], Decimal("250000.00"), threshold, None).approved


def test_own_counter_is_never_approved_twice():
    threshold = Decimal("250000")
    with pytest.raises(ps.TransitionRefused, match="eigen tegenvoorstel"):
        ps.register_approval(7, [], Decimal("1000"), threshold, counter_author_id=7)
    # Another manager approves the accepted counter: that is two pairs of eyes, also above the threshold.
    assert ps.register_approval(8, [], Decimal("1000"), threshold, counter_author_id=7).approved
    above = ps.register_approval(8, [], Decimal("300000"), threshold, counter_author_id=7)
    assert above.approved and above.have == 2
