"""Wmo proposal rules: the group size of day activities."""
from decimal import Decimal

from plugins.wmo.proposal_rules import RULES, check_group_size


def test_group_size_is_a_field_of_day_activity_segments():
    by_segment = {rules.segment_key: rules for rules in RULES}
    assert by_segment["wmo.S1a"].fields[0].name == "clients_per_group"
    assert by_segment["wmo.S1b"].max_duration == 9


def test_large_groups_are_refused_for_intensive_day_activities():
    def check(intensity, period, size):
        return check_group_size({"intensity": Decimal(intensity), "intensity_period": period,
                                 "extra": {"clients_per_group": size}})

    assert check("4", "week", "9")[0][0] == "clients_per_group"
    assert check("4", "week", "8") == []
    assert check("12", "month", "12") == []  # 3 a week
    assert check("2", "week", "7.5") == [("clients_per_group", "Aantal cliënten per groep: vul een heel getal in.")]
    assert check_group_size({"intensity": Decimal(5), "intensity_period": "week", "extra": {}}) == []
