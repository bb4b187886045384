"""Agreement obligations (``portal_agreement_obligations``): a throwaway region pack declares a social
return of 5% of the contract value above € 200.000; its agreements show the amount on the page and
the PDF, providers report their realisation per year, and the contract manager sees who is behind.
Noord-Limburg, without obligations, shows none.
"""
from __future__ import annotations

import io
from datetime import date
from decimal import Decimal

import pytest
from pypdf import PdfReader
from sqlmodel import select

from portal import db, hookimpl
from portal.accounts import roles
from portal.contracts import obligations
from portal.contracts import service as agreements
from portal.demo import load_pack_demo
from portal.models import (
    AuditEvent,
    FrameworkAgreement,
    ObligationReport,
    Organisation,
    OrganisationKind,
    Region,
)
from portal.registry import AgreementObligation, Domain, PluginConflict, RegionPack, Segment, region_scope
from tests.conftest import csrf_token, make_app, sign_in
from tests.dates import YEAR

PASSWORD = "proef-wachtwoord-2026"
MANAGER = "inkoop@proefland.example"
PROVIDER = "aanbieder@proefland.example"
OTHER_PROVIDER = "tweede@proefland.example"
SROI = AgreementObligation("proefland.sroi", "SROI-verplichting",
                           "Bij een contractwaarde boven € 200.000 besteedt de aanbieder 5% aan social return.",
                           rate="0.05", threshold="200000")
FIRST = YEAR - 1  # the agreements run three years from 1 January last year


class ObligationPack:
    """A region pack written in a test: one domain ``zorg`` with two segments and an SROI obligation."""

    def __init__(self, code="proefland", name="Proefland", obligations=(SROI,), plugin_name=None):
        self.region = RegionPack(code, name, municipalities=((f"{name}stad", "9901", 20_000),),
                                 purchasing_office=f"Inkoop {name}")
        self.obligations = list(obligations)
        self.__name__ = plugin_name or f"pack_{code}"

    @hookimpl
    def portal_regions(self):
        return [self.region]

    @hookimpl
    def portal_domains(self):
        return [Domain("zorg", f"Zorg {self.region.name}", segments=(
            Segment("A", "Ambulant", ("pxq",), "3+1+1"), Segment("B", "Verblijf", ("pxq",), "3+1+1")))]

    @hookimpl
    def portal_agreement_obligations(self):
        return self.obligations

    @hookimpl
    def portal_demo_data(self, demo):
        code = self.region.code
        demo.organisation(f"Aanbieder {self.region.name}", OrganisationKind.PROVIDER, kvk_number="12345678",
                          agb_code="12345678")
        demo.organisation(f"Tweede {self.region.name}", OrganisationKind.PROVIDER, kvk_number="87654321",
                          agb_code="87654321")
        demo.account(f"inkoop@{code}.example", "Inkoper", roles.CONTRACT_MANAGER, self.region.purchasing_office)
        demo.account(f"aanbieder@{code}.example", "Aanbieder", roles.PROVIDER_ADMIN, f"Aanbieder {self.region.name}")
        demo.account(f"tweede@{code}.example", "Tweede", roles.PROVIDER_ADMIN, f"Tweede {self.region.name}")


class SharedObligations:
    """A plugin without a region declaring obligations (they hold in every region without a pack)."""

    def __init__(self, name, *declared):
        self.declared = list(declared)
        self.__name__ = name

    @hookimpl
    def portal_agreement_obligations(self):
        return self.declared


@pytest.fixture
def app_config():
    return {"EXTRA_PLUGINS": [ObligationPack()]}


def _hash():
    from portal.accounts.passwords import hash_password

    return hash_password(PASSWORD)


def _organisation(name: str) -> Organisation:
    return db.session().exec(select(Organisation).where(Organisation.name == name)).one()


def _framework(provider: Organisation, reference: str, segment: str, value: str | None) -> int:
    agreement = agreements.create_framework_agreement(
        provider.region_id, organisation_id=provider.id, reference=reference, domain="zorg", segments=[segment],
        lot="regional", contract_form="d", start_date=date(FIRST, 1, 1), scheme="3+1+1",
        contract_value=None if value is None else Decimal(value))
    return agreement.id


@pytest.fixture
def region(app):
    """The pack's region with two providers and four agreements: € 250.000 and € 200.000 of the
    first provider, € 200.000,01 and € 300.000 of the second."""
    with app.app_context():
        load_pack_demo(ObligationPack().region, "pack_proefland", _hash(), date(YEAR, 6, 1))
        with region_scope("proefland"):
            first, second = _organisation("Aanbieder Proefland"), _organisation("Tweede Proefland")
            ids = {"250k": _framework(first, "PL-250", "zorg.A", "250000"),
                   "200k": _framework(first, "PL-200", "zorg.B", "200000"),
                   "200k01": _framework(second, "PL-200-01", "zorg.A", "200000.01"),
                   "300k": _framework(second, "PL-300", "zorg.B", "300000")}
        db.session().commit()
    return ids


def _client(app, email):
    client = app.test_client()
    assert sign_in(client, email, PASSWORD).status_code == 302
    return client


def _plain(text: str) -> str:
    return text.replace("\xa0", " ")


def _pdf_text(response) -> str:
    assert response.status_code == 200 and response.mimetype == "application/pdf"
    return _plain("\n".join(page.extract_text() for page in PdfReader(io.BytesIO(response.get_data())).pages))


# --- The obligation and its rounding ------------------------------------------------------------------


@pytest.mark.parametrize("value, expected", [
    ("250000", Decimal("12500.00")),
    ("200000", None),  # at exactly the threshold there is none: strictly above
    ("200000.01", Decimal("10000.00")),  # 10.000,0005 half-up to the cent
    ("200010.10", Decimal("10000.51")),  # 10.000,505 half-up
    (None, None),
])
def test_the_amount_is_value_times_rate_half_up_only_above_the_threshold(value, expected):
    assert SROI.amount(None if value is None else Decimal(value)) == expected


def test_yearly_targets_add_up_to_the_obligation_and_the_state_is_cumulative():
    targets = obligations.yearly_targets(Decimal("12500.00"), [2025, 2026, 2027])
    assert list(targets.values()) == [Decimal("4166.67"), Decimal("4166.67"), Decimal("4166.66")]
    reports = {2025: ObligationReport(year=2025, realised_cents=600_000)}
    first, second, third = obligations.standings(Decimal("12500.00"), [2025, 2026, 2027], reports)
    assert (first.state, first.shortfall) == ("on_track", Decimal("0.00"))
    assert second.state == "not_reported" and second.shortfall == Decimal("2333.34")
    reports[2026] = ObligationReport(year=2026, realised_cents=100_000)
    second = obligations.standings(Decimal("12500.00"), [2025, 2026, 2027], reports)[1]
    assert (second.state, second.state_label, second.shortfall) == ("behind", "achter", Decimal("1333.34"))


# --- Start-up: merged per region, validated ------------------------------------------------------------


def test_a_packs_obligation_holds_in_its_own_region_only(app):
    registry = app.extensions["portal.registry"]
    assert registry.for_region("proefland").obligations == {"proefland.sroi": SROI}
    assert registry.obligations == {}  # Noord-Limburg and every region without a pack
    assert registry.for_region("proefland").obligations_for("zorg", ["zorg.A"]) == [SROI]


def test_the_same_id_in_two_packs_is_fine_but_twice_in_one_region_names_both_plugins():
    other = ObligationPack("testdal", "Testdal", obligations=(SROI,))
    app = make_app("sqlite://", EXTRA_PLUGINS=[ObligationPack(), other])
    assert app.extensions["portal.registry"].for_region("testdal").obligations["proefland.sroi"] == SROI
    twice = [SharedObligations("plugin_een", AgreementObligation("x.sroi", "SROI", "Een.", "0.05")),
             SharedObligations("plugin_twee", AgreementObligation("x.sroi", "SROI", "Twee.", "0.04"))]
    with pytest.raises(PluginConflict, match="Obligation id 'x.sroi' is declared twice") as error:
        make_app("sqlite://", EXTRA_PLUGINS=twice)
    assert "plugin_een" in str(error.value) and "plugin_twee" in str(error.value)


@pytest.mark.parametrize("obligation, message", [
    (AgreementObligation("x.a", "A", "A.", rate="1.5"), "not a fraction from 0 to 1"),
    (AgreementObligation("x.a", "A", "A.", rate="5%"), "not a fraction from 0 to 1"),
    (AgreementObligation("x.a", "A", "A.", rate="0.05", threshold="-1"), "not a decimal that is not negative"),
    (AgreementObligation("x.a", "A", "A.", rate="0.05", threshold="twee ton"), "not a decimal that is not negative"),
    (AgreementObligation("x.a", "A", "A.", rate="0.05", segments=("zorg.Z",)), "unknown segments or domains"),
    (AgreementObligation("", "A", "A.", rate="0.05"), "not an AgreementObligation with an id"),
])
def test_a_bad_obligation_stops_start_up(obligation, message):
    with pytest.raises(PluginConflict, match=message):
        make_app("sqlite://", EXTRA_PLUGINS=[ObligationPack(obligations=(obligation,))])


# --- The agreement page and PDF --------------------------------------------------------------------------


def test_the_manager_sees_the_contract_value_and_the_obligation_on_page_and_pdf(app, region):
    manager = _client(app, MANAGER)
    cases = {"250k": ("€ 250.000,00", "SROI-verplichting: € 12.500,00 (5% van de contractwaarde van € 250.000,00; "
                                      "geldt bij een contractwaarde boven € 200.000)"),
             "200k": ("€ 200.000,00", "Geen SROI-verplichting: contractwaarde niet boven € 200.000"),
             "200k01": ("€ 200.000,01", "SROI-verplichting: € 10.000,00 (5% van de contractwaarde van € 200.000,01")}
    for key, (value, line) in cases.items():
        page = _plain(manager.get(f"/afspraken/{region[key]}").get_data(as_text=True))
        assert "Contractwaarde" in page and value in page and line in page, key
        pdf = " ".join(_pdf_text(manager.get(f"/afspraken/{region[key]}/samenvatting.pdf")).split())
        assert "Contractwaarde" in pdf and value in pdf and line in pdf, key
    page = _plain(manager.get(f"/afspraken/{region['200k']}").get_data(as_text=True))
    assert "SROI-verplichting: €" not in page


def test_the_provider_sees_its_obligations_on_its_contracts_and_pdf(app, region):
    provider = _client(app, PROVIDER)
    page = _plain(provider.get("/mijn-contracten/").get_data(as_text=True))
    assert "PL-250: contractwaarde € 250.000,00" in page and "SROI-verplichting: € 12.500,00" in page
    assert "Geen SROI-verplichting: contractwaarde niet boven € 200.000" in page
    assert "PL-300" not in page  # the other provider's
    pdf = " ".join(_pdf_text(provider.get(f"/afspraken/{region['250k']}/samenvatting.pdf")).split())
    assert "SROI-verplichting: € 12.500,00" in pdf
    assert provider.get(f"/afspraken/{region['300k']}/samenvatting.pdf").status_code == 404


# --- The contract value on the agreement form ------------------------------------------------------------


def _edit_values(reference: str, segment: str, value: str) -> dict:
    return {"reference": reference, "domain": "zorg", "segments": segment, "lot": "regional", "contract_form": "d",
            "start_date": f"{FIRST}-01-01", "scheme": "3+1+1", "terminated_on": "", "contract_value": value}


def test_the_manager_sets_the_contract_value_in_dutch_notation_and_bad_input_stores_nothing(app, region):
    manager = _client(app, MANAGER)
    path = f"/afspraken/{region['300k']}/bewerken"
    assert 'value="300000"' in manager.get(path).get_data(as_text=True)
    for typed, message in (("twee ton", "Vul een bedrag of getal in"), ("-5", "kan niet negatief"),
                           ("1,005", "hoogstens 2 cijfers achter de komma")):
        refused = manager.post(path, data={"csrf_token": csrf_token(manager, path),
                                           **_edit_values("PL-300", "zorg.B", typed)})
        assert refused.status_code == 422 and message in refused.get_data(as_text=True), typed
    with app.app_context():
        assert db.session().get(FrameworkAgreement, region["300k"]).contract_value_cents == 30_000_000
    saved = manager.post(path, data={"csrf_token": csrf_token(manager, path),
                                     **_edit_values("PL-300", "zorg.B", "1.234.567,89")})
    assert saved.status_code == 302
    with app.app_context():
        assert db.session().get(FrameworkAgreement, region["300k"]).contract_value_cents == 123_456_789
        change = db.session().exec(select(AuditEvent).where(AuditEvent.action == "framework_agreement.changed")
                                   .order_by(AuditEvent.id.desc())).first()
        assert change.details["before"]["contract_value_cents"] == 30_000_000
        assert change.details["after"]["contract_value_cents"] == 123_456_789
    page = _plain(manager.get(f"/afspraken/{region['300k']}").get_data(as_text=True))
    assert "SROI-verplichting: € 61.728,39" in page  # 61.728,3945 half-up


# --- The provider reports ----------------------------------------------------------------------------------


def _report(client, agreement_id, year, amount, note=""):
    path = f"/verplichtingen/{agreement_id}/rapporteren"
    return client.post(path, data={"csrf_token": csrf_token(client, path), "obligation_id": "proefland.sroi",
                                   "year": str(year), "amount": amount, "note": note})


def _reports(app) -> list[ObligationReport]:
    with app.app_context():
        return list(db.session().exec(select(ObligationReport).order_by(ObligationReport.id)).all())


def test_a_provider_reports_and_corrects_its_realisation_with_an_audit_trail(app, region):
    provider = _client(app, PROVIDER)
    response = _report(provider, region["250k"], FIRST, "5.000,00", "Twee leerwerkplekken")
    assert response.status_code == 302
    (report,) = _reports(app)
    assert (report.year, report.realised_cents, report.note) == (FIRST, 500_000, "Twee leerwerkplekken")
    form = provider.get(f"/verplichtingen/{region['250k']}/rapporteren?verplichting=proefland.sroi&jaar={FIRST}")
    assert 'value="5000"' in form.get_data(as_text=True)  # a correction starts from what is there
    assert _report(provider, region["250k"], FIRST, "6000").status_code == 302
    (report,) = _reports(app)  # replaced, not added
    assert report.realised_cents == 600_000
    with app.app_context():
        events = db.session().exec(select(AuditEvent).where(AuditEvent.object_type == "obligation_report")
                                   .order_by(AuditEvent.id)).all()
    assert [event.action for event in events] == ["obligation_report.submitted", "obligation_report.corrected"]
    assert events[1].details["before"]["realised_cents"] == 500_000
    assert events[1].details["after"]["realised_cents"] == 600_000
    assert events[1].details["obligation_cents"] == 1_250_000
    page = _plain(provider.get("/verplichtingen/mijn/").get_data(as_text=True))
    assert "€ 6.000,00" in page and "op schema" in page and "niet gerapporteerd" in page


@pytest.mark.parametrize("year, amount, message", [
    (FIRST, "-100", "kan niet negatief zijn"),
    (FIRST, "veel", "Vul een bedrag of getal in"),
    (FIRST, "", "Vul het gerealiseerde bedrag in"),
    (FIRST - 1, "100", f"Het jaar {FIRST - 1} valt buiten de looptijd van de overeenkomst ({FIRST}–{FIRST + 2})"),
    (FIRST + 3, "100", "valt buiten de looptijd"),
    (FIRST + 2, "100", "nog niet begonnen"),
])
def test_refused_reports_store_nothing(app, region, year, amount, message):
    provider = _client(app, PROVIDER)
    response = _report(provider, region["250k"], year, amount)
    assert response.status_code == 422
    assert message in response.get_data(as_text=True)
    assert _reports(app) == []


def test_no_report_for_an_agreement_without_the_obligation(app, region):
    response = _report(_client(app, PROVIDER), region["200k"], FIRST, "100")
    assert response.status_code == 422 and _reports(app) == []


def test_another_providers_agreement_answers_404(app, region):
    provider = _client(app, PROVIDER)
    assert provider.get(f"/verplichtingen/{region['300k']}/rapporteren").status_code == 404
    path = f"/verplichtingen/{region['250k']}/rapporteren"
    token = csrf_token(provider, path)
    response = provider.post(f"/verplichtingen/{region['300k']}/rapporteren",
                             data={"csrf_token": token, "obligation_id": "proefland.sroi", "year": str(FIRST),
                                   "amount": "100"})
    assert response.status_code == 404 and _reports(app) == []
    assert _client(app, MANAGER).get(f"/verplichtingen/{region['250k']}/rapporteren").status_code == 403


# --- The contract manager's overview ----------------------------------------------------------------------


def test_the_manager_sees_who_is_behind_first(app, region):
    assert _report(_client(app, PROVIDER), region["250k"], FIRST, "5.000").status_code == 302  # 4.166,67 due
    assert _report(_client(app, OTHER_PROVIDER), region["200k01"], FIRST, "1.000").status_code == 302  # 3.333,34
    manager = _client(app, MANAGER)
    page = _plain(manager.get(f"/verplichtingen/?jaar={FIRST}").get_data(as_text=True))
    order = [page.index(reference) for reference in ("PL-200-01", "PL-300", "PL-250")]
    assert order == sorted(order)  # behind, not reported, on schedule
    assert "€ 2.333,34" in page and "achter" in page and "niet gerapporteerd" in page and "op schema" in page
    assert "PL-200<" not in page  # € 200.000: no obligation, not listed
    assert f'<option value="{FIRST}" selected' in page
    later = _plain(manager.get(f"/verplichtingen/?jaar={FIRST + 1}").get_data(as_text=True))
    # Nobody reported that year: each one "niet gerapporteerd", the largest shortfall to date first.
    assert "op schema" not in later and "achter</span>" not in later
    order = [later.index(reference) for reference in ("PL-300", "PL-200-01", "PL-250")]
    assert order == sorted(order) and "€ 10.000,00" in later
    home = manager.get("/").get_data(as_text=True)
    assert 'href="/verplichtingen/"' in home


# --- Noord-Limburg: no obligations ------------------------------------------------------------------------


def test_noord_limburg_agreements_show_no_obligation(app, demo):
    manager = app.test_client()
    sign_in(manager, "contractmanager@mgr-noord-limburg.example")
    with app.app_context():
        region_id = db.session().exec(select(Region.id).where(Region.code == "noord-limburg")).one()
        agreement = db.session().exec(select(FrameworkAgreement).where(FrameworkAgreement.region_id == region_id)
                                      .order_by(FrameworkAgreement.id)).first()
        agreement.contract_value_cents = 50_000_000  # € 500.000: far above any threshold elsewhere
        db.session().add(agreement)
        db.session().commit()
    page = _plain(manager.get(f"/afspraken/{agreement.id}").get_data(as_text=True))
    assert "Contractwaarde" in page and "€ 500.000,00" in page
    assert "Verplichtingen" not in page and "SROI" not in page
    pdf = _pdf_text(manager.get(f"/afspraken/{agreement.id}/samenvatting.pdf"))
    assert "€ 500.000,00" in pdf and "SROI" not in pdf and "Verplichtingen" not in pdf
    assert 'href="/verplichtingen/"' not in manager.get("/").get_data(as_text=True)  # no menu entry
    assert "Er gelden in deze regio geen verplichtingen" in manager.get("/verplichtingen/").get_data(as_text=True)
