"""Participatie proposal rules: the expected outflow to work must be credible."""
from plugins.participatie.proposal_rules import RULES, check_outflow


def test_outflow_field_in_guidance_segments():
    assert {rules.segment_key for rules in RULES} == {"participatie.S1", "participatie.S2"}
    assert RULES[0].fields[0].label == "Verwachte uitstroom naar werk (%)"


def test_high_outflow_in_a_short_trajectory_is_refused():
    assert check_outflow({"duration_months": 6, "extra": {"expected_outflow_percentage": "51"}})
    assert check_outflow({"duration_months": 6, "extra": {"expected_outflow_percentage": "50"}}) == []
    assert check_outflow({"duration_months": 7, "extra": {"expected_outflow_percentage": "90"}}) == []
