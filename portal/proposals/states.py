"""The negotiation of a custom trajectory proposal as a state machine, in pure functions.

    draft ──submit──▶ submitted ──approve (enough approvals)──▶ approved
                        │  ▲   ──reject (with reason)────────▶ rejected
                 counter│  │revise / accept_counter
                        ▼  │
                    in_negotiation
    any open state ──withdraw (provider)──▶ withdrawn

A counter-proposal is a new version by the region; the provider then accepts it (the same
version goes back for approval), revises it (a new version by the provider) or withdraws.
Approval needs two different contract managers when the expected yearly value is above the
four-eyes threshold, one otherwise. A counter-proposal that the provider accepted already carries
its author's approval (writing it was that manager's yes), so its author cannot approve it again:
another manager must, and that completes a four-eyes approval (nobody approves their own counter
twice).
"""
from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal

DRAFT, SUBMITTED, IN_NEGOTIATION = "draft", "submitted", "in_negotiation"
APPROVED, REJECTED, WITHDRAWN = "approved", "rejected", "withdrawn"
FINAL = frozenset({APPROVED, REJECTED, WITHDRAWN})

LABELS = {
    DRAFT: "Concept",
    SUBMITTED: "Ingediend",
    IN_NEGOTIATION: "In onderhandeling",
    APPROVED: "Goedgekeurd",
    REJECTED: "Afgewezen",
    WITHDRAWN: "Ingetrokken",
}

# action -> (side allowed to take it, states it may start from, state it leads to)
TRANSITIONS = {
    "edit_draft": ("provider", {DRAFT}, DRAFT),
    "submit": ("provider", {DRAFT}, SUBMITTED),
    "counter": ("region", {SUBMITTED}, IN_NEGOTIATION),
    "accept_counter": ("provider", {IN_NEGOTIATION}, SUBMITTED),
    "revise": ("provider", {IN_NEGOTIATION}, SUBMITTED),
    "approve": ("region", {SUBMITTED}, None),  # APPROVED once enough approvals, else unchanged
    "reject": ("region", {SUBMITTED, IN_NEGOTIATION}, REJECTED),
    "withdraw": ("provider", {DRAFT, SUBMITTED, IN_NEGOTIATION}, WITHDRAWN),
}

ACTION_LABELS = {
    "edit_draft": "concept bewerken",
    "submit": "indienen",
    "counter": "tegenvoorstel doen",
    "accept_counter": "tegenvoorstel aanvaarden",
    "revise": "herzien voorstel indienen",
    "approve": "goedkeuren",
    "reject": "afwijzen",
    "withdraw": "intrekken",
}


class TransitionRefused(ValueError):
    """This step is not allowed now; ``message`` says why in Dutch."""

    def __init__(self, message: str):
        super().__init__(message)
        self.message = message


def next_state(state: str, action: str, side: str) -> str | None:
    """The state after ``action`` by ``side`` ("provider" or "region"); refuses illegal steps."""
    if action not in TRANSITIONS:
        raise TransitionRefused(f"Onbekende stap: {action}.")
    allowed_side, from_states, to_state = TRANSITIONS[action]
    if side != allowed_side:
        who = "de zorgaanbieder" if allowed_side == "provider" else "een contractmanager"
        raise TransitionRefused(f"Alleen {who} kan dit voorstel {ACTION_LABELS[action]}.")
    if state not in from_states:
        raise TransitionRefused(
            f"Een voorstel met status '{LABELS[state].lower()}' kunt u niet {ACTION_LABELS[action]}.")
    return to_state


def allowed_actions(state: str, side: str) -> list[str]:
    return [action for action, (who, states, _to) in TRANSITIONS.items() if who == side and state in states]


@dataclass(frozen=True)
class ApprovalOutcome:
    approved: bool  # the proposal is approved with this approval
    needed: int  # approvals needed in all
    have: int  # approvals after this one


def approvals_needed(yearly_value: Decimal, threshold: Decimal) -> int:
    return 2 if yearly_value > threshold else 1


def register_approval(approver_id: int, earlier_approvers: list[int], yearly_value: Decimal,
                      threshold: Decimal, counter_author_id: int | None) -> ApprovalOutcome:
    """Check one more approval of the current version and say whether it completes the approval.

    ``counter_author_id`` is the manager who wrote the version when it is a counter-proposal
    accepted by the provider (it counts as that manager's approval); None when the provider wrote
    it."""
    if approver_id == counter_author_id:
        raise TransitionRefused("Dit is uw eigen tegenvoorstel: u hebt het al goedgekeurd door het te doen. "
                                "Een andere contractmanager moet het goedkeuren.")
    if approver_id in earlier_approvers:
        raise TransitionRefused("U hebt deze versie al goedgekeurd; een tweede contractmanager moet ook goedkeuren.")
    needed = approvals_needed(yearly_value, threshold)
    approvers = {approver_id, *earlier_approvers} | ({counter_author_id} if counter_author_id else set())
    return ApprovalOutcome(approved=len(approvers) >= needed, needed=needed, have=len(approvers))
