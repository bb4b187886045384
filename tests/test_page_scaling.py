"""Pages at region size (issue 14 point 4): a page's work must not grow with the rows it does not
show. Each test renders a page, adds rows that page does not show, and renders it again: the SQL it
sends stays the same (same number of statements, none over the rows added)."""
from __future__ import annotations

from decimal import Decimal

import pytest
from sqlalchemy import event, insert, select

from portal import db
from portal.formatting import money
from portal.models import Organisation
from portal.models.agreements import BudgetAgreement, FrameworkAgreement, FrameworkSegment
from portal.models.realisation import RealisationLine, RealisationReport
from portal.models.settlement import SettlementLine, SettlementRun
from portal.realisation import dashboard as dashboard_figures
from portal.realisation.rules import Period
from portal.settlement import runs as runs_service
from tests.dates import YEAR
from tests.test_realisation_dashboard import (  # noqa: F401  (fixtures)
    CONTRACT_MANAGER,
    _amount,
    _csv,
    _without_demo_realisation,
    region,
)
from tests.test_realisation_dashboard import YEAR as YEAR_OF_DASHBOARD
from tests.test_settlement_screens import MANAGER as SETTLEMENT_MANAGER
from tests.test_settlement_screens import MUNICIPALITY, PROVIDER, make_run


class Statements:
    """The SQL statements sent while the block runs."""

    def __init__(self, app):
        with app.app_context():
            self.engine = db.engine()
        self.sent: list[str] = []

    def _record(self, _conn, _cursor, statement, *_args):
        self.sent.append(statement)

    def __enter__(self):
        event.listen(self.engine, "before_cursor_execute", self._record)
        return self.sent

    def __exit__(self, *exc):
        event.remove(self.engine, "before_cursor_execute", self._record)


def _add_lines(app, per_report: int) -> int:
    """``per_report`` more lines under every report (rows no dashboard cell shows one by one)."""
    with app.app_context():
        session = db.session()
        ids = session.execute(select(RealisationReport.id)).scalars().all()
        session.execute(insert(RealisationLine), [
            {"report_id": report_id, "trajectory_code": f"X-{n}", "clients": 1, "place_days": None,
             "unit_price": Decimal("1.00"), "value": Decimal("0.00")}
            for report_id in ids for n in range(per_report)])
        session.commit()
        return len(ids) * per_report


def test_dashboard_reads_no_lines_and_the_same_statements_with_more_lines(app, region, signed_in):  # noqa: F811
    client = signed_in(CONTRACT_MANAGER)
    client.get("/realisatie/dashboard/?jaar=2026")
    with Statements(app) as before:
        small = client.get("/realisatie/dashboard/?jaar=2026")
    assert _add_lines(app, 50) > 0
    with Statements(app) as after:
        large = client.get("/realisatie/dashboard/?jaar=2026")
    assert small.status_code == large.status_code == 200
    assert len(after) == len(before)
    assert not [s for s in after if "realisation_line" in s], "the dashboard sums reports, not lines"


# --- Settlement index ------------------------------------------------------------------------------


def _add_settlement_lines(app, run_id: int) -> int:
    """Lines for every budget agreement the run does not settle yet, in the run's first line's
    parties, with amounts in odd cents (rows the index only counts and sums)."""
    with app.app_context():
        session = db.session()
        first = session.execute(select(SettlementLine).where(SettlementLine.run_id == run_id)
                                .order_by(SettlementLine.id)).scalars().first()
        settled = select(SettlementLine.budget_agreement_id).where(SettlementLine.run_id == run_id)
        others = session.execute(select(BudgetAgreement.id).where(BudgetAgreement.id.not_in(settled))
                                 ).scalars().all()
        session.execute(insert(SettlementLine), [
            {"run_id": run_id, "budget_agreement_id": agreement_id, "organisation_id": first.organisation_id,
             "municipality_id": first.municipality_id, "segment_key": first.segment_key, "kind": first.kind,
             "inputs": {}, "explanation": [], "realisation": Decimal("0.01") * n,
             "settled_value": Decimal("1000.07") + n, "paid": Decimal("999.99"),
             "due": Decimal("-0.03") * n if n % 2 else Decimal("12345678.91")}
            for n, agreement_id in enumerate(others)])
        session.commit()
        return len(others)


def _run_totals(app, run_id: int, **party):
    with app.app_context():
        run = db.session().get(SettlementRun, run_id)
        return runs_service.totals(runs_service.lines_of(run, **party))


@pytest.mark.parametrize("email", [SETTLEMENT_MANAGER, PROVIDER, MUNICIPALITY])
def test_settlement_index_sums_in_sql_and_sends_the_same_statements_with_more_lines(app, signed_in, email):
    run_id = make_run(app, publish=True)
    client = signed_in(email)
    client.get(f"/afrekening/?jaar={YEAR}")
    with Statements(app) as before:
        small = client.get(f"/afrekening/?jaar={YEAR}")
    assert _add_settlement_lines(app, run_id) > 20
    with Statements(app) as after:
        large = client.get(f"/afrekening/?jaar={YEAR}")
    assert small.status_code == large.status_code == 200
    assert len(after) == len(before)
    reads_lines = [s for s in after if "settlement_line" in s]
    assert reads_lines and all("GROUP BY" in s for s in reads_lines), "sums per run, not every line"
    party = {PROVIDER: {"organisation_id": _org_id(app, "Zorggroep Maasland")},
             MUNICIPALITY: {"municipality_id": _org_id(app, "Venlo")}}.get(email, {})
    summed = _run_totals(app, run_id, **party)
    assert money(summed.settled_value) in large.get_data(as_text=True)


def _org_id(app, name: str) -> int:
    with app.app_context():
        return db.session().execute(select(Organisation.id).where(Organisation.name == name)).scalar_one()


def test_sums_per_run_equal_the_lines_added_up_to_the_cent(app, demo):
    run_id = make_run(app)
    _add_settlement_lines(app, run_id)
    with app.app_context():
        run = db.session().get(SettlementRun, run_id)
        lines = runs_service.lines_of(run)
        sums = runs_service.sums_per_run([run_id])[run_id]
        assert sums.lines == len(lines)
        assert sums.totals == runs_service.totals(lines)
        assert sums.totals.repayments > 0 and sums.totals.additional_payments > 0
        provider = lines[0].organisation_id
        mine = [line for line in lines if line.organisation_id == provider]
        assert runs_service.sums_per_run([run_id], organisation_id=provider)[run_id].totals == \
            runs_service.totals(mine)


# --- Framework agreement list ----------------------------------------------------------------------


def _add_framework_agreements(app, count: int) -> int:
    """``count`` more framework agreements like the region's first, with its segments, referenced
    to sort after every other (rows the list's first page does not show)."""
    with app.app_context():
        session = db.session()
        first = session.execute(select(FrameworkAgreement).order_by(FrameworkAgreement.id)).scalars().first()
        keys = session.execute(select(FrameworkSegment.segment_key).where(
            FrameworkSegment.framework_agreement_id == first.id)).scalars().all()
        for n in range(count):
            agreement = FrameworkAgreement(
                region_id=first.region_id, organisation_id=first.organisation_id, reference=f"ZZ-{n:03}",
                domain=first.domain, lot=first.lot, contract_form=first.contract_form,
                start_date=first.start_date, initial_years=first.initial_years,
                extension_options=list(first.extension_options), bow_wave=first.bow_wave)
            session.add(agreement)
            session.flush()
            session.add_all(FrameworkSegment(framework_agreement_id=agreement.id, segment_key=key)
                            for key in keys)
        session.commit()
        return count


def test_framework_list_pages_in_sql_and_sends_the_same_statements_with_more_agreements(app, signed_in):
    client = signed_in(SETTLEMENT_MANAGER)
    client.get("/afspraken/")
    with Statements(app) as before:
        small = client.get("/afspraken/")
    _add_framework_agreements(app, 60)
    with Statements(app) as after:
        large = client.get("/afspraken/")
    assert small.status_code == large.status_code == 200
    assert len(after) == len(before)
    listing = [s for s in after if "FROM framework_agreement" in s and "count(" not in s]
    assert listing and all("LIMIT" in s for s in listing), "the page of agreements is read in SQL"
    last = client.get("/afspraken/?pagina=99").get_data(as_text=True)
    assert "ZZ-059" in last and "ZZ-059" not in large.get_data(as_text=True)
    # Sorting on the term still reads the selection's terms, and sorts it.
    by_end = client.get("/afspraken/?sorteer=-einde&status=running")
    assert by_end.status_code == 200


def _add_reports(app, versions: int) -> None:
    """``versions`` more quarter reports (approved and submitted, in odd and negative cents) for
    every cell of the year: the dashboard shows their sums, never one row per report."""
    with app.app_context():
        session = db.session()
        cells = session.execute(select(RealisationReport.region_id, RealisationReport.organisation_id,
                                       RealisationReport.municipality_id, RealisationReport.segment_key)
                                .where(RealisationReport.year == YEAR_OF_DASHBOARD).distinct()).all()
        session.add_all(
            RealisationReport(region_id=region_id, organisation_id=provider, municipality_id=municipality,
                              segment_key=segment, year=YEAR_OF_DASHBOARD, period_kind="quarter",
                              period=1 + n % 4, version=100 + n, state="approved" if n % 3 else "submitted",
                              total_value=(Decimal("-0.01") * n if n % 5 == 4
                                           else Decimal("1000.00") + Decimal(n) / 100),
                              place_days_total=n)
            for region_id, provider, municipality, segment in cells for n in range(versions))
        session.commit()


def _expected_months(app) -> dict[str, list[Decimal]]:
    """The month trend added up report by report (the dashboard's rule, in Python)."""
    expected = {"approved": [Decimal("0.00")] * 12, "submitted": [Decimal("0.00")] * 12}
    with app.app_context():
        for state, kind, number, value in db.session().execute(select(
                RealisationReport.state, RealisationReport.period_kind, RealisationReport.period,
                RealisationReport.total_value).where(RealisationReport.year == YEAR_OF_DASHBOARD,
                                                     RealisationReport.state.in_(("approved", "submitted")))):
            period = Period(YEAR_OF_DASHBOARD, kind, number)
            for month, part in dashboard_figures.month_values(period, value).items():
                expected[state][month - 1] += part
    return expected


def test_dashboard_sums_reports_in_sql_per_cell_and_month_to_the_cent(app, region, signed_in):  # noqa: F811
    client = signed_in(CONTRACT_MANAGER)
    url = f"/realisatie/dashboard/?jaar={YEAR_OF_DASHBOARD}"
    client.get(url)
    with Statements(app) as before:
        small = client.get(url)
    _add_reports(app, 40)
    with Statements(app) as after:
        large = client.get(url)
    assert small.status_code == large.status_code == 200
    assert len(after) == len(before)
    reads_reports = [s for s in after if "FROM realisation_report" in s and "DISTINCT" not in s]
    assert reads_reports and all("GROUP BY" in s for s in reads_reports), "sums per cell, not per report"
    _, months = _csv(client.get(f"/realisatie/dashboard/export.csv?jaar={YEAR_OF_DASHBOARD}&tabel=maanden"))
    expected = _expected_months(app)
    assert [_amount(row[1]) for row in months[:12]] == expected["approved"]
    assert [_amount(row[3]) for row in months[:12]] == expected["submitted"]
    _, cells = _csv(client.get(f"/realisatie/dashboard/export.csv?jaar={YEAR_OF_DASHBOARD}&tabel=overzicht"))
    assert cells[-1][0] == "Totaal"
    assert [_amount(cells[-1][5]), _amount(cells[-1][6])] == [sum(expected["approved"]),
                                                             sum(expected["submitted"])]
