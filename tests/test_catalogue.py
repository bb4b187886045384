"""The catalogue screens: computed prices for every role, the contract manager's edits with their
rules (Dutch error on the wrong field, nothing saved), live price preview, inline edits, scoping
and the audit trail. The test data are built here (tests/catalogue_data.py); tests may name
domains, the core may not."""
from __future__ import annotations

import re
from datetime import date
from decimal import Decimal

import pytest
from sqlmodel import func, select

from portal import db
from portal.models import (
    AuditEvent,
    Organisation,
    StandardTrajectory,
    Surcharge,
    SurchargeQualification,
    TariffVersion,
)
from tests.catalogue_data import YEAR, demo_region_catalogue, other_region_catalogue, qualify
from tests.conftest import csrf_token, post_form

MANAGER = "contractmanager@mgr-noord-limburg.example"
AUDITOR = "auditor@accountant-noord-limburg.example"
MAASLAND = "beheer@zorggroep-maasland.example"
VENRAY = "beheer@thuishulp-venray.example"
VENLO = "medewerker@venlo.example"
HTMX = {"HX-Request": "true"}
D = Decimal


@pytest.fixture
def cat(app, demo):
    return demo_region_catalogue(app)


@pytest.fixture
def manager(signed_in):
    return signed_in(MANAGER)


def field_error(body: str, field_id: str) -> str:
    match = re.search(rf'<(p|span) class="field-error" id="{re.escape(field_id)}-error">(.*?)</\1>', body, re.S)
    assert match, f"no error on field {field_id}"
    return re.sub(r"<[^>]+>", "", match.group(2)).strip()


def count(app, model, *where) -> int:
    with app.app_context():
        return db.session().exec(select(func.count()).select_from(model).where(*where)).one()


def audit_events(app, action: str) -> list[AuditEvent]:
    with app.app_context():
        return list(db.session().exec(select(AuditEvent).where(AuditEvent.action == action)
                                      .order_by(AuditEvent.id)))


def trajectory_data(cat, **changes) -> dict:
    data = {"year": str(YEAR), "care_form_id": str(cat.care_form.id), "code": "T-NIEUW",
            "name": "Nieuw traject", "expertise": "HBO", "intensity": "2,5", "intensity_period": "week",
            "duration_months": "6", "tariff_id": str(cat.tariff.id)}
    data.update(changes)
    return data


def stored(app, model, object_id):
    with app.app_context():
        return db.session().get(model, object_id)


# --- Reading the catalogue and its prices ------------------------------------------------------


def test_every_role_reads_the_catalogue_with_computed_prices(cat, signed_in):
    for email in (MANAGER, AUDITOR, VENLO, VENRAY):
        body = signed_in(email).get(f"/catalogus/?jaar={YEAR}").get_data(as_text=True)
        assert "Ambulante begeleiding zes maanden" in body
        # 65,00 × 2 hours a week × 26 weeks (6 × 52/12), in nl-NL notation
        assert "€\xa03.380,00" in body, email
        assert "Basisprijs: 2 uren per week × 6 maanden × 65 per uur" in body


def test_price_includes_surcharges_for_a_qualifying_provider_only(app, cat, signed_in):
    qualify(app, cat.surcharge.id, "Zorggroep Maasland")
    maasland = signed_in(MAASLAND).get(f"/catalogus/?jaar={YEAR}").get_data(as_text=True)
    assert "€\xa03.718,00" in maasland  # 3.380,00 + 10% opslag
    assert "Opslag Specialistische inzet (10%): <span class=\"nowrap\">€\xa0338,00" in maasland
    venray = signed_in(VENRAY).get(f"/catalogus/?jaar={YEAR}").get_data(as_text=True)
    assert "€\xa03.380,00" in venray and "3.718,00" not in venray and "Specialistische inzet" not in venray
    # The contract manager sees the plain catalogue price; the surcharge is defined once.
    assert "3.718,00" not in signed_in(MANAGER).get(f"/catalogus/?jaar={YEAR}").get_data(as_text=True)
    detail = signed_in(MAASLAND).get(f"/catalogus/trajecten/{cat.trajectory.id}").get_data(as_text=True)
    assert "€\xa03.718,00" in detail and "Prijs voor Zorggroep Maasland" in detail


def test_surcharge_of_another_segment_does_not_apply(app, cat, signed_in):
    qualify(app, cat.surcharge.id, "Zorggroep Maasland")  # the surcharge is for jeugd.S4 only
    body = signed_in(MAASLAND).get(f"/catalogus/trajecten/{cat.trajectory_s3.id}").get_data(as_text=True)
    assert "Specialistische inzet" not in body


def test_jeugd_s3_price_lines_show_opvang_and_parents_contribution(cat, signed_in):
    body = signed_in(VENLO).get(f"/catalogus/trajecten/{cat.trajectory_s3.id}").get_data(as_text=True)
    # 3 hours a week × 4 months (17⅓ weeks) × 65,00 = 3.380,00; opvang 2 days × 17⅓ weeks × 40 =
    # 1.386,67; parents 2 × 17⅓ × 5 = 173,33 (each line rounded half-up; the total is their sum)
    assert "€\xa03.380,00" in body and "€\xa01.386,67" in body and "€\xa0-173,33" in body
    assert "Opvangdeel" in body and "Eigen bijdrage ouders voor de opvang" in body
    assert "€\xa04.593,34" in body
    assert "Opvangtarief per dag (€)" in body


def test_overview_filters_sorts_and_paginates(app, cat, signed_in):
    far = 2040  # a year of its own, whatever demo catalogue the plugins load
    with app.app_context():
        session = db.session()
        for number in range(1, 28):
            session.add(StandardTrajectory(
                region_id=cat.region_id, year=far, segment_key="jeugd.S4" if number < 27 else "jeugd.S3",
                care_form_id=cat.care_form.id if number < 27 else cat.care_form_s3.id,
                code=f"T-P{number:02}", name=f"Pagineertraject {number:02}", expertise="MBO",
                intensity=D(number), intensity_period="month", duration_months=number, tariff_id=cat.tariff.id,
                extra=None if number < 27 else {"opvang_days_per_week": "1", "opvang_day_rate": "10",
                                                "parental_contribution_per_day": "0"}))
        session.commit()
    client = signed_in(AUDITOR)
    first = client.get(f"/catalogus/?jaar={far}&segment=jeugd.S4&sorteer=-doorlooptijd").get_data(as_text=True)
    assert "26 standaardtrajecten in 2040" in first and "Pagina 1 van 2" in first
    assert first.index("Pagineertraject 26") < first.index("Pagineertraject 25")
    assert "Pagineertraject 27" not in first  # jeugd.S3 is filtered out
    assert 'aria-sort="descending"' in first
    second = client.get(f"/catalogus/?jaar={far}&segment=jeugd.S4&sorteer=-doorlooptijd&pagina=2",
                        headers=HTMX).get_data(as_text=True)
    assert "<html" not in second and "Pagineertraject 01" in second and "Pagineertraject 26" not in second
    # The filter form above the table keeps the sort the table was given (htmx out-of-band swap).
    assert '<input type="hidden" id="sorteer" name="sorteer" value="-doorlooptijd" hx-swap-oob="true">' in second
    # Intensity sorts as a number on both databases (SQLite stores exact decimals as text).
    by_intensity = client.get(f"/catalogus/?jaar={far}&sorteer=intensiteit").get_data(as_text=True)
    assert by_intensity.index("Pagineertraject 02") < by_intensity.index("Pagineertraject 10")
    # 2040 prices with the open-ended 2025 version: 67,60 × 2 hours a month × 2 months
    assert "€\xa0270,40" in by_intensity
    domain = client.get(f"/catalogus/?jaar={far}&domein=participatie").get_data(as_text=True)
    assert "0 standaardtrajecten in 2040" in domain
    search = client.get(f"/catalogus/?jaar={far}&zoek=traject 27").get_data(as_text=True)
    assert "1 standaardtraject in 2040" in search and "Pagineertraject 27" in search


def test_trajectory_without_tariff_for_its_year_shows_why(app, cat, signed_in):
    with app.app_context():
        session = db.session()
        session.add(StandardTrajectory(
            region_id=cat.region_id, year=2023, segment_key="jeugd.S4", care_form_id=cat.care_form.id,
            code="T-OUD", name="Traject zonder tarief", expertise="MBO", intensity=D(1),
            intensity_period="week", duration_months=3, tariff_id=cat.tariff.id))
        session.commit()
    body = signed_in(VENLO).get("/catalogus/?jaar=2023").get_data(as_text=True)
    assert "Geen prijs: Er is geen tarief &#39;Begeleiding per uur&#39; geldig op 1 januari 2023." in body


# --- Standard trajectories: create and change ---------------------------------------------------


def test_manager_creates_a_trajectory_and_the_price_is_computed(app, cat, manager):
    response = post_form(manager, "/catalogus/trajecten/nieuw", trajectory_data(cat))
    assert response.status_code == 302, response.get_data(as_text=True)
    with app.app_context():
        created = db.session().exec(select(StandardTrajectory).where(StandardTrajectory.code == "T-NIEUW")).one()
    assert created.intensity == D("2.50") and created.segment_key == "jeugd.S4" and created.extra is None
    body = manager.get(response.headers["Location"]).get_data(as_text=True)
    assert "€\xa04.225,00" in body  # 65 × 2,5 × 26


@pytest.mark.parametrize("field, value, message", [
    ("intensity", "0", "De intensiteit moet groter zijn dan 0."),
    ("intensity", "-1,5", "De intensiteit moet groter zijn dan 0."),
    ("duration_months", "0", "De doorlooptijd moet minstens 1 maand zijn."),
    ("duration_months", "-3", "De doorlooptijd moet minstens 1 maand zijn."),
])
def test_zero_or_negative_intensity_or_duration_is_refused(app, cat, manager, field, value, message):
    before_count = count(app, StandardTrajectory)
    response = post_form(manager, "/catalogus/trajecten/nieuw", trajectory_data(cat, **{field: value}))
    assert response.status_code == 422
    body = response.get_data(as_text=True)
    assert field_error(body, field) == f"Fout: {message}"
    assert count(app, StandardTrajectory) == before_count

    # The same on a change: the stored trajectory keeps its values and nothing is audited.
    path = f"/catalogus/trajecten/{cat.trajectory.id}/bewerken"
    response = post_form(manager, path, trajectory_data(cat, code=cat.trajectory.code, **{field: value}))
    assert response.status_code == 422
    assert field_error(response.get_data(as_text=True), field) == f"Fout: {message}"
    kept = stored(app, StandardTrajectory, cat.trajectory.id)
    assert (kept.intensity, kept.duration_months) == (D("2.00"), 6)
    assert audit_events(app, "catalogue.trajectory_changed") == []


def test_tariff_missing_for_the_year_is_refused_on_the_tariff_field(app, cat, manager):
    response = post_form(manager, "/catalogus/trajecten/nieuw",
                         trajectory_data(cat, tariff_id=str(cat.contact_tariff.id)))
    assert response.status_code == 422
    assert field_error(response.get_data(as_text=True), "tariff_id") == (
        "Fout: Er is geen tarief 'Behandelcontact' geldig op 1 januari 2024. "
        "Voeg eerst een tariefversie voor 2024 toe.").replace("'", "&#39;")
    assert count(app, StandardTrajectory, StandardTrajectory.code == "T-NIEUW") == 0
    # 2025 has a version: the same trajectory is accepted there.
    response = post_form(manager, "/catalogus/trajecten/nieuw",
                         trajectory_data(cat, year="2025", tariff_id=str(cat.contact_tariff.id)))
    assert response.status_code == 302


def test_every_refused_field_gets_its_own_message(cat, manager):
    response = post_form(manager, "/catalogus/trajecten/nieuw", trajectory_data(
        cat, intensity="0", duration_months="0", code=cat.trajectory.code))
    body = response.get_data(as_text=True)
    assert response.status_code == 422
    assert "De intensiteit moet groter zijn dan 0." in field_error(body, "intensity")
    assert "De doorlooptijd moet minstens 1 maand zijn." in field_error(body, "duration_months")
    assert "Er is al een standaardtraject met code T-S4-6" in field_error(body, "code")


def test_empty_and_malformed_input_is_refused_in_dutch(app, cat, manager):
    response = post_form(manager, "/catalogus/trajecten/nieuw", trajectory_data(
        cat, intensity="twee", duration_months="", care_form_id=""))
    body = response.get_data(as_text=True)
    assert response.status_code == 422
    assert "Vul een bedrag of getal in" in field_error(body, "intensity")
    assert "Dit veld is verplicht." in field_error(body, "duration_months")
    assert "Kies een zorgvorm." in field_error(body, "care_form_id")
    assert count(app, StandardTrajectory, StandardTrajectory.code == "T-NIEUW") == 0


def test_jeugd_s3_plugin_fields_are_shown_validated_and_stored(app, cat, manager):
    fields = manager.get(f"/catalogus/trajecten/segmentvelden?care_form_id={cat.care_form_s3.id}",
                         headers=HTMX).get_data(as_text=True)
    for label in ("Opvangdagen per week", "Opvangtarief per dag (€)", "Eigen bijdrage ouders per dag (€)"):
        assert label in fields
    assert 'name="extra_opvang_days_per_week"' in fields
    assert "extra_" not in manager.get(
        f"/catalogus/trajecten/segmentvelden?care_form_id={cat.care_form.id}").get_data(as_text=True)

    s3 = dict(care_form_id=str(cat.care_form_s3.id), code="T-S3-NIEUW", intensity="3", duration_months="4")
    missing = post_form(manager, "/catalogus/trajecten/nieuw", trajectory_data(cat, **s3))
    assert missing.status_code == 422
    assert field_error(missing.get_data(as_text=True), "extra_opvang_days_per_week") == \
        "Fout: Opvangdagen per week: dit veld is verplicht."

    too_high = post_form(manager, "/catalogus/trajecten/nieuw", trajectory_data(
        cat, **s3, extra_opvang_days_per_week="6", extra_opvang_day_rate="40",
        extra_parental_contribution_per_day="5"))
    assert too_high.status_code == 422
    assert field_error(too_high.get_data(as_text=True), "extra_opvang_days_per_week") == \
        "Fout: Opvangdagen per week: hoogstens 5."

    contribution = post_form(manager, "/catalogus/trajecten/nieuw", trajectory_data(
        cat, **s3, extra_opvang_days_per_week="2", extra_opvang_day_rate="40",
        extra_parental_contribution_per_day="45"))
    assert contribution.status_code == 422
    assert "De eigen bijdrage per dag mag niet hoger zijn dan het opvangtarief per dag." in field_error(
        contribution.get_data(as_text=True), "extra_parental_contribution_per_day")
    assert count(app, StandardTrajectory, StandardTrajectory.code == "T-S3-NIEUW") == 0

    saved = post_form(manager, "/catalogus/trajecten/nieuw", trajectory_data(
        cat, **s3, extra_opvang_days_per_week="2,5", extra_opvang_day_rate="40,00",
        extra_parental_contribution_per_day="5"))
    assert saved.status_code == 302
    with app.app_context():
        created = db.session().exec(select(StandardTrajectory).where(StandardTrajectory.code == "T-S3-NIEUW")).one()
    assert created.segment_key == "jeugd.S3"
    assert created.extra == {"opvang_days_per_week": "2.5", "opvang_day_rate": "40.00",
                             "parental_contribution_per_day": "5"}
    body = manager.get(saved.headers["Location"]).get_data(as_text=True)
    assert "Opvangdeel" in body and "€\xa01.733,33" in body  # 40 × 2,5 × 17⅓
    # The edit screen shows the stored plugin values again.
    edit = manager.get(f"/catalogus/trajecten/{created.id}/bewerken").get_data(as_text=True)
    assert re.search(r'name="extra_opvang_days_per_week" type="text" value="2,50?"', edit)


def test_a_trajectory_keeps_its_segment(cat, manager):
    response = post_form(manager, f"/catalogus/trajecten/{cat.trajectory.id}/bewerken", trajectory_data(
        cat, code=cat.trajectory.code, care_form_id=str(cat.care_form_s3.id),
        extra_opvang_days_per_week="1", extra_opvang_day_rate="10", extra_parental_contribution_per_day="1"))
    assert response.status_code == 422
    assert "hetzelfde segment" in field_error(response.get_data(as_text=True), "care_form_id")


def test_change_is_audited_with_before_and_after(app, cat, manager):
    response = post_form(manager, f"/catalogus/trajecten/{cat.trajectory.id}/bewerken",
                         trajectory_data(cat, code=cat.trajectory.code, name="Ambulant, acht maanden",
                                         duration_months="8"))
    assert response.status_code == 302
    [event] = audit_events(app, "catalogue.trajectory_changed")
    assert event.actor_email == MANAGER and event.region_id == cat.region_id
    assert event.object_type == "standard_trajectory" and event.object_id == str(cat.trajectory.id)
    before, after = event.details["before"], event.details["after"]
    assert (before["duration_months"], after["duration_months"]) == (6, 8)
    assert (before["intensity"], after["intensity"]) == ("2.00", "2.50")
    assert before["name"] == "Ambulante begeleiding zes maanden" and after["name"] == "Ambulant, acht maanden"
    assert set(event.details["changed"]) == {"duration_months", "intensity", "name"}
    assert event.details["price"] == "5633.33"  # 65 × 2,5 × 8 × 52/12 = 5633.333…
    assert event.at is not None


# --- Live price preview ------------------------------------------------------------------------


def test_preview_shows_price_lines_without_saving(app, cat, manager):
    token = csrf_token(manager, "/catalogus/trajecten/nieuw")
    before = count(app, StandardTrajectory)
    events = count(app, AuditEvent)
    response = manager.post("/catalogus/trajecten/prijs", headers=HTMX,
                            data={"csrf_token": token, **trajectory_data(cat, intensity="3")})
    body = response.get_data(as_text=True)
    assert response.status_code == 200
    assert "<html" not in body and "Basisprijs: 3 uren per week × 6 maanden × 65 per uur" in body
    assert "€\xa05.070,00" in body  # 65 × 3 × 26
    assert count(app, StandardTrajectory) == before and count(app, AuditEvent) == events

    refused = manager.post("/catalogus/trajecten/prijs", headers=HTMX,
                           data={"csrf_token": token, **trajectory_data(cat, duration_months="0")})
    assert refused.status_code == 422
    assert "Doorlooptijd in maanden: De doorlooptijd moet minstens 1 maand zijn." in refused.get_data(as_text=True)

    s3 = manager.post("/catalogus/trajecten/prijs", headers=HTMX, data={"csrf_token": token, **trajectory_data(
        cat, care_form_id=str(cat.care_form_s3.id), intensity="3", duration_months="4",
        extra_opvang_days_per_week="2", extra_opvang_day_rate="40", extra_parental_contribution_per_day="5")})
    assert s3.status_code == 200
    s3_body = s3.get_data(as_text=True)
    assert "Opvangdeel" in s3_body and "€\xa04.593,34" in s3_body

    # Without JavaScript the "Prijs berekenen" button gets the whole form page with the price.
    whole = manager.post("/catalogus/trajecten/prijs", data={"csrf_token": token, **trajectory_data(cat)})
    whole_body = whole.get_data(as_text=True)
    assert whole.status_code == 200 and "<html" in whole_body and "€\xa04.225,00" in whole_body
    assert 'value="T-NIEUW"' in whole_body
    assert count(app, StandardTrajectory) == before


def test_preview_of_an_existing_trajectory_does_not_clash_with_its_own_code(cat, manager):
    path = f"/catalogus/trajecten/{cat.trajectory.id}/prijs"
    token = csrf_token(manager, f"/catalogus/trajecten/{cat.trajectory.id}/bewerken")
    response = manager.post(path, headers=HTMX, data={"csrf_token": token, **trajectory_data(
        cat, code=cat.trajectory.code)})
    assert response.status_code == 200 and "€\xa04.225,00" in response.get_data(as_text=True)


def test_form_page_wires_up_the_live_preview(cat, manager):
    body = manager.get(f"/catalogus/trajecten/{cat.trajectory.id}/bewerken").get_data(as_text=True)
    assert f'hx-post="/catalogus/trajecten/{cat.trajectory.id}/prijs"' in body
    assert 'hx-target="#prijsvoorbeeld"' in body and 'id="prijsvoorbeeld"' in body
    assert 'hx-get="/catalogus/trajecten/segmentvelden"' in body


# --- Inline editing ----------------------------------------------------------------------------


def test_inline_edit_of_intensity_and_duration(app, cat, manager):
    row_path = f"/catalogus/trajecten/{cat.trajectory.id}/rij/wijzigen"
    form_row = manager.get(row_path, headers=HTMX).get_data(as_text=True)
    assert form_row.lstrip().startswith("<tr") and f'name="traject{cat.trajectory.id}-intensity"' in form_row
    token = re.search(r'name="traject\d+-csrf_token"[^>]*value="([^"]+)"', form_row).group(1)
    prefix = f"traject{cat.trajectory.id}-"

    refused = manager.post(row_path, headers=HTMX, data={
        prefix + "csrf_token": token, prefix + "intensity": "2", prefix + "duration_months": "0"})
    assert refused.status_code == 422
    body = refused.get_data(as_text=True)
    assert body.lstrip().startswith("<tr") and "De doorlooptijd moet minstens 1 maand zijn." in body
    assert stored(app, StandardTrajectory, cat.trajectory.id).duration_months == 6

    saved = manager.post(row_path, headers=HTMX, data={
        prefix + "csrf_token": token, prefix + "intensity": "1,5", prefix + "duration_months": "12"})
    assert saved.status_code == 200
    row = saved.get_data(as_text=True)
    assert row.lstrip().startswith("<tr") and "€\xa05.070,00" in row  # 65 × 1,5 × 52
    kept = stored(app, StandardTrajectory, cat.trajectory.id)
    assert (kept.intensity, kept.duration_months, kept.name) == (D("1.50"), 12, "Ambulante begeleiding zes maanden")
    [event] = audit_events(app, "catalogue.trajectory_changed")
    assert event.details["before"]["intensity"] == "2.00" and event.details["after"]["intensity"] == "1.50"

    cancel = manager.get(f"/catalogus/trajecten/{cat.trajectory.id}/rij", headers=HTMX).get_data(as_text=True)
    assert cancel.lstrip().startswith("<tr") and "Wijzigen" in cancel


def test_inline_edit_of_a_tariff_versions_unit_rate(app, cat, manager):
    path = f"/catalogus/tariefversies/{cat.version_2024.id}/rij/wijzigen"
    form_row = manager.get(path, headers=HTMX).get_data(as_text=True)
    token = re.search(r'name="versie\d+-csrf_token"[^>]*value="([^"]+)"', form_row).group(1)
    name = f"versie{cat.version_2024.id}-"
    refused = manager.post(path, headers=HTMX, data={name + "csrf_token": token, name + "unit_rate": "-1"})
    assert refused.status_code == 422 and "Het tarief mag niet negatief zijn." in refused.get_data(as_text=True)
    saved = manager.post(path, headers=HTMX, data={name + "csrf_token": token, name + "unit_rate": "1.070,50"})
    assert saved.status_code == 200 and "€\xa01.070,50" in saved.get_data(as_text=True)
    assert stored(app, TariffVersion, cat.version_2024.id).unit_rate == D("1070.50")
    [event] = audit_events(app, "catalogue.tariff_version_changed")
    assert event.details["before"]["unit_rate"] == "65.00" and event.details["after"]["unit_rate"] == "1070.50"


def test_the_inline_edit_is_for_contract_managers_only(cat, signed_in):
    for email in (MAASLAND, AUDITOR, VENLO):
        client = signed_in(email)
        assert client.get(f"/catalogus/trajecten/{cat.trajectory.id}/rij/wijzigen", headers=HTMX).status_code == 403
        assert "rij/wijzigen" not in client.get(f"/catalogus/?jaar={YEAR}").get_data(as_text=True)


# --- Tariffs and versions ----------------------------------------------------------------------


def test_overlapping_tariff_versions_are_refused(app, cat, manager):
    path = f"/catalogus/tarieven/{cat.tariff.id}/versies/nieuw"
    versions = count(app, TariffVersion, TariffVersion.tariff_id == cat.tariff.id)
    inside = post_form(manager, path, {"valid_from": "2024-07-01", "valid_until": "2024-12-31", "unit_rate": "66,00"})
    assert inside.status_code == 422
    assert field_error(inside.get_data(as_text=True), "valid_from") == (
        "Fout: Deze periode overlapt met de tariefversie die geldt 1 januari 2024 tot en met 31 december 2024. "
        "Versies van één tarief mogen elkaar niet overlappen.")
    reaching = post_form(manager, path, {"valid_from": "2023-01-01", "valid_until": "2024-01-01", "unit_rate": "60"})
    assert reaching.status_code == 422
    assert "overlapt" in field_error(reaching.get_data(as_text=True), "valid_until")
    open_ended = post_form(manager, path, {"valid_from": "2030-01-01", "valid_until": "", "unit_rate": "70"})
    assert open_ended.status_code == 422  # the 2025 version is open-ended
    assert count(app, TariffVersion, TariffVersion.tariff_id == cat.tariff.id) == versions

    ok = post_form(manager, path, {"valid_from": "2023-01-01", "valid_until": "2023-12-31", "unit_rate": "63,10"})
    assert ok.status_code == 302
    [event] = audit_events(app, "catalogue.tariff_version_added")
    assert event.details == {"before": None, "after": {"tariff_id": cat.tariff.id, "valid_from": "2023-01-01",
                                                       "valid_until": "2023-12-31", "unit_rate": "63.10"}}


def test_changing_a_version_may_not_overlap_or_leave_a_year_without_tariff(app, cat, manager):
    path = f"/catalogus/tariefversies/{cat.version_2024.id}/bewerken"
    overlap = post_form(manager, path, {"valid_from": "2024-01-01", "valid_until": "2025-06-30", "unit_rate": "65"})
    assert overlap.status_code == 422 and "overlapt" in field_error(overlap.get_data(as_text=True), "valid_until")
    gap = post_form(manager, path, {"valid_from": "2024-02-01", "valid_until": "2024-12-31", "unit_rate": "65"})
    assert gap.status_code == 422
    assert field_error(gap.get_data(as_text=True), "valid_from") == (
        "Fout: Standaardtrajecten van 2024 rekenen met dit tarief; na deze wijziging is er geen tarief "
        "geldig op 1 januari 2024.")
    backwards = post_form(manager, path, {"valid_from": "2024-01-01", "valid_until": "2023-12-31", "unit_rate": "65"})
    assert "De einddatum ligt vóór de begindatum." in field_error(backwards.get_data(as_text=True), "valid_until")
    kept = stored(app, TariffVersion, cat.version_2024.id)
    assert (kept.valid_from, kept.valid_until) == (date(2024, 1, 1), date(2024, 12, 31))
    assert audit_events(app, "catalogue.tariff_version_changed") == []


def test_tariff_screens(app, cat, manager, signed_in):
    created = post_form(manager, "/catalogus/tarieven/nieuw", {"code": "T-DAG", "name": "Verblijf per dag", "unit": "day"})
    assert created.status_code == 302
    duplicate = post_form(manager, "/catalogus/tarieven/nieuw", {"code": "T-DAG", "name": "Nog een", "unit": "day"})
    assert duplicate.status_code == 422
    assert "Er is al een tarief met code T-DAG." in field_error(duplicate.get_data(as_text=True), "code")
    unit_change = post_form(manager, f"/catalogus/tarieven/{cat.tariff.id}/bewerken",
                            {"code": cat.tariff.code, "name": cat.tariff.name, "unit": "day"})
    assert unit_change.status_code == 422
    assert "de eenheid kan daarom niet meer veranderen" in field_error(unit_change.get_data(as_text=True), "unit")
    detail = signed_in(VENRAY).get(f"/catalogus/tarieven/{cat.tariff.id}").get_data(as_text=True)
    assert "1 januari 2024 t/m 31 december 2024" in detail and "€\xa065,00" in detail
    assert "vanaf 1 januari 2025" in detail and "wijzigen" not in detail.lower().split("<main")[1]
    listing = signed_in(VENRAY).get("/catalogus/tarieven/?eenheid=contact").get_data(as_text=True)
    assert "Behandelcontact" in listing and "Begeleiding per uur" not in listing
    [event] = audit_events(app, "catalogue.tariff_created")
    assert event.details["after"] == {"code": "T-DAG", "name": "Verblijf per dag", "unit": "day"}


# --- Care forms --------------------------------------------------------------------------------


def test_care_form_screens(app, cat, manager):
    created = post_form(manager, "/catalogus/zorgvormen/nieuw",
                        {"segment_key": "participatie.S2", "code": "T-IB", "name": "Individuele begeleiding"})
    assert created.status_code == 302
    duplicate = post_form(manager, "/catalogus/zorgvormen/nieuw",
                          {"segment_key": "participatie.S2", "code": "T-IB", "name": "Dubbel"})
    assert duplicate.status_code == 422
    assert "Er is al een zorgvorm met code T-IB in dit segment." in field_error(duplicate.get_data(as_text=True), "code")
    unknown = post_form(manager, "/catalogus/zorgvormen/nieuw", {"segment_key": "nergens.S9", "code": "X", "name": "X"})
    assert unknown.status_code == 422 and "Kies een segment." in field_error(unknown.get_data(as_text=True), "segment_key")
    moved = post_form(manager, f"/catalogus/zorgvormen/{cat.care_form.id}/bewerken",
                      {"segment_key": "jeugd.S3", "code": cat.care_form.code, "name": cat.care_form.name})
    assert moved.status_code == 422
    assert "het segment kan daarom niet meer veranderen" in field_error(moved.get_data(as_text=True), "segment_key")
    renamed = post_form(manager, f"/catalogus/zorgvormen/{cat.care_form.id}/bewerken",
                        {"segment_key": "jeugd.S4", "code": cat.care_form.code, "name": "Ambulante hulp"})
    assert renamed.status_code == 302
    [event] = audit_events(app, "catalogue.care_form_changed")
    assert event.details["before"]["name"] == "Ambulante begeleiding" and event.details["after"]["name"] == "Ambulante hulp"
    listing = manager.get("/catalogus/zorgvormen/?segment=participatie.S2", headers=HTMX).get_data(as_text=True)
    assert "Individuele begeleiding" in listing and "Ambulante hulp" not in listing
    assert "Participatie S2" in listing


# --- Surcharges and who qualifies --------------------------------------------------------------


def test_surcharge_screens_and_qualifications(app, cat, manager, signed_in):
    bad = post_form(manager, "/catalogus/opslagen/nieuw", {
        "code": "T-KLEIN", "name": "Kleinschalig", "percentage": "0", "segment_key": "",
        "valid_from": "2024-01-01", "valid_until": "2023-01-01"})
    assert bad.status_code == 422
    body = bad.get_data(as_text=True)
    assert "Het percentage moet groter zijn dan 0." in field_error(body, "percentage")
    assert "De einddatum ligt vóór de begindatum." in field_error(body, "valid_until")
    assert count(app, Surcharge, Surcharge.code == "T-KLEIN") == 0

    created = post_form(manager, "/catalogus/opslagen/nieuw", {
        "code": "T-KLEIN", "name": "Kleinschalig", "percentage": "2,25", "segment_key": "",
        "valid_from": "2024-01-01", "valid_until": ""})
    assert created.status_code == 302
    with app.app_context():
        surcharge = db.session().exec(select(Surcharge).where(Surcharge.code == "T-KLEIN")).one()
        maasland = db.session().exec(select(Organisation).where(Organisation.name == "Zorggroep Maasland")).one()
        venlo = db.session().exec(select(Organisation).where(Organisation.name == "Venlo")).one()
    assert surcharge.percentage == D("2.250") and surcharge.segment_key is None

    detail = f"/catalogus/opslagen/{surcharge.id}"
    granted = post_form(manager, f"{detail}/aanbieders", {"organisation_id": str(maasland.id)}, form_path=detail)
    assert granted.status_code == 302
    again = post_form(manager, f"{detail}/aanbieders", {"organisation_id": str(maasland.id)}, form_path=detail)
    assert again.status_code == 422
    assert "komt al in aanmerking" in field_error(again.get_data(as_text=True), "organisation_id")
    municipality = post_form(manager, f"{detail}/aanbieders", {"organisation_id": str(venlo.id)}, form_path=detail)
    assert municipality.status_code == 422
    assert count(app, SurchargeQualification, SurchargeQualification.surcharge_id == surcharge.id) == 1

    # 3.380,00 + 2,25% (76,05) for every segment
    provider = signed_in(MAASLAND)
    assert "€\xa03.456,05" in provider.get(f"/catalogus/trajecten/{cat.trajectory.id}").get_data(as_text=True)
    assert "komt in aanmerking voor deze opslag" in provider.get(detail).get_data(as_text=True)
    assert "Zorggroep Maasland" in manager.get(detail).get_data(as_text=True)

    withdrawn = post_form(manager, f"{detail}/aanbieders/{maasland.id}/intrekken", {}, form_path=detail)
    assert withdrawn.status_code == 302
    assert count(app, SurchargeQualification, SurchargeQualification.surcharge_id == surcharge.id) == 0
    assert "€\xa03.380,00" in provider.get(f"/catalogus/trajecten/{cat.trajectory.id}").get_data(as_text=True)
    granted_event, = audit_events(app, "catalogue.surcharge_granted")
    withdrawn_event, = audit_events(app, "catalogue.surcharge_withdrawn")
    assert granted_event.organisation_id == maasland.id
    assert (granted_event.details["before"], granted_event.details["after"]) == ({"qualifies": False}, {"qualifies": True})
    assert (withdrawn_event.details["before"], withdrawn_event.details["after"]) == ({"qualifies": True}, {"qualifies": False})
    [created_event] = audit_events(app, "catalogue.surcharge_created")
    assert created_event.details["after"]["percentage"] == "2.250"


# --- Scoping -----------------------------------------------------------------------------------


def test_providers_and_others_cannot_open_the_edit_screens(cat, signed_in):
    screens = [
        "/catalogus/trajecten/nieuw", f"/catalogus/trajecten/{cat.trajectory.id}/bewerken",
        "/catalogus/zorgvormen/nieuw", f"/catalogus/zorgvormen/{cat.care_form.id}/bewerken",
        "/catalogus/tarieven/nieuw", f"/catalogus/tarieven/{cat.tariff.id}/bewerken",
        f"/catalogus/tarieven/{cat.tariff.id}/versies/nieuw", f"/catalogus/tariefversies/{cat.version_2024.id}/bewerken",
        "/catalogus/opslagen/nieuw", f"/catalogus/opslagen/{cat.surcharge.id}/bewerken",
    ]
    for email in (MAASLAND, "medewerker@zorggroep-maasland.example", AUDITOR, VENLO):
        client = signed_in(email)
        for screen in screens:
            assert client.get(screen).status_code == 403, (email, screen)
    provider = signed_in(MAASLAND)
    token = csrf_token(provider, "/catalogus/")
    assert provider.post(f"/catalogus/trajecten/{cat.trajectory.id}/bewerken",
                         data={"csrf_token": token, **trajectory_data(cat)}).status_code == 403
    assert provider.post("/catalogus/trajecten/prijs", data={"csrf_token": token}).status_code == 403


def test_another_regions_catalogue_is_not_found(app, cat, manager, signed_in):
    other = other_region_catalogue(app)
    for path in [
        f"/catalogus/trajecten/{other.trajectory.id}", f"/catalogus/trajecten/{other.trajectory.id}/bewerken",
        f"/catalogus/trajecten/{other.trajectory.id}/rij", f"/catalogus/zorgvormen/{other.care_form.id}/bewerken",
        f"/catalogus/tarieven/{other.tariff.id}", f"/catalogus/tariefversies/{other.version_2024.id}/bewerken",
        f"/catalogus/tariefversies/{other.version_2024.id}/rij", f"/catalogus/opslagen/{other.surcharge.id}",
    ]:
        assert manager.get(path).status_code == 404, path
    assert signed_in(VENLO).get(f"/catalogus/trajecten/{other.trajectory.id}").status_code == 404
    # Nor can its care form or tariff be used in this region's trajectory.
    response = post_form(manager, "/catalogus/trajecten/nieuw", trajectory_data(
        cat, care_form_id=str(other.care_form.id), tariff_id=str(other.tariff.id)))
    body = response.get_data(as_text=True)
    assert response.status_code == 422
    assert "Kies een zorgvorm uit de catalogus." in field_error(body, "care_form_id")
    assert "Kies een tarief uit de catalogus." in field_error(body, "tariff_id")
    listing = manager.get(f"/catalogus/?jaar={YEAR}").get_data(as_text=True)
    assert "X-S4-6" not in listing and "T-S4-6" in listing


def test_unexpected_fields_are_refused(app, cat, manager):
    response = post_form(manager, "/catalogus/trajecten/nieuw", trajectory_data(cat, region_id="999"))
    assert response.status_code == 400
    assert count(app, StandardTrajectory, StandardTrajectory.code == "T-NIEUW") == 0


def test_menu_shows_the_catalogue_to_every_role(cat, signed_in):
    for email in (MANAGER, AUDITOR, MAASLAND, VENLO):
        assert '<a href="/catalogus/"' in signed_in(email).get("/").get_data(as_text=True)
