"""The running yearly totals of approved realisation (realisation_year_total) and its result figures
(realisation_year_figure), kept by triggers on realisation_report on both databases: a report counts
exactly while it is approved."""
from __future__ import annotations

from decimal import Decimal

from sqlalchemy import delete, update
from sqlmodel import select

from portal import db
from portal.models import Organisation, Region
from portal.models.realisation import RealisationReport, RealisationYearFigure, RealisationYearTotal
from portal.settlement.inputs import realisation_totals


def totals(session) -> dict:
    session.expire_all()
    return {(t.municipality_id, t.segment_key, t.year): (t.value_cents, t.place_days, t.ended, t.reports)
            for t in session.exec(select(RealisationYearTotal)) if t.reports}


def test_a_report_counts_exactly_while_it_is_approved(app):
    with app.app_context():
        session = db.session()
        region = Region(code="t", name="T")
        session.add(region)
        session.flush()
        provider = Organisation(region_id=region.id, kind="provider", name="Aanbieder")
        town = Organisation(region_id=region.id, kind="municipality", name="Gemeente")
        session.add_all([provider, town])
        session.flush()

        def report(period: int, value: str, state: str = "submitted", year: int = 2025, **more) -> RealisationReport:
            made = RealisationReport(region_id=region.id, organisation_id=provider.id, municipality_id=town.id,
                                     segment_key="x.S1", year=year, period_kind="month", period=period,
                                     state=state, total_value=Decimal(value), **more)
            session.add(made)
            session.flush()
            return made

        january = report(1, "1234.56", place_days_total=31, ended_total=2)
        february = report(2, "-0.05", state="approved", ended_total=1)  # a credit, inserted as approved
        report(3, "99.99", state="rejected")
        report(1, "10.00", state="approved", year=2026)
        session.commit()
        key = (town.id, "x.S1", 2025)
        assert totals(session)[key] == (-5, 0, 1, 1)
        assert totals(session)[(town.id, "x.S1", 2026)] == (1000, 0, 0, 1)

        session.execute(update(RealisationReport).where(RealisationReport.id == january.id).values(state="approved"))
        session.commit()
        assert totals(session)[key] == (123451, 31, 3, 2)

        # An approved report that changes is taken off and added again as it is now.
        session.execute(update(RealisationReport).where(RealisationReport.id == january.id)
                        .values(total_value=Decimal("1000.00"), place_days_total=30))
        session.commit()
        assert totals(session)[key] == (99995, 30, 3, 2)

        # Leaving the approved state, or going, takes it off.
        session.execute(update(RealisationReport).where(RealisationReport.id == february.id)
                        .values(state="superseded"))
        session.commit()
        assert totals(session)[key] == (100000, 30, 2, 1)
        session.execute(delete(RealisationReport).where(RealisationReport.id == january.id))
        session.commit()
        assert key not in totals(session)
        assert set(totals(session)) == {(town.id, "x.S1", 2026)}


def figures(session) -> dict:
    session.expire_all()
    return {(f.segment_key, f.name): (f.hundredths, f.scale, f.reports)
            for f in session.exec(select(RealisationYearFigure)) if f.reports}


def test_result_figures_count_exactly_while_their_report_is_approved(app):
    """realisation_year_figure (migration d8b3f6a2c915): a report's figures written as a decimal
    number are added in hundredths, with the most decimals written, while it is approved; other
    values add nothing; a figure no approved report holds any more is gone (reports 0)."""
    with app.app_context():
        session = db.session()
        region = Region(code="t", name="T")
        session.add(region)
        session.flush()
        provider = Organisation(region_id=region.id, kind="provider", name="Aanbieder")
        town = Organisation(region_id=region.id, kind="municipality", name="Gemeente")
        session.add_all([provider, town])
        session.flush()

        def report(period: int, figures, state: str = "approved") -> RealisationReport:
            made = RealisationReport(region_id=region.id, organisation_id=provider.id, municipality_id=town.id,
                                     segment_key="x.S1", year=2025, period_kind="month", period=period,
                                     state=state, total_value=Decimal("1.00"), figures=figures)
            session.add(made)
            session.flush()
            return made

        january = report(1, {"behaald": "3", "uren": "2.5", "x": True, "leeg": "", "tekst": "veel"})
        february = report(2, {"behaald": 4, "uren": "1.25"})
        report(3, None)
        march = report(4, {"behaald": "7"}, state="submitted")
        session.commit()
        assert figures(session) == {("x.S1", "behaald"): (700, 0, 2), ("x.S1", "uren"): (375, 2, 2)}
        totals = realisation_totals(region.id, 2025)
        # Read back as the reports' figures sum (x.S1 declares no figures: none are result figures).
        assert totals[(provider.id, town.id, "x.S1")].extra == {}

        session.execute(update(RealisationReport).where(RealisationReport.id == march.id).values(state="approved"))
        session.execute(update(RealisationReport).where(RealisationReport.id == february.id)
                        .values(state="superseded"))
        session.commit()
        assert figures(session) == {("x.S1", "behaald"): (1000, 0, 2), ("x.S1", "uren"): (250, 2, 1)}

        session.execute(delete(RealisationReport).where(RealisationReport.id == january.id))
        session.commit()
        assert figures(session) == {("x.S1", "behaald"): (700, 0, 1)}
