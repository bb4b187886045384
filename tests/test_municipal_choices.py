"""Municipal choices per segment: versions with effective dates, one funding form per segment,
lots of the segment, the place conversion shown before confirming, scoping and the audit trail.

Uses the demo region: its Jeugd S3 catalogue holds a 4-month trajectory (S3-DAGB-4), and Venlo
buys places in Jeugd S3 from 1 January of the first demo year (2022 in a run of 2026). A new
choice takes effect on 1 January of next year (``NEXT``), priced from this year's catalogue.
"""
from __future__ import annotations

import re
from datetime import date

import pytest
from sqlalchemy import func
from sqlmodel import select

from portal import db
from portal.contracts import municipal_choices
from portal.models import AuditEvent, MunicipalChoice, Organisation
from portal.validators import RuleViolation
from tests.conftest import csrf_token, post_form
from tests.dates import FIRST_YEAR, YEAR, demo_year, this_year

VENLO_USER = "medewerker@venlo.example"
CONTRACT_MANAGER = "contractmanager@mgr-noord-limburg.example"
AUDITOR = "auditor@accountant-noord-limburg.example"
PROVIDER = "beheer@zorggroep-maasland.example"
SEGMENT = "jeugd.S3"
HTMX = {"HX-Request": "true"}
NEXT = YEAR + 1  # the year a new choice takes effect


def _id(app, name):
    with app.app_context():
        return db.session().exec(select(Organisation.id).where(Organisation.name == name)).one()


def _versions(app, municipality_id, segment_key=SEGMENT):
    with app.app_context():
        return db.session().exec(select(func.count()).select_from(MunicipalChoice).where(
            MunicipalChoice.municipality_id == municipality_id, MunicipalChoice.segment_key == segment_key)).one()


def _audit_count(app, action="municipal_choice.recorded"):
    with app.app_context():
        return db.session().exec(select(func.count()).select_from(AuditEvent).where(AuditEvent.action == action)).one()


def _choice(**changes):
    data = {"effective_from": f"{NEXT}-01-01", "lots": ["regional", "local"], "volume_basis": "places",
            "funding_forms": ["budget_agreement"], "volume": "2", "note": f"Besluit college 12 november {YEAR}"}
    data.update(changes)
    return data


def _cell_after(body: str, code: str) -> list[str]:
    """The cells of the conversion row of the trajectory with this code."""
    row = re.search(r"<tr>\s*<th scope=\"row\">[^<]*<span class=\"hint\">" + re.escape(code) + r"</span>.*?</tr>",
                    body, re.S)
    assert row, f"no conversion row for {code}"
    return [re.sub(r"\s+", " ", cell).strip() for cell in re.findall(r"<td[^>]*>(.*?)</td>", row.group(0), re.S)]


@pytest.fixture
def venlo(app, signed_in):
    client = signed_in(VENLO_USER)
    municipality_id = _id(app, "Venlo")
    return client, municipality_id, f"/keuzes/gemeente/{municipality_id}/{SEGMENT}"


@pytest.mark.date_sensitive
def test_municipality_sees_its_choices_per_domain_with_the_date_they_changed(venlo):
    """The choices in force today, with the date they took effect (the demo's first year)."""
    client, _venlo_id, _path = venlo
    body = client.get("/keuzes/").get_data(as_text=True)
    assert "Keuzes per segment" in body
    for domain in ("Wmo", "Jeugd", "Participatie"):
        assert f">{domain} <span class=\"domain-law\">" in body
    s3_row = re.search(r">S3<span class=\"visually-hidden\"> van Jeugd</span></a>\s*"
                       r"<span class=\"hint\">Dagactiviteiten.*?</tr>", body, re.S).group(0)
    assert "Plekken" in s3_row and f"1 januari {this_year() - 4}" in s3_row and "Keuze wijzigen" in s3_row
    assert 'aria-current="page"' in body and "Keuzes per segment</a>" in body


def test_conversion_is_shown_before_confirming_and_nothing_is_saved_until_then(app, venlo):
    client, venlo_id, path = venlo
    form = client.get(f"{path}/nieuw").get_data(as_text=True)
    # A 4-month trajectory: 12 / 4 = 3 trajectories in one place-year, already on the form.
    cells = _cell_after(form, "S3-DAGB-4")
    assert cells[0] == "4 maanden" and cells[2] == "3"
    assert 'hx-get="' + f"{path}/omrekening" in form

    before = _versions(app, venlo_id)
    review = post_form(client, f"{path}/nieuw", _choice(review="Bekijk de gevolgen"))
    body = review.get_data(as_text=True)
    assert review.status_code == 200
    assert "Bevestig keuze" in body and "Er is nog niets vastgelegd" in body
    cells = _cell_after(body, "S3-DAGB-4")
    # Catalogue year of this year (the demo's fifth: tariffs indexed four times): the trajectory costs € 10.743,20, so a place-year € 32.229,60;
    # 2 places hold 6 trajectories of 4 months and cost € 64.459,20 a year.
    assert cells[1] == "€ 10.743,20" and cells[2] == "3" and cells[3] == "€ 32.229,60"
    assert cells[4] == "6" and cells[5] == "€ 64.459,20"
    assert _versions(app, venlo_id) == before  # reviewing saves nothing

    confirmed = post_form(client, f"{path}/nieuw", _choice(confirm="Bevestig keuze"))
    assert confirmed.status_code == 302
    assert confirmed.headers["Location"].endswith(path)
    assert _versions(app, venlo_id) == before + 1
    with app.app_context():
        new = municipal_choices.current_choice(venlo_id, SEGMENT, date(NEXT, 1, 1))
        assert new.effective_from == date(NEXT, 1, 1) and new.volume_basis == "places"
        assert new.funding_form == "budget_agreement" and new.lots == ["regional", "local"]
        assert new.details["volume"] == "2" and new.details["catalogue_year"] == YEAR
        dagb4 = next(row for row in new.details["conversion"] if row["code"] == "S3-DAGB-4")
        assert dagb4 == {"code": "S3-DAGB-4", "duration_months": 4, "price": "10743.20",
                         "trajectories_per_place_year": "3.0000", "price_per_place_year": "32229.60"}
        # Until next year the old version stays in force.
        assert municipal_choices.current_choice(venlo_id, SEGMENT, date(YEAR, 12, 31)).effective_from == \
            date(FIRST_YEAR, 1, 1)
        event = db.session().exec(select(AuditEvent).where(AuditEvent.action == "municipal_choice.recorded")).one()
        assert event.actor_email == VENLO_USER and event.organisation_id == venlo_id
        assert event.object_id == str(new.id)
        assert event.details["before"]["effective_from"] == f"{FIRST_YEAR}-01-01"
        assert event.details["after"] == {"segment_key": SEGMENT, "effective_from": f"{NEXT}-01-01",
                                          "lots": ["regional", "local"], "volume_basis": "places",
                                          "funding_form": "budget_agreement", "volume": "2"}

    history = client.get(path).get_data(as_text=True)
    assert f"1 januari {NEXT}" in history and "toekomstig" in history and "geldt nu" in history
    assert f"Besluit college 12 november {YEAR}" in history and "Medewerker Venlo" in history


def test_second_funding_form_is_refused_on_its_field_and_nothing_is_saved(app, venlo):
    client, venlo_id, path = venlo
    before, audits = _versions(app, venlo_id), _audit_count(app)
    for button in ({"review": "Bekijk de gevolgen"}, {"confirm": "Bevestig keuze"}):
        response = post_form(client, f"{path}/nieuw",
                             _choice(funding_forms=["trajectory", "budget_agreement"], **button))
        body = response.get_data(as_text=True)
        assert response.status_code == 422
        error = re.search(r'id="funding_forms-error">(.*?)</p>', body, re.S).group(1)
        assert "één bekostigingssystematiek" in error
        assert 'href="#funding_forms"' in body  # the summary links to the field
    assert _versions(app, venlo_id) == before
    assert _audit_count(app) == audits


def test_lots_must_be_of_the_segment_and_at_least_one(app, venlo):
    client, venlo_id, path = venlo
    before = _versions(app, venlo_id)
    none = post_form(client, f"{path}/nieuw", _choice(lots=[], confirm="Bevestig keuze"))
    assert none.status_code == 422
    assert "Kies minstens één perceel" in re.search(r'id="lots-error">(.*?)</p>', none.get_data(as_text=True),
                                                    re.S).group(1)
    foreign = post_form(client, f"{path}/nieuw", _choice(lots=["regional", "open_house"], confirm="Bevestig keuze"))
    assert foreign.status_code == 422
    assert "Dit segment kent alleen" in foreign.get_data(as_text=True)
    assert _versions(app, venlo_id) == before


@pytest.mark.parametrize("effective_from, message", [
    (f"{FIRST_YEAR}-01-01", f"Er is al een keuze die ingaat op 1 januari {FIRST_YEAR}"),
    (f"{FIRST_YEAR - 1}-06-01", "De ingangsdatum ligt vóór de laatste keuze"),
    ("", "Vul de ingangsdatum in"),
])
def test_effective_date_comes_after_the_latest_version(app, venlo, effective_from, message):
    client, venlo_id, path = venlo
    before = _versions(app, venlo_id)
    response = post_form(client, f"{path}/nieuw", _choice(effective_from=effective_from, review="Bekijk de gevolgen"))
    assert response.status_code == 422
    assert message in re.search(r'id="effective_from-error">(.*?)</p>', response.get_data(as_text=True),
                                re.S).group(1)
    assert _versions(app, venlo_id) == before


def test_live_conversion_partial_follows_basis_and_volume(venlo):
    client, _venlo_id, path = venlo
    partial = client.get(f"{path}/omrekening?volume_basis=trajectories&volume=9&effective_from={YEAR}-03-01",
                         headers=HTMX)
    body = partial.get_data(as_text=True)
    assert partial.status_code == 200 and "<html" not in body
    assert "9 trajecten = plekken" in body
    cells = _cell_after(body, "S3-DAGB-4")
    assert cells[4] == "3"  # 9 trajectories of 4 months fill 3 places
    assert cells[5] == "€ 96.688,80"  # 9 × € 10.743,20
    places = client.get(f"{path}/omrekening?volume_basis=places&volume=1,5", headers=HTMX).get_data(as_text=True)
    assert "1,5 plekken = trajecten per jaar" in places
    assert _cell_after(places, "S3-DAGB-4")[4] == "4,5"
    wrong = client.get(f"{path}/omrekening?volume=veel", headers=HTMX).get_data(as_text=True)
    assert "Vul bij het volume een aantal" in wrong
    assert "<html" in client.get(f"{path}/omrekening").get_data(as_text=True)


def test_another_municipality_is_not_found_and_providers_are_forbidden(app, venlo, signed_in):
    client, _venlo_id, _path = venlo
    beesel = _id(app, "Beesel")
    for url in (f"/keuzes/gemeente/{beesel}", f"/keuzes/gemeente/{beesel}/{SEGMENT}",
                f"/keuzes/gemeente/{beesel}/{SEGMENT}/nieuw", f"/keuzes/gemeente/{beesel}/{SEGMENT}/omrekening"):
        assert client.get(url).status_code == 404, url
    token = csrf_token(client, "/keuzes/")
    refused = client.post(f"/keuzes/gemeente/{beesel}/{SEGMENT}/nieuw",
                          data={"csrf_token": token, **_choice(confirm="Bevestig keuze")})
    assert refused.status_code == 404
    assert _versions(app, beesel) == 1
    zorggroep = _id(app, "Zorggroep Maasland")
    assert client.get(f"/keuzes/gemeente/{zorggroep}").status_code == 404  # not a municipality
    assert client.get(f"/keuzes/gemeente/{_id(app, 'Venlo')}/bestaat.niet").status_code == 404
    assert signed_in(PROVIDER).get("/keuzes/").status_code == 403


def test_contract_manager_and_auditor_read_every_municipality_but_change_nothing(app, signed_in):
    beesel, venlo = _id(app, "Beesel"), _id(app, "Venlo")
    for email in (CONTRACT_MANAGER, AUDITOR):
        client = signed_in(email)
        everything = client.get("/keuzes/?segment=jeugd.S3&sorteer=-gemeente").get_data(as_text=True)
        results = everything[everything.index('id="resultaten"'):]
        assert "7 keuzes gevonden" in results
        assert results.index("Venray</a>") < results.index("Beesel</a>")  # sorted descending
        assert 'aria-sort="descending"' in results
        only_beesel = client.get(f"/keuzes/?gemeente={beesel}", headers=HTMX).get_data(as_text=True)
        assert "<html" not in only_beesel and "Beesel" in only_beesel and "Venlo</a>" not in only_beesel
        places = client.get("/keuzes/?basis=places").get_data(as_text=True)
        assert "Venlo" in places and "Beesel</a>" not in places
        page = client.get(f"/keuzes/gemeente/{venlo}/{SEGMENT}").get_data(as_text=True)
        assert "Plekken" in page and "Nieuwe keuze maken" not in page
        assert client.get(f"/keuzes/gemeente/{venlo}").status_code == 200
        assert client.get(f"/keuzes/gemeente/{venlo}/{SEGMENT}/nieuw").status_code == 403


def test_service_versions_and_rules(app, demo):
    switch, later = demo_year(2), demo_year(3)  # 2024 and 2025 in a run of 2026
    with app.app_context():
        session = db.session()
        horst = session.exec(select(Organisation).where(Organisation.name == "Horst aan de Maas")).one()
        # Horst aan de Maas switched Jeugd S4 to places on 1 January of the demo's third year.
        assert municipal_choices.current_choice(horst.id, "jeugd.S4", date(switch - 1, 12, 31)).volume_basis == \
            "trajectories"
        assert municipal_choices.current_choice(horst.id, "jeugd.S4", date(switch, 1, 1)).volume_basis == "places"
        assert municipal_choices.current_choice(horst.id, "jeugd.S4", date(FIRST_YEAR - 1, 12, 31)) is None
        assert [c.effective_from for c in municipal_choices.history(horst.id, "jeugd.S4")] == [
            date(switch, 1, 1), date(FIRST_YEAR, 1, 1)]
        assert municipal_choices.choices_in_force(horst.id, date(later, 1, 1))["jeugd.S4"].volume_basis == "places"

        choice = municipal_choices.ChoiceInput("jeugd.S4", date(later, 1, 1), ("regional",), "trajectories",
                                               ("trajectory", "budget_agreement"))
        with pytest.raises(RuleViolation) as refused:
            municipal_choices.record_choice(horst, choice)
        assert refused.value.field == "funding_forms"
        with pytest.raises(RuleViolation) as wrong_form:
            municipal_choices.check_choice(horst, municipal_choices.ChoiceInput(
                "jeugd.S4", date(later, 1, 1), ("regional",), "trajectories", ("population",)))
        assert wrong_form.value.message == "Deze bekostigingssystematiek hoort niet bij dit segment."
        with pytest.raises(RuleViolation) as basis:
            municipal_choices.check_choice(horst, municipal_choices.ChoiceInput(
                "jeugd.S4", date(later, 1, 1), ("regional",), "uren", ("trajectory",)))
        assert basis.value.field == "volume_basis"
        assert len(municipal_choices.history(horst.id, "jeugd.S4")) == 2

        row = municipal_choices.record_choice(horst, municipal_choices.ChoiceInput(
            "jeugd.S4", date(later, 7, 1), ("local",), "trajectories", ("trajectory",)))
        session.commit()
        assert municipal_choices.current_choice(horst.id, "jeugd.S4", date(later, 7, 1)).id == row.id
        # Between two versions nothing may be slipped in.
        with pytest.raises(RuleViolation):
            municipal_choices.check_choice(horst, municipal_choices.ChoiceInput(
                "jeugd.S4", date(later, 3, 1), ("local",), "trajectories", ("trajectory",)))


def test_participatie_s1_takes_availability_plus_trajectory_funding_together(app, demo, signed_in):
    """000 §7.3 (PW S1): availability funding without purchase obligation plus trajectory funding.
    The segment allows that combination; another combination in S1, or two systems in a segment
    that allows none (Jeugd S4), is still refused with the one-funding-system message."""
    later = demo_year(3)
    with app.app_context():
        session = db.session()
        venray = session.exec(select(Organisation).where(Organisation.name == "Venray")).one()
        both = municipal_choices.ChoiceInput("participatie.S1", date(NEXT, 1, 1), ("regional",), "trajectories",
                                             ("trajectory", "availability"))
        row = municipal_choices.record_choice(venray, both)
        session.commit()
        assert row.funding_form == "availability"  # the segment's order, however it was ticked
        assert municipal_choices.funding_forms(row) == ["availability", "trajectory"]
        assert municipal_choices.funding_label(row) == ("Beschikbaarheidsfinanciering plus Trajectfinanciering "
                                                        "(prijs × traject)")
        event = session.exec(select(AuditEvent).where(AuditEvent.action == "municipal_choice.recorded")
                             .order_by(AuditEvent.id.desc())).first()
        assert event.details["after"]["funding_forms"] == ["availability", "trajectory"]
        assert "Beschikbaarheidsfinanciering plus Trajectfinanciering" in event.summary

        with pytest.raises(RuleViolation) as other:
            municipal_choices.check_choice(venray, municipal_choices.ChoiceInput(
                "participatie.S1", date(NEXT, 7, 1), ("regional",), "trajectories",
                ("trajectory", "budget_agreement")))
        assert other.value.field == "funding_forms"
        assert other.value.message.startswith("Binnen één segment gebruikt een gemeente één bekostigingssystematiek")
        assert "Samen gebruiken mag alleen: beschikbaarheidsfinanciering plus trajectfinanciering" in \
            other.value.message

        horst = session.exec(select(Organisation).where(Organisation.name == "Horst aan de Maas")).one()
        with pytest.raises(RuleViolation) as single:
            municipal_choices.check_choice(horst, municipal_choices.ChoiceInput(
                "jeugd.S4", date(later, 1, 1), ("regional",), "trajectories", ("trajectory", "budget_agreement")))
        assert single.value.message == ("Binnen één segment gebruikt een gemeente één bekostigingssystematiek; "
                                        "kies er één (administratieve lastendruk voor aanbieders).")

    page = signed_in(CONTRACT_MANAGER).get(f"/keuzes/gemeente/{_id(app, 'Venray')}/participatie.S1")
    assert "Beschikbaarheidsfinanciering plus Trajectfinanciering" in page.get_data(as_text=True)
