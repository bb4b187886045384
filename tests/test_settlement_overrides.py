"""Local rules and settlement parameters that cannot apply (portal/settlement/overrides.py): named
when the rules are loaded for a settlement run (a warning in the log) and on the contract
manager's settlement page, never silently ignored.

Demo region: Venlo (0983) buys Jeugd S3 as places from the first demo year on; Beesel (0889)
buys it as trajectories. A throwaway plugin sets the overrides."""
from __future__ import annotations

import logging

import pytest
from sqlmodel import select

from portal import db, hookimpl
from portal.models import Region
from portal.registry import LocalRule, SettlementParameter, current_registry
from portal.settlement import runs as runs_service
from portal.settlement.overrides import inapplicable_overrides
from tests.dates import YEAR

REGION = "noord-limburg"
MANAGER = "contractmanager@mgr-noord-limburg.example"
AUDITOR = "auditor@accountant-noord-limburg.example"


class Overrides:
    """Overrides of one region: three that cannot apply, three that can, one of another region."""

    @hookimpl
    def portal_local_rules(self):
        return [
            LocalRule("outside_band", "excess", REGION, municipality="0983", segment="jeugd.S3"),  # places
            LocalRule("band_scope", "region", REGION, municipality="9999"),  # no such municipality
            LocalRule("outside_band", "excess", REGION, municipality="0889", segment="jeugd.S3"),  # fine
            LocalRule("outside_band", "excess", REGION, segment="jeugd.S3"),  # most buy trajectories: fine
            LocalRule("band_scope", "region", "rivierenland", municipality="9999"),  # another region's
        ]

    @hookimpl
    def portal_settlement_parameters(self):
        return [
            SettlementParameter("jeugd.shared_savings", "share", "0.30", REGION, municipality="9998"),
            SettlementParameter("jeugd.shared_savings", "share", "0.40", REGION, municipality="0889"),
        ]


@pytest.fixture
def app_config():
    return {"EXTRA_PLUGINS": [Overrides()]}


def _region() -> Region:
    return db.session().exec(select(Region).where(Region.code == REGION)).one()


def test_overrides_that_cannot_apply_are_named_with_the_reason(app, demo):
    with app.app_context():
        problems = inapplicable_overrides(current_registry(), db.session(), _region(), YEAR)
    messages = sorted(problem.message for problem in problems)
    assert len(messages) == 3, messages
    plugin = problems[0].plugin
    assert messages == sorted([
        f"Lokale regel 'outside_band' = 'excess' voor gemeente 0983 en Jeugd S3 ({plugin}) kan niet gelden: "
        f"Venlo koopt Jeugd S3 in {YEAR} in als plekken; plekken worden afgerekend op de bezetting, zonder "
        "bandbreedte.",
        f"Lokale regel 'band_scope' = 'region' voor gemeente 9999 ({plugin}) kan niet gelden: er is geen gemeente "
        "met CBS-code 9999 in de regio.",
        f"Lokale regel 'jeugd.shared_savings', share = 0.30 voor gemeente 9998 ({plugin}) kan niet gelden: er is "
        "geen gemeente met CBS-code 9998 in de regio.",
    ])
    assert {problem.rule_id for problem in problems} == {"outside_band", "band_scope", "jeugd.shared_savings"}


def test_a_segment_rule_cannot_apply_when_every_municipality_buys_places(app, demo):
    """Jeugd S3 bought as places everywhere: the region's band rule for the segment has nothing to act on."""
    with app.app_context():
        from portal.models import MunicipalChoice
        for choice in db.session().exec(select(MunicipalChoice).where(MunicipalChoice.segment_key == "jeugd.S3")):
            choice.volume_basis = "places"
        db.session().commit()
        messages = [p.message for p in inapplicable_overrides(current_registry(), db.session(), _region(), YEAR)]
    assert any(message.startswith("Lokale regel 'outside_band' = 'excess' voor Jeugd S3 (")
               and "alle gemeenten van de regio kopen Jeugd S3" in message for message in messages), messages


def test_a_settlement_run_logs_them_and_the_manager_sees_them(app, demo, signed_in, caplog):
    with app.test_request_context():
        from portal.models import User
        manager = db.session().exec(select(User).where(User.email == MANAGER)).one()
        with caplog.at_level(logging.WARNING):
            runs_service.run_settlement(_region(), YEAR, manager)
        db.session().commit()
    warnings = [record.getMessage() for record in caplog.records if record.levelno == logging.WARNING]
    assert sum("kan niet gelden" in message for message in warnings) == 3, warnings
    assert any("Venlo koopt Jeugd S3" in message for message in warnings)

    page = signed_in(MANAGER).get(f"/afrekening/?jaar={YEAR}").get_data(as_text=True)
    assert f"Lokale regels die niet kunnen gelden in {YEAR}" in page
    assert "Lokale regel &#39;outside_band&#39; = &#39;excess&#39; voor gemeente 0983 en Jeugd S3" in page
    assert "er is geen gemeente met CBS-code 9998 in de regio" in page
    assert "Lokale regels die niet kunnen gelden" not in signed_in(AUDITOR).get(f"/afrekening/?jaar={YEAR}").get_data(
        as_text=True)
