"""Where a proposal's approval stands (four eyes), who is offered "approve", the price line of a
counter-proposal's changes, and the Dutch names of the audit trail's events."""
from __future__ import annotations

import ast
import re
from decimal import Decimal
from pathlib import Path

import pytest

from portal.audit_labels import ACTION_LABELS, action_label
from portal.proposals import service as proposals
from portal.proposals import states
from tests.test_proposals import MANAGER, MANAGER2, PROVIDER, World, in_state, yearly

ROOT = Path(__file__).resolve().parent.parent


@pytest.fixture
def world(app, demo, tmp_path):
    app.config["UPLOAD_FOLDER"] = str(tmp_path / "uploads")
    with app.app_context():
        yield World()


def test_below_the_threshold_one_approval_is_waiting_and_every_manager_may_give_it(app, world):
    proposal = in_state(world, states.SUBMITTED)
    app.config["FOUR_EYES_THRESHOLD"] = yearly(world, proposal) + Decimal("1000")
    progress = proposals.approval_progress(proposal)
    assert (progress.needed, progress.given, progress.four_eyes) == (1, 0, False)
    assert all(proposals.approval_progress(proposal).may_approve(world.user(e).id) for e in (MANAGER, MANAGER2))
    assert progress.yearly == yearly(world, proposal)
    assert [step.given for step in progress.steps] == [False]
    for email in (MANAGER, MANAGER2):
        assert "approve" in proposals.actions_for(proposal, "contract_manager", world.user(email))


@pytest.mark.clock_on(6, 15)  # approves today: a day the Wmo agreement has months left
def test_above_the_threshold_the_first_approver_is_named_and_no_longer_offered_approve(app, world):
    proposal = in_state(world, states.SUBMITTED)
    app.config["FOUR_EYES_THRESHOLD"] = yearly(world, proposal) - Decimal("0.01")
    assert proposals.approval_progress(proposal).needed == 2 and proposals.approval_progress(proposal).four_eyes
    proposals.approve(proposal, world.user(MANAGER), proposal.lock_version)
    world.session.commit()
    proposal = world.reload(proposal)
    progress = proposals.approval_progress(proposal)
    assert (progress.needed, progress.given) == (2, 1)
    assert [(step.given, step.by) for step in progress.steps] == [(True, world.user(MANAGER).name), (False, None)]
    assert "approve" not in proposals.actions_for(proposal, "contract_manager", world.user(MANAGER))
    assert "approve" in proposals.actions_for(proposal, "contract_manager", world.user(MANAGER2))
    # without a user (the API's list of steps) the state's steps are unchanged
    assert "approve" in proposals.actions_for(proposal, "contract_manager")


def test_an_accepted_counter_counts_as_its_authors_approval_and_he_is_not_offered_approve(app, world):
    app.config["FOUR_EYES_THRESHOLD"] = Decimal("1.00")  # everything needs four eyes
    proposal = in_state(world, states.IN_NEGOTIATION)  # countered by MANAGER
    proposals.accept_counter(proposal, world.user(PROVIDER), proposal.lock_version)
    world.session.commit()
    proposal = world.reload(proposal)
    progress = proposals.approval_progress(proposal)
    assert (progress.needed, progress.given) == (2, 1)
    assert progress.steps[0].by_counter and progress.steps[0].by == world.user(MANAGER).name
    assert "approve" not in proposals.actions_for(proposal, "contract_manager", world.user(MANAGER))
    assert "approve" in proposals.actions_for(proposal, "contract_manager", world.user(MANAGER2))


def test_below_the_threshold_an_accepted_counter_still_waits_for_another_managers_click(app, world):
    app.config["FOUR_EYES_THRESHOLD"] = Decimal("1000000.00")
    proposal = in_state(world, states.IN_NEGOTIATION)  # countered by MANAGER
    proposals.accept_counter(proposal, world.user(PROVIDER), proposal.lock_version)
    world.session.commit()
    progress = proposals.approval_progress(world.reload(proposal))
    assert not progress.four_eyes
    assert [(step.given, step.by_counter) for step in progress.steps] == [(True, True), (False, False)]
    assert progress.given_by == [world.user(MANAGER).name]
    assert "approve" not in proposals.actions_for(proposal, "contract_manager", world.user(MANAGER))
    assert "approve" in proposals.actions_for(proposal, "contract_manager", world.user(MANAGER2))


def test_a_counter_proposal_shows_the_price_it_changes(world):
    proposal = in_state(world, states.IN_NEGOTIATION)  # 3 a week countered with 2.5 a week
    first, counter = proposals.versions(proposal)[:2]
    changes = {label: (before, after) for label, before, after in proposals.changes(first, counter)}
    before, after = changes["Prijs per traject"]
    assert before.startswith("€") and after.startswith("€") and before != after
    same = proposals.changes(first, first)
    assert all(label != "Prijs per traject" for label, _b, _a in same)


def recorded_actions() -> set[str]:
    """Every event code the portal and its plugins record literally (f-strings expanded by hand below)."""
    found = set()
    pattern = re.compile(r"^[a-z_]+\.[a-z_]+$")
    for path in [*ROOT.joinpath("portal").rglob("*.py"), *ROOT.joinpath("plugins").rglob("*.py")]:
        if "tests" in path.parts:
            continue
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.Call) and getattr(node.func, "attr", getattr(node.func, "id", "")) in (
                    "record", "record_now", "_audit", "_record_refusal"):
                for arg in node.args[:3]:
                    if isinstance(arg, ast.Constant) and isinstance(arg.value, str) and pattern.match(arg.value):
                        found.add(arg.value)
    return found


def test_every_recorded_event_has_a_dutch_name():
    actions = recorded_actions()
    assert {"auth.signed_in", "proposal.approved", "settlement.publish"} <= actions  # the walk found them
    assert sorted(actions - set(ACTION_LABELS)) == []


def test_event_names_read_as_dutch_and_unknown_codes_stay_as_they_are():
    assert action_label("auth.signed_in") == "Aangemeld"
    assert action_label("proposal.approved") == "Maatwerkvoorstel goedgekeurd"
    assert action_label("gemeente_venlo.iets") == "gemeente_venlo.iets"
    assert action_label(None) == ""
