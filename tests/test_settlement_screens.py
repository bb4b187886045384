"""The settlement screens (/afrekening) per role: the contract manager runs, publishes and makes a
year final; the auditor reads without buttons; a provider sees and answers only its own statement,
never a draft; a municipality sees only its own statement with its cost share. Form errors keep the
typed values; every step through the screens lands in the audit log.

``YEAR`` is the run's year (not over yet); the tests about making a run final follow the clock
(``date_sensitive``): a run of last year may become final, one of this year may not."""
from __future__ import annotations

import re
from decimal import Decimal

import pytest
from sqlmodel import select

from portal import db
from portal.formatting import money
from portal.models import AuditEvent, Organisation, Region, User
from portal.models.settlement import SettlementResponse, SettlementRun
from portal.settlement import runs as runs_service
from tests.conftest import csrf_token
from tests.dates import YEAR, this_year

PROVIDER = "beheer@zorggroep-maasland.example"
PROVIDER_USER = "medewerker@zorggroep-maasland.example"
MANAGER = "contractmanager@mgr-noord-limburg.example"
AUDITOR = "auditor@accountant-noord-limburg.example"
MUNICIPALITY = "medewerker@venlo.example"
REASON = "De realisatie van Venlo mist de maand december nog."
LAST_YEAR = YEAR - 1


def org(name: str) -> Organisation:
    return db.session().exec(select(Organisation).where(Organisation.name == name)).one()


def user(email: str) -> User:
    return db.session().exec(select(User).where(User.email == email)).one()


def make_run(app, year: int = YEAR, publish: bool = False, **costs) -> int:
    """A run made through the service (the screens are tested separately)."""
    with app.test_request_context():
        manager = user(MANAGER)
        region = db.session().get(Region, manager_region_id())
        run = runs_service.run_settlement(region, year, manager, **costs)
        if publish:
            runs_service.publish(run, manager, run.lock_version)
        db.session().commit()
        return run.id


def manager_region_id() -> int:
    return org("Zorggroep Maasland").region_id


def get_run(app, run_id: int) -> SettlementRun:
    with app.app_context():
        run = db.session().get(SettlementRun, run_id)
        db.session().expunge(run)
        return run


def actions(app) -> list[str]:
    with app.app_context():
        return list(db.session().exec(select(AuditEvent.action).where(AuditEvent.action.startswith("settlement."))
                                      .order_by(AuditEvent.id)))


def text(response) -> str:
    return response.get_data(as_text=True)


def lock_of(app, run_id: int) -> str:
    return str(get_run(app, run_id).lock_version)


# --- Contract manager ------------------------------------------------------------------------------


def test_manager_runs_a_year_through_the_form_and_sees_the_run_page(app, signed_in):
    client = signed_in(MANAGER)
    page = client.get(f"/afrekening/?jaar={YEAR}")
    assert page.status_code == 200
    body = text(page)
    assert "Afrekening berekenen" in body
    assert "Gedeelde regionale kosten (verdeeld naar realisatie)" in body
    assert "Programmakosten (verdeeld naar inwonertal)" in body
    assert f'<option value="{LAST_YEAR}"' in body and f"Er is nog geen afrekening over {YEAR} berekend." in body

    token = csrf_token(client, "/afrekening/")
    response = client.post("/afrekening/berekenen", data={"csrf_token": token, "year": str(YEAR), "shared_costs": "",
                                                          "program_costs": "5.000,00", "note": "Eerste berekening"})
    assert response.status_code == 303, text(response)
    run_page = client.get(response.headers["Location"])
    body = text(run_page)
    assert run_page.status_code == 200
    assert f"Afrekening {YEAR}, versie 1" in body and "Concept" in body
    assert "Voorlopige afrekening" in body  # this year has not ended
    assert "Eerste berekening" in body
    with app.app_context():
        run = db.session().exec(select(SettlementRun)).one()
        lines = runs_service.lines_of(run)
        summed = runs_service.totals(lines)
        assert run.state == "draft" and run.program_costs == Decimal("5000.00")
        for amount in (summed.settled_value, summed.paid, summed.repayments):
            assert money(amount) in body
        venlo = org("Venlo")
        venlo_share = next(s for s in runs_service.cost_shares(run) if s.municipality_id == venlo.id)
        assert money(venlo_share.program_costs) in body
        assert "Toelichting" in body and lines[0].explanation[0].replace("\xa0", " ")[:20] in body.replace("\xa0", " ")
    assert 'name="lock_version"' in body and "Publiceren" in body
    assert "Definitief maken" not in body
    assert actions(app) == ["settlement.run"]
    overview = text(client.get(f"/afrekening/?jaar={YEAR}"))
    assert "Versie 1" in overview and "Concept" in overview


def test_form_errors_keep_the_typed_values(app, signed_in):
    client = signed_in(MANAGER)
    token = csrf_token(client, "/afrekening/")
    response = client.post("/afrekening/berekenen", data={"csrf_token": token, "year": str(YEAR),
                                                          "shared_costs": "twaalf euro", "program_costs": "100",
                                                          "note": "Mijn toelichting blijft staan"})
    assert response.status_code == 422
    body = text(response)
    assert "Controleer het formulier" in body
    assert "Vul een bedrag in euro" in body
    assert 'value="twaalf euro"' in body and 'value="100"' in body
    assert "Mijn toelichting blijft staan" in body
    assert 'aria-describedby="shared_costs-hint shared_costs-error"' in body

    # Shared costs need approved realisation to be split by (the demo here has none): the service says so.
    response = client.post("/afrekening/berekenen", data={"csrf_token": token, "year": str(LAST_YEAR),
                                                          "shared_costs": "1.000,00", "program_costs": "",
                                                          "note": ""})
    assert response.status_code == 422
    assert "geen goedgekeurde realisatie" in text(response)
    assert 'value="1.000,00"' in text(response)
    assert re.search(rf'<option selected value="{LAST_YEAR}"|<option value="{LAST_YEAR}" selected', text(response))
    with app.app_context():
        assert db.session().exec(select(SettlementRun)).all() == []
    assert actions(app) == []


@pytest.mark.date_sensitive
def test_publish_and_finalise_through_the_screens(app, signed_in):
    run_id = make_run(app, this_year() - 1)  # last year: over by the clock, so it may become final
    client = signed_in(MANAGER)
    page = text(client.get(f"/afrekening/{run_id}"))
    assert "Voorlopige afrekening" not in page  # last year is over
    token = csrf_token(client, f"/afrekening/{run_id}")

    # A stale lock version is refused with the service's message; nothing changes.
    stale = client.post(f"/afrekening/{run_id}/publiceren", data={"csrf_token": token, "lock_version": "99"})
    assert stale.status_code == 409
    assert "intussen gewijzigd" in text(stale)
    assert get_run(app, run_id).state == "draft"

    published = client.post(f"/afrekening/{run_id}/publiceren",
                            data={"csrf_token": token, "lock_version": lock_of(app, run_id)})
    assert published.status_code == 303
    page = text(client.get(f"/afrekening/{run_id}"))
    assert "Gepubliceerd" in page and "Definitief maken" in page and "Nog geen antwoord" in page
    assert get_run(app, run_id).state == "published"

    # Not every provider accepted: the reason is required (the service decides), and kept on the form.
    refused = client.post(f"/afrekening/{run_id}/definitief",
                          data={"csrf_token": token, "lock_version": lock_of(app, run_id), "reason": "kort"})
    assert refused.status_code == 422
    assert "minstens 10 tekens" in text(refused) and "kort</textarea>" in text(refused)
    final = client.post(f"/afrekening/{run_id}/definitief",
                        data={"csrf_token": token, "lock_version": lock_of(app, run_id), "reason": REASON})
    assert final.status_code == 303
    page = text(client.get(f"/afrekening/{run_id}"))
    assert "Definitief: deze afrekening staat vast" in page and REASON in page
    assert "Publiceren</button>" not in page and "Definitief maken</button>" not in page
    assert actions(app) == ["settlement.run", "settlement.publish", "settlement.finalise"]
    with app.app_context():
        event = db.session().exec(select(AuditEvent).where(AuditEvent.action == "settlement.finalise")).one()
        assert event.details["reason"] == REASON


@pytest.mark.date_sensitive
def test_a_run_of_the_current_year_cannot_be_made_final(app, signed_in):
    run_id = make_run(app, this_year(), publish=True)
    client = signed_in(MANAGER)
    assert "Voorlopige afrekening" in text(client.get(f"/afrekening/{run_id}"))  # this year is not over
    token = csrf_token(client, f"/afrekening/{run_id}")
    response = client.post(f"/afrekening/{run_id}/definitief",
                           data={"csrf_token": token, "lock_version": lock_of(app, run_id), "reason": REASON})
    assert response.status_code == 422
    assert "pas definitief worden na afloop van het jaar" in text(response)
    assert get_run(app, run_id).state == "published"


def test_a_second_version_shows_what_changed_and_supersedes_the_first(app, signed_in):
    first = make_run(app, YEAR, publish=True)
    with app.test_request_context():
        # Change one budget agreement's advances so the second version differs in one line.
        from portal.models import BudgetAgreement

        line = runs_service.lines_of(db.session().get(SettlementRun, first))[0]
        agreement = db.session().get(BudgetAgreement, line.budget_agreement_id)
        agreement.amount = agreement.amount + Decimal("1000.00")
        db.session().commit()
    second = make_run(app, YEAR)
    client = signed_in(MANAGER)
    page = text(client.get(f"/afrekening/{second}"))
    assert "Wat is er veranderd ten opzichte van versie 1" in page
    assert "Vervangen door een nieuwe versie" not in page
    old = text(client.get(f"/afrekening/{first}"))
    assert "Vervangen: er is een nieuwere versie" in old and "Definitief maken</button>" not in old
    assert get_run(app, first).state == "superseded" and get_run(app, second).state == "draft"
    # The provider still sees the superseded version it had been shown, read-only, and never the new draft.
    provider = signed_in(PROVIDER)
    assert provider.get(f"/afrekening/{second}").status_code == 404
    superseded = text(provider.get(f"/afrekening/{first}"))
    assert "vervangen door een nieuwe versie" in superseded and "Accepteren</button>" not in superseded


# --- Auditor and forbidden posts -------------------------------------------------------------------


def test_auditor_reads_everything_but_has_no_buttons(app, signed_in):
    draft = make_run(app, YEAR)
    client = signed_in(AUDITOR)
    overview = text(client.get(f"/afrekening/?jaar={YEAR}"))
    assert "Versie 1" in overview and "Afrekening berekenen" not in overview
    page = client.get(f"/afrekening/{draft}")
    assert page.status_code == 200
    body = text(page)
    assert "Antwoorden van de zorgaanbieders" in body and "Verdeling van de kosten" in body
    assert "<button" not in body.split('id="inhoud"', 1)[1]
    assert client.get(f"/afrekening/{draft}/aanbieder/{org_id('Zorggroep Maasland', app)}.pdf").status_code == 200


def org_id(name: str, app) -> int:
    with app.app_context():
        return org(name).id


@pytest.mark.parametrize("email", [AUDITOR, PROVIDER, MUNICIPALITY])
def test_manager_actions_are_forbidden_to_other_roles(app, signed_in, email):
    run_id = make_run(app, YEAR)
    client = signed_in(email)
    token = csrf_token(client, "/afrekening/")
    for path, data in ((f"/afrekening/{run_id}/publiceren", {"lock_version": "1"}),
                       (f"/afrekening/{run_id}/definitief", {"lock_version": "1", "reason": REASON}),
                       ("/afrekening/berekenen", {"year": str(YEAR)})):
        assert client.post(path, data={"csrf_token": token, **data}).status_code == 403, path
    assert get_run(app, run_id).state == "draft"
    assert actions(app) == ["settlement.run"]


def test_a_manager_cannot_answer_for_a_provider(app, signed_in):
    run_id = make_run(app, YEAR, publish=True)
    client = signed_in(MANAGER)
    token = csrf_token(client, "/afrekening/")
    response = client.post(f"/afrekening/{run_id}/antwoord", data={"csrf_token": token, "lock_version": "2",
                                                                  "decision": "accept"})
    assert response.status_code == 403


# --- Provider -----------------------------------------------------------------------------------


def test_provider_never_sees_a_draft(app, signed_in):
    run_id = make_run(app, YEAR)
    client = signed_in(PROVIDER)
    assert "Er is nog geen afrekening voor uw organisatie gepubliceerd." in text(client.get("/afrekening/"))
    assert client.get(f"/afrekening/{run_id}").status_code == 404
    maasland = org_id("Zorggroep Maasland", app)
    assert client.get(f"/afrekening/{run_id}/aanbieder/{maasland}.pdf").status_code == 404
    assert client.get(f"/afrekening/{run_id}/aanbieder/{maasland}.xlsx").status_code == 404
    municipality = signed_in(MUNICIPALITY)
    assert municipality.get(f"/afrekening/{run_id}").status_code == 404
    assert "Er is nog geen afrekening gepubliceerd." in text(municipality.get("/afrekening/"))


def test_provider_sees_only_its_own_lines_and_answers(app, signed_in):
    run_id = make_run(app, YEAR, publish=True)
    with app.app_context():
        run = db.session().get(SettlementRun, run_id)
        maasland = org("Zorggroep Maasland")
        own = runs_service.lines_of(run, organisation_id=maasland.id)
        others = [l for l in runs_service.lines_of(run) if l.organisation_id != maasland.id]
        other_names = {db.session().get(Organisation, l.organisation_id).name for l in others}
        own_totals = runs_service.totals(own)
    assert other_names, "the demo run has lines of other providers"
    client = signed_in(PROVIDER)
    overview = text(client.get("/afrekening/"))
    assert f"{YEAR}, versie 1" in overview and "Nog geen antwoord" in overview
    page = text(client.get(f"/afrekening/{run_id}"))
    assert money(own_totals.settled_value) in page and money(abs(own_totals.due)) in page
    for name in other_names:
        assert name not in page
    assert page.count("<details>") == len(own)
    assert "Accepteren</button>" in page and "Bezwaar maken</button>" in page

    # A dispute needs a reason of ten characters: the error is shown, the text kept, nothing stored.
    token = csrf_token(client, f"/afrekening/{run_id}")
    short = client.post(f"/afrekening/{run_id}/antwoord", data={
        "csrf_token": token, "lock_version": lock_of(app, run_id), "decision": "dispute", "reason": "te kort"})
    assert short.status_code == 422
    assert "minstens 10 tekens" in text(short) and "te kort</textarea>" in text(short)
    assert 'aria-describedby="reason-hint reason-error"' in text(short)
    disputed = client.post(f"/afrekening/{run_id}/antwoord", data={
        "csrf_token": token, "lock_version": lock_of(app, run_id), "decision": "dispute", "reason": REASON})
    assert disputed.status_code == 303
    page = text(client.get(f"/afrekening/{run_id}"))
    assert "Betwist" in page and REASON in page and "Accepteren</button>" in page
    manager_page = text(signed_in(MANAGER).get(f"/afrekening/{run_id}"))
    assert "Betwist" in manager_page and REASON in manager_page

    accepted = client.post(f"/afrekening/{run_id}/antwoord", data={
        "csrf_token": token, "lock_version": lock_of(app, run_id), "decision": "accept"})
    assert accepted.status_code == 303
    page = text(client.get(f"/afrekening/{run_id}"))
    assert "Geaccepteerd" in page and "Accepteren</button>" not in page
    assert "Geaccepteerd" in text(signed_in(MANAGER).get(f"/afrekening/{run_id}"))
    assert actions(app) == ["settlement.run", "settlement.publish", "settlement.dispute", "settlement.accept"]
    with app.app_context():
        answer = db.session().exec(select(SettlementResponse)).one()
        assert answer.state == "accepted" and answer.organisation_id == maasland.id


def test_a_provider_without_lines_in_the_run_gets_404(app, signed_in):
    run_id = make_run(app, YEAR, publish=True)
    with app.app_context():
        run = db.session().get(SettlementRun, run_id)
        with_lines = set(runs_service.provider_ids(run))
        maasland = org("Zorggroep Maasland")
        other = next(pid for pid in with_lines if pid != maasland.id)
    client = signed_in(PROVIDER)
    # Another provider's statement is a 404, as is an answer to a run that is not there.
    assert client.get(f"/afrekening/{run_id}/aanbieder/{other}.pdf").status_code == 404
    assert client.get(f"/afrekening/{run_id}/aanbieder/{other}.xlsx").status_code == 404
    assert client.get("/afrekening/999999").status_code == 404
    # A run without lines of this provider: remove Maasland's lines from a fresh draft before publishing.
    with app.test_request_context():
        manager = user(MANAGER)
        region = db.session().get(Region, maasland.region_id)
        run = runs_service.run_settlement(region, LAST_YEAR, manager)
        for line in runs_service.lines_of(run, organisation_id=maasland.id):
            db.session().delete(line)
        runs_service.publish(run, manager, run.lock_version)
        db.session().commit()
        empty_id = run.id
    assert client.get(f"/afrekening/{empty_id}").status_code == 404
    token = csrf_token(client, "/afrekening/")
    assert client.post(f"/afrekening/{empty_id}/antwoord", data={
        "csrf_token": token, "lock_version": "2", "decision": "accept"}).status_code == 404
    assert str(LAST_YEAR) not in text(client.get("/afrekening/")).split('id="inhoud"', 1)[1].split("<footer", 1)[0]


# --- Municipality --------------------------------------------------------------------------------


def test_municipality_sees_its_own_statement_with_its_cost_share(app, signed_in):
    run_id = make_run(app, YEAR, publish=True, program_costs="10000")
    with app.app_context():
        run = db.session().get(SettlementRun, run_id)
        venlo, beesel = org("Venlo"), org("Beesel")
        lines = runs_service.lines_of(run, municipality_id=venlo.id)
        share = next(s for s in runs_service.cost_shares(run) if s.municipality_id == venlo.id)
        due = runs_service.totals(lines).due
        beesel_id = beesel.id
    client = signed_in(MUNICIPALITY)
    overview = text(client.get("/afrekening/"))
    assert f"{YEAR}, versie 1" in overview and money(due + share.program_costs) in overview
    page = text(client.get(f"/afrekening/{run_id}"))
    assert f"Afrekening {YEAR} van Venlo" in page
    assert money(share.program_costs) in page and "Programmakosten (naar inwonertal)" in page
    assert money(abs(due + share.program_costs)) in page
    assert page.count("<details>") == len(lines)
    assert "Beesel" not in page.split('id="inhoud"', 1)[1]
    assert "<button" not in page.split('id="inhoud"', 1)[1]
    assert client.get(f"/afrekening/{run_id}/gemeente/{beesel_id}.pdf").status_code == 404
    assert client.get(f"/afrekening/{run_id}/gemeente/{beesel_id}.xlsx").status_code == 404
    assert client.get(f"/afrekening/{run_id}/aanbieder/{org_id('Zorggroep Maasland', app)}.pdf").status_code == 403


@pytest.mark.date_sensitive
def test_the_manager_starts_on_the_latest_year_that_has_ended(app, signed_in):
    """Settling happens after the year: the page opens on last year (the demo has agreements in
    it on every date), and this year stays one choice away."""
    page = text(signed_in(MANAGER).get("/afrekening/"))
    assert f"<h1>Afrekening {this_year() - 1}</h1>" in page
    assert f'<option value="{this_year()}"' in page
