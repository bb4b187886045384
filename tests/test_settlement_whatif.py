"""The what-if simulator of the yearly settlement (issue 6 point 5): the year as agreed next to the
year under another rule or bandwidth, per budget agreement, for contract managers, auditors and
municipalities; bad choices answered on their field; htmx gets the results only; nothing is stored.

The year is the run's year (``YEAR``). The tests that need this year's realisation to lie below the
budgets (months of it approved, not all) run on 1 December (``clock_on``); which year the page
offers first follows the clock (``date_sensitive``)."""
from __future__ import annotations

import re
from decimal import Decimal
from html.parser import HTMLParser

import pytest
from sqlalchemy import func
from sqlmodel import select

from portal import db
from portal.formatting import balance, money
from portal.models import AuditEvent, Organisation, Region
from portal.models.settlement import SettlementCostShare, SettlementLine, SettlementResponse, SettlementRun
from portal.money import to_cents
from portal.settlement import whatif
from portal.settlement.inputs import Overrides, gather
from portal.validators import RuleViolation
from tests.conftest import sign_in
from tests.dates import YEAR, this_year, today

MANAGER = "contractmanager@mgr-noord-limburg.example"
AUDITOR = "auditor@accountant-noord-limburg.example"
MUNICIPALITY = "medewerker@venlo.example"
PROVIDER_ADMIN = "beheer@zorggroep-maasland.example"
PROVIDER_USER = "medewerker@zorggroep-maasland.example"
URL = "/afrekening/wat-als/"
HTMX = {"HX-Request": "true", "HX-Target": "resultaten", "HX-Current-URL": "http://portaal.test" + URL}
# Columns of a row: provider, municipality, segment, kind, realisation, settled today, due today,
# settled under the what-if, due under the what-if, difference (the explanation is on a row of its own).
PROVIDER, MUNICIPALITY_NAME, SEGMENT, KIND, REALISATION, SETTLED, DUE, SETTLED_WHATIF, DUE_WHATIF, DIFFERENCE = range(10)


class TableRows(HTMLParser):
    """The cells of the what-if table's rows of agreements as text (not their explanation rows)."""

    def __init__(self):
        super().__init__()
        self.rows: list[list[str]] = []
        self.in_body = self.in_row = False
        self.cell: list[str] | None = None

    def handle_starttag(self, tag, attrs):
        if tag == "tbody":
            self.in_body = True
        elif tag == "tr" and self.in_body:
            self.in_row = "whatif-row" in (dict(attrs).get("class") or "").split()
            if self.in_row:
                self.rows.append([])
        elif tag in ("td", "th") and self.in_body and self.in_row:
            self.cell = []

    def handle_endtag(self, tag):
        if tag == "tbody":
            self.in_body = False
        elif tag in ("td", "th") and self.cell is not None:
            self.rows[-1].append(squeeze("".join(self.cell)))
            self.cell = None

    def handle_data(self, data):
        if self.cell is not None:
            self.cell.append(data)


def squeeze(text: str) -> str:
    """Runs of spaces and newlines as one space; a no-break space (in every amount) is kept."""
    return re.sub(r"[ \t\r\n]+", " ", text).strip()


def table_rows(html: str) -> list[list[str]]:
    parser = TableRows()
    parser.feed(html)
    return parser.rows


@pytest.fixture
def region(app, demo_with_realisation):
    """The demo region. Requests are made outside this app context (a request inside one would
    share its ``g``, and with it the signed-in user of an earlier request)."""
    with app.app_context():
        return db.session().exec(select(Region).where(Region.code == "noord-limburg")).one()




def client_for(app, email: str):
    client = app.test_client()
    assert sign_in(client, email).status_code == 302
    return client


def organisation_id(app, name: str) -> int:
    with app.app_context():
        return db.session().exec(select(Organisation.id).where(Organisation.name == name)).one()


def row_of(rows: list[list[str]], provider: str, municipality: str, segment: str) -> list[str]:
    [row] = [r for r in rows if r[PROVIDER] == provider and r[MUNICIPALITY_NAME] == municipality and r[SEGMENT] == segment]
    return row


def stored_counts(app) -> tuple[int, ...]:
    with app.app_context():
        session = db.session()
        return tuple(session.exec(select(func.count()).select_from(model)).one()
                 for model in (SettlementRun, SettlementLine, SettlementResponse, SettlementCostShare, AuditEvent))


# --- Reading the bandwidth --------------------------------------------------------------------------


@pytest.mark.parametrize("text, fraction", [("", None), ("  ", None), ("0", Decimal(0)), ("7,5", Decimal("0.075")),
                                            ("7,5%", Decimal("0.075")), ("7.5 %", Decimal("0.075")),
                                            ("100", Decimal(1)), ("10", Decimal("0.1"))])
def test_a_bandwidth_is_read_as_a_percentage(text, fraction):
    assert whatif.parse_bandwidth(text) == fraction


@pytest.mark.parametrize("text, message", [("abc", "Vul een percentage in"), ("150", "van 0 tot en met 100"),
                                           ("-5", "van 0 tot en met 100"), ("1e3", "Vul een percentage in"),
                                           ("%", "Vul een percentage in"), ("NaN", "Vul een percentage in")])
def test_a_bandwidth_that_is_no_percentage_is_refused_on_its_field(text, message):
    with pytest.raises(RuleViolation) as refused:
        whatif.parse_bandwidth(text)
    assert refused.value.field == "bandbreedte" and message in refused.value.message


# --- The comparison -----------------------------------------------------------------------------------


def test_the_today_columns_are_the_settlement_as_agreed(app, region):
    with app.app_context():
        expected = gather(region, YEAR).settle().settlements
    assert len(expected) == 46
    response = client_for(app, MANAGER).get(f"{URL}?jaar={YEAR}")
    assert response.status_code == 200
    rows = table_rows(response.get_data(as_text=True))
    assert len(rows) == len(expected)
    for row, settlement in zip(rows, expected):
        agreement = settlement.agreement
        assert (row[PROVIDER], row[MUNICIPALITY_NAME]) == (agreement.provider, agreement.municipality)
        assert row[REALISATION] == money(agreement.realisation)
        assert row[SETTLED] == money(settlement.settled_value)
        assert row[DUE] == balance(settlement.due)  # in words (issue 15)
        # Without choices the what-if is the agreement itself.
        assert (row[SETTLED_WHATIF], row[DUE_WHATIF], row[DIFFERENCE]) == (row[SETTLED], row[DUE], money(0))
    page = response.get_data(as_text=True)
    due = sum((s.due for s in expected), Decimal(0))
    assert f"Vandaag: per saldo {money(-due)} terugbetaling door de zorgaanbieders" in squeeze(page)
    assert "er wordt niets opgeslagen" in page


@pytest.mark.date_sensitive
def test_the_year_defaults_to_the_latest_year_with_approved_realisation(app, region):
    # The demo approves a month two months after it (the last month stays submitted, the one before
    # waits): this year's January from April on. Before that, last year's realisation is the latest.
    expected = this_year() if today().month >= 4 else this_year() - 1
    page = client_for(app, MANAGER).get(URL).get_data(as_text=True)
    assert f'<option value="{expected}" selected>' in page
    assert f"Afrekening {expected} per afspraak" in page


def venlo_s1(app, region) -> tuple[Decimal, Decimal]:
    """The budget and the approved realisation this year of Werkbedrijf Noord-Limburg with Venlo in
    Participatie S1: a budget with a bandwidth of 10% and no adjustments of its segment's rules."""
    with app.app_context():
        [agreement] = [s.agreement for s in gather(region, YEAR).sources
                       if (s.agreement.provider, s.agreement.municipality, s.agreement.segment) ==
                       ("Werkbedrijf Noord-Limburg", "Venlo", "participatie.S1")]
    assert (agreement.kind, agreement.bandwidth) == ("budget", Decimal("0.10"))
    return agreement.budget, agreement.realisation


@pytest.mark.clock_on(12, 1)  # this year's realisation up to September is approved
def test_bandwidth_zero_settles_a_budget_at_its_realisation_and_a_wide_band_at_its_budget(app, region):
    client = client_for(app, MANAGER)
    budget, realised = venlo_s1(app, region)
    # The realisation so far lies below the band of 10% and inside one of 50%.
    assert budget / 2 <= realised < budget * Decimal("0.9")
    rows = table_rows(client.get(f"{URL}?jaar={YEAR}&bandbreedte=0").get_data(as_text=True))
    row = row_of(rows, "Werkbedrijf Noord-Limburg", "Venlo", "Participatie S1")
    assert row[SETTLED_WHATIF] == row[REALISATION] == money(realised)
    assert row[DUE_WHATIF] == balance(realised - budget)  # "terug te betalen …" (issue 15)
    for row in rows:  # every budget without an adjustment of its segment's rules settles its realisation
        if row[KIND] == "Budget" and row[SEGMENT].startswith("Participatie"):
            assert row[SETTLED_WHATIF] == row[REALISATION]

    # A band of 50% holds the realisation: the budget is settled, nothing is repaid.
    rows = table_rows(client.get(f"{URL}?jaar={YEAR}&bandbreedte=50%25").get_data(as_text=True))
    row = row_of(rows, "Werkbedrijf Noord-Limburg", "Venlo", "Participatie S1")
    assert (row[SETTLED], row[SETTLED_WHATIF], row[DUE_WHATIF]) == (money(realised), money(budget), money(0))
    assert row[DIFFERENCE] == "+" + money(budget - realised)


@pytest.mark.clock_on(12, 1)  # this year's realisation up to September is approved
def test_only_the_part_outside_the_band_differs_from_settling_in_full(app, region):
    client = client_for(app, MANAGER)
    budget, realised = venlo_s1(app, region)
    assert realised < budget * Decimal("0.9")  # below the band of 10%
    full = row_of(table_rows(client.get(f"{URL}?jaar={YEAR}&buiten_band=full").get_data(as_text=True)),
                  "Werkbedrijf Noord-Limburg", "Venlo", "Participatie S1")
    excess = row_of(table_rows(client.get(f"{URL}?jaar={YEAR}&buiten_band=excess").get_data(as_text=True)),
                    "Werkbedrijf Noord-Limburg", "Venlo", "Participatie S1")
    # Below the band: "excess" settles the realisation + 10% of the budget, "full" the realisation.
    assert full[SETTLED_WHATIF] == money(realised)
    tenth = to_cents(budget * Decimal("0.10"))
    assert excess[SETTLED_WHATIF] == money(realised + tenth)
    assert excess[DIFFERENCE] == "+" + money(tenth)
    assert full[SETTLED] == excess[SETTLED] == money(realised)  # today's rule is "full"


def test_the_comparison_matches_the_engine_under_the_overrides(app, region):
    overrides = Overrides(outside_band="excess", band_scope="region", bandwidth=Decimal("0.2"))
    with app.app_context():
        comparison = whatif.compare(region, YEAR, overrides)
        expected = gather(region, YEAR, overrides).settle().settlements
    assert [row.whatif.settled_value for row in comparison.rows] == [s.settled_value for s in expected]
    assert any(row.difference for row in comparison.rows)
    total = whatif.totals(list(comparison.rows))
    assert total.difference == sum((row.difference for row in comparison.rows), Decimal(0))
    regional = [row for row in comparison.rows if row.agreement.kind in ("budget", "population")]
    assert regional and all(row.whatif.explanation[0].startswith("Bandbreedte op regioniveau") for row in regional)


def test_the_explanation_under_the_what_if_is_on_the_page(app, region):
    page = client_for(app, MANAGER).get(f"{URL}?jaar={YEAR}&buiten_band=excess").get_data(as_text=True)
    assert page.count("<details") == 46
    assert "regel &#39;buiten de band&#39;: alleen het deel voorbij de rand" in page or \
        "regel 'buiten de band': alleen het deel voorbij de rand" in page


def test_filters_narrow_the_rows_and_the_totals(app, region):
    client = client_for(app, MANAGER)
    werkbedrijf = organisation_id(app, "Werkbedrijf Noord-Limburg")
    rows = table_rows(client.get(f"{URL}?jaar={YEAR}&aanbieder={werkbedrijf}").get_data(as_text=True))
    assert len(rows) == 7 and {row[PROVIDER] for row in rows} == {"Werkbedrijf Noord-Limburg"}
    venlo = organisation_id(app, "Venlo")
    rows = table_rows(client.get(f"{URL}?jaar={YEAR}&gemeente={venlo}&segment=jeugd.S4").get_data(as_text=True))
    assert {(row[MUNICIPALITY_NAME], row[SEGMENT]) for row in rows} == {("Venlo", "Jeugd S4")} and len(rows) == 2


# --- Who sees what -------------------------------------------------------------------------------------


def test_a_municipality_sees_only_its_own_agreements_with_the_band_over_the_whole_region(app, region):
    client = client_for(app, MUNICIPALITY)
    response = client.get(f"{URL}?jaar={YEAR}&reikwijdte=region&bandbreedte=50")
    assert response.status_code == 200
    rows = table_rows(response.get_data(as_text=True))
    assert rows and {row[MUNICIPALITY_NAME] for row in rows} == {"Venlo"}
    assert 'id="gemeente"' not in response.get_data(as_text=True)
    # The regional band is computed over every municipality, then narrowed to Venlo's rows.
    with app.app_context():
        comparison = whatif.compare(region, YEAR, Overrides(band_scope="region", bandwidth=Decimal("0.5")))
    venlo_rows = comparison.rows_for(municipality_id=organisation_id(app, "Venlo"))
    assert [row[SETTLED_WHATIF] for row in rows] == [money(row.whatif.settled_value) for row in venlo_rows]
    # Another municipality in the filter is ignored: a municipality only ever sees its own rows.
    beesel = organisation_id(app, "Beesel")
    rows = table_rows(client.get(f"{URL}?jaar={YEAR}&gemeente={beesel}").get_data(as_text=True))
    assert {row[MUNICIPALITY_NAME] for row in rows} == {"Venlo"}


def test_providers_are_refused_and_auditors_may_look(app, region):
    assert client_for(app, PROVIDER_ADMIN).get(URL).status_code == 403
    assert client_for(app, PROVIDER_USER).get(URL).status_code == 403
    assert client_for(app, AUDITOR).get(f"{URL}?jaar={YEAR}").status_code == 200
    assert app.test_client().get(URL).status_code == 302


def test_a_provider_the_viewer_cannot_choose_answers_404(app, region):
    assert client_for(app, MANAGER).get(f"{URL}?aanbieder=999999").status_code == 404
    assert client_for(app, MANAGER).get(f"{URL}?aanbieder=x").status_code == 404


# --- Bad choices -------------------------------------------------------------------------------------


@pytest.mark.parametrize("query, field, message", [
    ("bandbreedte=abc", "bandbreedte", "Vul een percentage in, bijvoorbeeld 7,5."),
    ("bandbreedte=150", "bandbreedte", "Kies een percentage van 0 tot en met 100."),
    ("jaar=1999", "jaar", "Kies een jaar met budgetafspraken uit de lijst."),
    ("jaar=abc", "jaar", "Kies een jaar met budgetafspraken uit de lijst."),
    ("buiten_band=half", "buiten_band", "Kies een regel uit de lijst."),
    ("reikwijdte=wereld", "reikwijdte", "Kies een reikwijdte uit de lijst."),
])
def test_a_bad_choice_gets_a_dutch_message_on_its_field_and_keeps_the_values(app, region, query, field, message):
    response = client_for(app, MANAGER).get(f"{URL}?{query}&segment=jeugd.S4")
    assert response.status_code == 400
    page = response.get_data(as_text=True)
    assert f'<p class="field-error" id="{field}-error"><span class="visually-hidden">Fout: </span>{message}' in page
    assert f'aria-describedby="{field}-error"' in page or f'{field}-hint {field}-error' in page
    assert 'aria-invalid="true"' in page and f'href="#{field}"' in page
    assert "Er is niets doorgerekend" in page and table_rows(page) == []
    assert '<option value="jeugd.S4" selected>' in page  # the other choices are kept
    if field == "bandbreedte":
        assert f'value="{query.split("=")[1]}"' in page


def test_an_agreement_the_engine_cannot_settle_is_named_not_a_server_error(app, region, monkeypatch):
    from portal.settlement import engine

    def refuse(*_args):
        raise engine.ScenarioError("164", "budget", "mag niet negatief zijn")
    monkeypatch.setattr(whatif, "compare", refuse)
    response = client_for(app, MANAGER).get(f"{URL}?jaar={YEAR}")
    assert response.status_code == 422
    page = response.get_data(as_text=True)
    assert f"De afrekening van {YEAR} kan niet worden doorgerekend" in page and "mag niet negatief zijn" in page


# --- htmx ----------------------------------------------------------------------------------------------


def test_htmx_gets_only_the_results(app, region):
    client = client_for(app, MANAGER)
    response = client.get(f"{URL}?jaar={YEAR}&bandbreedte=50", headers=HTMX)
    assert response.status_code == 200 and "HX-Request" in response.headers.get("Vary", "")
    page = response.get_data(as_text=True)
    assert "<html" not in page and "<form" not in page and "Hoofdmenu" not in page and "<h1" not in page
    assert len(table_rows(page)) == 46 and f"Uitkomst {YEAR}" in page
    # The bandwidth field comes along out of band, so its message follows the results.
    assert 'id="veld-bandbreedte" hx-swap-oob="true"' in page and "field-error" not in page

    restored = client.get(f"{URL}?jaar={YEAR}&bandbreedte=50", headers={**HTMX, "HX-History-Restore-Request": "true"})
    assert "<html" in restored.get_data(as_text=True)  # htmx restoring history wants the whole page

    refused = client.get(f"{URL}?jaar={YEAR}&bandbreedte=abc", headers=HTMX)
    assert refused.status_code == 400  # the portal's htmx configuration swaps 400 and 422
    page = refused.get_data(as_text=True)
    assert "<form" not in page and "Er is niets doorgerekend" in page
    assert 'id="veld-bandbreedte" hx-swap-oob="true"' in page and 'id="bandbreedte-error"' in page


def test_the_page_works_without_javascript(app, region):
    page = client_for(app, MANAGER).get(URL).get_data(as_text=True)
    assert '<form method="get"' in page and f'action="{URL}"' in page
    assert '<button type="submit" class="button button-secondary">Doorrekenen</button>' in page
    assert 'hx-target="#resultaten"' in page and 'hx-trigger="submit, change"' in page
    assert '<div id="resultaten" aria-live="polite">' in page


# --- Nothing is stored -----------------------------------------------------------------------------------


def test_nothing_is_stored(app, region):
    for email in (MANAGER, MUNICIPALITY, AUDITOR):
        client = client_for(app, email)
        before = stored_counts(app)  # signing in may audit; simulating may not
        for query in ("", "&bandbreedte=0", "&buiten_band=excess&reikwijdte=region&bandbreedte=7,5",
                      "&bandbreedte=abc"):
            client.get(f"{URL}?jaar={YEAR}{query}")
            client.get(f"{URL}?jaar={YEAR}{query}", headers=HTMX)
        assert stored_counts(app) == before
