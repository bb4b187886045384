"""Realisation from iJw 323 declaration messages: mapped to catalogue trajectories by the domain
plugin, added up per municipality, segment, month and trajectory, checked and stored like a file;
BSNs are checked with the eleven-test and never stored. Test messages are written here (DOMAIN.md §10):
declarations of November of the run's year, sent on 20 November (the clock is moved there)."""
from __future__ import annotations

import io
from decimal import Decimal

import pytest
from sqlmodel import select

from portal import db
from portal.catalogue.service import trajectory_price
from portal.models import AuditEvent, Organisation, StandardTrajectory
from portal.models.realisation import RealisationLine, RealisationReport, RealisationUpload
from portal.realisation.declaration_323 import eleven_test
from portal.realisation.importing import process_upload, receive_file
from tests.dates import FIRST_YEAR, YEAR

NS = 'xmlns:ijw="http://www.istandaarden.nl/ijw/3_2/basisschema/schema" ' \
     'xmlns:jw323="http://www.istandaarden.nl/ijw/3_2/jw323/schema"'
BSN_A, BSN_B = "999900006", "999900018"  # test numbers that pass the eleven-test
PROVIDER_AGB = "73730101"  # Zorggroep Maasland in the demo

pytestmark = pytest.mark.clock_on(11, 20)


@pytest.fixture
def app_config():
    return {"REALISATION_IN_BACKGROUND": False}


def prestatie(code="45A03", volume=1, unit="82", begin=f"{YEAR}-11-01", end=f"{YEAR}-11-30", allocation="10072",
              debit_credit="D", amount=100000):
    return f"""
      <jw323:Prestatie>
        <jw323:ProductReferentie><ijw:ReferentieNummer>R{allocation}{code}</ijw:ReferentieNummer></jw323:ProductReferentie>
        <jw323:ToewijzingNummer>{allocation}</jw323:ToewijzingNummer>
        <jw323:ProductCategorie>{code[:2]}</jw323:ProductCategorie>
        <jw323:ProductCode>{code}</jw323:ProductCode>
        <jw323:ProductPeriode><ijw:Begindatum>{begin}</ijw:Begindatum><ijw:Einddatum>{end}</ijw:Einddatum></jw323:ProductPeriode>
        <jw323:GeleverdVolume>{volume}</jw323:GeleverdVolume>
        <jw323:Eenheid>{unit}</jw323:Eenheid>
        <jw323:IngediendBedrag><ijw:Bedrag>{amount}</ijw:Bedrag><ijw:DebetCredit>{debit_credit}</ijw:DebetCredit></jw323:IngediendBedrag>
      </jw323:Prestatie>"""


def message(clients: list[tuple[str, list[str]]], sender=PROVIDER_AGB, receiver="0889", prolog="") -> bytes:
    body = "".join(f"<jw323:Client><jw323:Bsn>{bsn}</jw323:Bsn><jw323:Prestaties>{''.join(items)}"
                   f"</jw323:Prestaties></jw323:Client>" for bsn, items in clients)
    return f"""<?xml version="1.0" encoding="UTF-8"?>{prolog}
<jw323:Bericht {NS}>
  <jw323:Header>
    <jw323:BerichtCode>490</jw323:BerichtCode><jw323:BerichtVersie>3</jw323:BerichtVersie>
    <jw323:BerichtSubversie>2</jw323:BerichtSubversie>
    <jw323:Afzender>{sender}</jw323:Afzender><jw323:Ontvanger>{receiver}</jw323:Ontvanger>
    <jw323:BerichtIdentificatie><ijw:Identificatie>M1</ijw:Identificatie><ijw:Dagtekening>{YEAR}-11-20</ijw:Dagtekening></jw323:BerichtIdentificatie>
  </jw323:Header>
  <jw323:Declaratie>
    <jw323:DeclaratieNummer>DN001</jw323:DeclaratieNummer>
    <jw323:DeclaratiePeriode><ijw:Begindatum>{YEAR}-11-01</ijw:Begindatum><ijw:Einddatum>{YEAR}-11-30</ijw:Einddatum></jw323:DeclaratiePeriode>
    <jw323:DeclaratieDagtekening>{YEAR}-11-20</jw323:DeclaratieDagtekening>
    <jw323:TotaalIngediendBedrag><ijw:TotaalBedrag>0</ijw:TotaalBedrag><ijw:DebetCredit>D</ijw:DebetCredit></jw323:TotaalIngediendBedrag>
    <jw323:Clienten>{body}</jw323:Clienten>
  </jw323:Declaratie>
</jw323:Bericht>""".encode()


def _import(data: bytes, name: str = "declaratie-november.xml") -> RealisationUpload:
    session = db.session()
    provider = session.exec(select(Organisation).where(Organisation.name == "Zorggroep Maasland")).one()
    upload = receive_file(provider, None, io.BytesIO(data), name)
    return process_upload(upload.id)


def _price(code: str) -> Decimal:
    session = db.session()
    provider = session.exec(select(Organisation).where(Organisation.name == "Zorggroep Maasland")).one()
    standard = session.exec(select(StandardTrajectory).where(StandardTrajectory.year == YEAR,
                                                             StandardTrajectory.code == code)).one()
    return trajectory_price(standard, provider.id).total


def _stored_count() -> int:
    return len(db.session().exec(select(RealisationLine)).all())


def test_the_eleven_test():
    assert eleven_test(BSN_A) and eleven_test(BSN_B)
    assert not eleven_test("999900007")
    assert not eleven_test("000000000")
    assert not eleven_test("12345678")
    assert not eleven_test("12345678a")


def test_a_declaration_is_added_up_per_trajectory_and_stored_without_the_bsn(app, demo):
    data = message([
        (BSN_A, [prestatie("45A03", 1, allocation="1"), prestatie("45A04", 1, allocation="2")]),
        (BSN_B, [prestatie("45A03", 1, allocation="3")]),
    ])
    with app.app_context():
        upload = _import(data)
        assert upload.state == "stored", upload.errors
        assert upload.source == "323"
        report = db.session().exec(select(RealisationReport).where(RealisationReport.upload_id == upload.id)).one()
        assert (report.segment_key, report.year, report.period_kind, report.period) == ("jeugd.S4", YEAR, "month", 11)
        lines = {line.trajectory_code: line for line in db.session().exec(
            select(RealisationLine).where(RealisationLine.report_id == report.id))}
        assert (lines["S4-BEG-6"].started, lines["S4-BEG-6"].running, lines["S4-BEG-6"].clients) == (2, 2, 2)
        assert (lines["S4-BEH-4"].started, lines["S4-BEH-4"].clients) == (1, 1)
        assert lines["S4-BEG-6"].value == 2 * _price("S4-BEG-6")
        assert report.total_value == 2 * _price("S4-BEG-6") + _price("S4-BEH-4")
        # the BSN is nowhere: not in the lines, the upload, nor the audit trail
        stored_text = repr([line.model_dump() for line in lines.values()]) + repr(upload.model_dump())
        stored_text += repr([e.model_dump() for e in db.session().exec(select(AuditEvent)).all()])
        assert BSN_A not in stored_text and BSN_B not in stored_text


def test_a_credit_prestatie_subtracts(app, demo):
    data = message([(BSN_A, [prestatie("45A03", 3, allocation="1"), prestatie("45A03", 1, allocation="1",
                                                                            debit_credit="C")])])
    with app.app_context():
        upload = _import(data)
        assert upload.state == "stored", upload.errors
        line = db.session().exec(select(RealisationLine)).one()
        assert line.started == 2


@pytest.mark.parametrize("clients, column, fragment", [
    ([("999900007", [prestatie()])], "Bsn", "elfproef"),
    ([(BSN_A, [prestatie(code="99Z99")])], "ProductCode", "Productcode '99Z99'"),
    ([(BSN_A, [prestatie(unit="04")])], "Eenheid", "verwacht: stuks"),
    ([(BSN_A, [prestatie(begin=f"{YEAR}-10-15", end=f"{YEAR}-11-15")])], "ProductPeriode", "kalendermaand"),
    ([(BSN_A, [prestatie(volume="1.5")])], "GeleverdVolume", "geheel getal"),
])
def test_a_wrong_prestatie_is_reported_and_nothing_is_stored(app, demo, clients, column, fragment):
    with app.app_context():
        upload = _import(message(clients))
        assert upload.state == "refused"
        assert [(e["row"], e["column"]) for e in upload.errors] == [(1, column)]
        assert fragment in upload.errors[0]["message"]
        assert "999900007" not in upload.errors[0]["message"]
        assert _stored_count() == 0


def test_a_period_outside_the_agreement_goes_through_the_usual_checks(app, demo):
    with app.app_context():
        before = FIRST_YEAR - 1  # before the demo's first agreements
        upload = _import(message([(BSN_A, [prestatie(begin=f"{before}-05-01", end=f"{before}-05-31")])]))
        assert upload.state == "refused"
        assert any(e["column"] == "periode" and "buiten uw raamovereenkomst" in e["message"] for e in upload.errors)
        assert _stored_count() == 0


@pytest.mark.parametrize("data, fragment", [
    (message([(BSN_A, [prestatie()])], sender="12345678"), "AGB-code 12345678"),
    (message([(BSN_A, [prestatie()])], receiver="0363"), "Gemeentecode '0363'"),
    (b'<?xml version="1.0"?><Bericht xmlns="urn:iets-anders"/>', "geen iJw- of iWmo-declaratiebericht"),
    (message([(BSN_A, [prestatie()])], prolog='<!DOCTYPE lol [<!ENTITY a "aaaaaaaaaa">'
                                               '<!ENTITY b "&a;&a;&a;&a;&a;&a;&a;&a;&a;&a;">]>'),
     "kan niet worden gelezen"),
    (message([]), "geen prestaties"),
])
def test_wrong_messages_are_refused(app, demo, data, fragment):
    with app.app_context():
        upload = _import(data)
        assert upload.state == "refused"
        assert fragment in (upload.message or "") + repr(upload.errors)
        assert _stored_count() == 0


def test_the_same_message_twice_counts_once(app, demo):
    data = message([(BSN_A, [prestatie()])])
    with app.app_context():
        assert _import(data).state == "stored"
        again = _import(data, "nogmaals.xml")
        assert again.state == "refused" and "al ingelezen" in again.message
        assert _stored_count() == 1
