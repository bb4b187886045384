"""The realisation review queue filtered by period (issue 15, point 2): the service's period filter,
the periods it offers, and the screen's ``periode`` parameter (an unreadable one filters nothing)."""
from __future__ import annotations

import re

from portal.realisation import review
from portal.realisation.rules import parse_period
from tests.test_realisation_review import (  # noqa: F401  (world is a fixture)
    MANAGER,
    World,
    beesel_s4_old,
    old_month,
    signed_in_as,
    world,
)

REPORT_LINK = re.compile(r'href="/realisatie/beoordelen/(\d+)"')


def test_the_queue_filters_on_one_period_and_offers_the_periods_it_holds(app, world: World):  # noqa: F811
    old = world.submit(*beesel_s4_old())[0]
    period = parse_period(old_month(11))
    with app.test_request_context():
        signed_in_as(world, MANAGER)
        found = world.session.exec(review.queue_statement({"period": period})).all()
        assert [r.id for r in found] == [old.id]
        assert {(r.year, r.period_kind, r.period) for r in found} == {(period.year, period.kind, period.number)}
        everything = world.session.exec(review.queue_statement({})).all()
        assert len(everything) > len(found)
        periods = review.queue_periods()
        assert period in periods
        assert periods == sorted(periods, key=lambda p: (p.year, p.start), reverse=True)


def test_the_screen_takes_periode_and_ignores_an_unreadable_one(app, world: World, signed_in):  # noqa: F811
    old = world.submit(*beesel_s4_old())[0]
    period = parse_period(old_month(11))
    client = signed_in(MANAGER)
    page = client.get(f"/realisatie/beoordelen/?periode={period.code}&status=alle").get_data(as_text=True)
    assert REPORT_LINK.findall(page) == [str(old.id)]
    assert f'<option value="{period.code}" selected' in page
    unreadable = client.get("/realisatie/beoordelen/?periode=2026-13&status=alle")
    assert unreadable.status_code == 200
    assert len(REPORT_LINK.findall(unreadable.get_data(as_text=True))) > 1
