"""Pages at region size (issue 14 point 4): a page's work must not grow with the rows it does not
show. Each test renders a page, adds rows that page does not show, and renders it again: the SQL it
sends stays the same (same number of statements, none over the rows added)."""
from __future__ import annotations

from decimal import Decimal

from sqlalchemy import event, insert, select

from portal import db
from portal.models.realisation import RealisationLine, RealisationReport
from tests.test_realisation_dashboard import (  # noqa: F401  (fixtures)
    CONTRACT_MANAGER,
    _without_demo_realisation,
    region,
)


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
