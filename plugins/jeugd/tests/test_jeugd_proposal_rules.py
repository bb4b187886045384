"""Jeugd proposal rules: a behavioural scientist's hours can never exceed the care itself."""
from decimal import Decimal

from plugins.jeugd.proposal_rules import RULES, check_scientist_hours


def test_scientist_hours_field_in_day_treatment_and_ambulant_help():
    assert {rules.segment_key for rules in RULES} == {"jeugd.S3", "jeugd.S4"}
    assert all(rules.fields[0].name == "behavioural_scientist_hours" for rules in RULES)


def test_hours_above_the_care_per_month_are_refused():
    def check(intensity, period, hours):
        return check_scientist_hours({"intensity": Decimal(intensity), "intensity_period": period,
                                      "extra": {"behavioural_scientist_hours": hours}})

    assert check("1", "week", "4") == []  # 4,33 care hours a month
    assert check("1", "week", "5")[0][0] == "behavioural_scientist_hours"
    assert check("6", "month", "6") == [] and check("6", "month", "6.5")
