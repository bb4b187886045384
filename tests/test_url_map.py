"""Walks the whole URL map for an anonymous visitor and every role, and checks each answer.

Every route must appear in EXPECTED: a new route fails this test until someone decides who may
see it.
"""
from __future__ import annotations

import pytest
from sqlmodel import select

from portal.models import AuditEvent, Membership, Organisation, User
from tests.conftest import sign_in
from tests.dates import month, this_year, today

ROLES = ("anonymous", "provider_admin", "provider_user", "contract_manager", "municipality_user", "auditor")
ACCOUNTS = {
    "provider_admin": "beheer@zorggroep-maasland.example",
    "provider_user": "medewerker@zorggroep-maasland.example",
    "contract_manager": "contractmanager@mgr-noord-limburg.example",
    "municipality_user": "medewerker@venlo.example",
    "auditor": "auditor@accountant-noord-limburg.example",
}


def expect(*statuses):
    assert len(statuses) == len(ROLES)
    return dict(zip(ROLES, statuses))


EVERYONE = expect(200, 200, 200, 200, 200, 200)
SIGNED_IN = expect(302, 200, 200, 200, 200, 200)
REGION_READERS = expect(302, 403, 403, 200, 403, 200)
CONTRACT_MANAGER = expect(302, 403, 403, 200, 403, 403)
PROVIDER_ADMIN = expect(302, 200, 403, 403, 403, 403)
POST_ONLY = expect(405, 405, 405, 405, 405, 405)
BAD_TOKEN = expect(400, 400, 400, 400, 400, 400)
# The JSON API takes a bearer token only: the walk's cookie sessions are refused like no token.
API_TOKEN_ONLY = expect(401, 401, 401, 401, 401, 401)

EXPECTED = {
    # Realisation (issue 5)
    "realisation.index": expect(302, 200, 200, 403, 403, 403),
    "realisation.report_detail": expect(302, 200, 200, 403, 403, 403),  # the sample is Zorggroep Maasland's
    "realisation.upload": expect(302, 200, 200, 403, 403, 403),
    "realisation.upload_status": expect(302, 200, 200, 403, 403, 403),
    "realisation.upload_progress": expect(302, 200, 200, 403, 403, 403),
    "realisation.upload_errors_csv": expect(302, 200, 200, 403, 403, 403),
    "realisation.template_csv": expect(302, 200, 200, 403, 403, 403),  # the sample segment is contracted
    "realisation.template_xlsx": expect(302, 200, 200, 403, 403, 403),
    "realisation.form": expect(302, 200, 200, 403, 403, 403),
    "realisation.validate_row": POST_ONLY,
    "realisation.upload_retry": POST_ONLY,
    "realisation_review.queue": REGION_READERS,
    "realisation_review.detail": REGION_READERS,  # the sample report is Zorggroep Maasland's, for Venlo
    "realisation_review.approve": POST_ONLY,
    "realisation_review.reject": POST_ONLY,
    "realisation_review.bulk": POST_ONLY,
    "api.realisation": API_TOKEN_ONLY,
    "api.realisation_report": API_TOKEN_ONLY,
    "realisation_dashboard.index": SIGNED_IN,
    "realisation_dashboard.export_csv": SIGNED_IN,
    "realisation_dashboard.export_xlsx": SIGNED_IN,
    "static": EVERYONE,
    "health.live": EVERYONE,
    "health.ready": EVERYONE,
    "home.index": SIGNED_IN,
    "home.choose_organisation": SIGNED_IN,
    "auth.sign_in": expect(200, 302, 302, 302, 302, 302),
    "auth.sign_out": POST_ONLY,
    "auth.forgot_password": EVERYONE,
    "auth.reset_password": BAD_TOKEN,
    "auth.accept_invitation": BAD_TOKEN,
    "organisations.list_organisations": REGION_READERS,
    "organisations.detail": REGION_READERS,
    "organisations.create": CONTRACT_MANAGER,
    "organisations.edit": CONTRACT_MANAGER,
    "organisations.invite": CONTRACT_MANAGER,
    "users.list_users": PROVIDER_ADMIN,
    "users.invite": PROVIDER_ADMIN,
    "users.change_role": PROVIDER_ADMIN,
    "users.remove": PROVIDER_ADMIN,
    "segments.list_segments": SIGNED_IN,
    "audit_log.list_events": REGION_READERS,
    "audit_log.export_csv": REGION_READERS,
    "audit_log.export_xlsx": REGION_READERS,
    "audit_log.detail": REGION_READERS,
    # an export made by a job: only its own user and organisation see it (the sample id is nobody's)
    "exports.status": expect(302, 404, 404, 404, 404, 404),
    "exports.download": expect(302, 404, 404, 404, 404, 404),
    "api.openapi": EVERYONE,  # the API's description holds no data
    "api.catalogue": API_TOKEN_ONLY,
    "api.framework_agreements": API_TOKEN_ONLY,
    "api.framework_agreement": API_TOKEN_ONLY,
    "api.budget_agreements": API_TOKEN_ONLY,
    "api.budget_agreement": API_TOKEN_ONLY,
    "api_keys.list_tokens": SIGNED_IN,
    "api_keys.create": SIGNED_IN,
    # the sample token belongs to the provider admin; anybody else's token is a 404
    "api_keys.revoke": expect(302, 200, 404, 404, 404, 404),
    "catalogue.overview": SIGNED_IN,
    "catalogue.trajectory_detail": SIGNED_IN,
    "catalogue.trajectory_row": SIGNED_IN,  # htmx gets the table row, a browser the detail page
    # htmx gets the row as a small form; a browser goes to the full edit screen
    "catalogue.trajectory_row_edit": expect(302, 403, 403, 302, 403, 403),
    "catalogue.trajectory_create": CONTRACT_MANAGER,
    "catalogue.trajectory_edit": CONTRACT_MANAGER,
    "catalogue.trajectory_preview": POST_ONLY,
    "catalogue.trajectory_fields": CONTRACT_MANAGER,
    "catalogue.care_forms": SIGNED_IN,
    "catalogue.care_form_create": CONTRACT_MANAGER,
    "catalogue.care_form_edit": CONTRACT_MANAGER,
    "catalogue.tariffs": SIGNED_IN,
    "catalogue.tariff_detail": SIGNED_IN,
    "catalogue.tariff_create": CONTRACT_MANAGER,
    "catalogue.tariff_edit": CONTRACT_MANAGER,
    "catalogue.version_create": CONTRACT_MANAGER,
    "catalogue.version_edit": CONTRACT_MANAGER,
    "catalogue.version_row": SIGNED_IN,
    "catalogue.version_row_edit": expect(302, 403, 403, 302, 403, 403),
    "catalogue.surcharges": SIGNED_IN,
    "catalogue.surcharge_detail": SIGNED_IN,
    "catalogue.surcharge_create": CONTRACT_MANAGER,
    "catalogue.surcharge_edit": CONTRACT_MANAGER,
    "catalogue.qualification_grant": POST_ONLY,
    "catalogue.qualification_withdraw": POST_ONLY,
    # municipal choices: the sample municipality is Venlo, the walk's municipality user
    "municipal_choices.index": expect(302, 403, 403, 200, 200, 200),
    "municipal_choices.municipality": expect(302, 403, 403, 200, 200, 200),
    "municipal_choices.segment": expect(302, 403, 403, 200, 200, 200),
    "municipal_choices.new_choice": expect(302, 403, 403, 403, 200, 403),
    "municipal_choices.preview": expect(302, 403, 403, 403, 200, 403),
    "agreements.list_frameworks": REGION_READERS,
    "agreements.detail": REGION_READERS,
    "agreements.create": CONTRACT_MANAGER,
    "agreements.edit": CONTRACT_MANAGER,
    "agreements.use_extension": POST_ONLY,
    "agreements.evaluate": POST_ONLY,
    # the sample agreement is Zorggroep Maasland's: its own staff may print it, a municipality not
    "agreements.summary_pdf": expect(302, 200, 200, 200, 403, 200),
    "agreements.list_budgets": REGION_READERS,
    "agreements.create_budget": CONTRACT_MANAGER,
    "agreements.advance_preview": CONTRACT_MANAGER,
    "agreements.edit_budget": CONTRACT_MANAGER,
    # htmx gets the table row (or the row as a small form); a browser goes to the list or edit screen
    "agreements.budget_row": expect(302, 403, 403, 302, 403, 302),
    "agreements.edit_budget_row": expect(302, 403, 403, 302, 403, 403),
    "agreements.list_extra_capacity": REGION_READERS,
    "agreements.create_extra_capacity": CONTRACT_MANAGER,
    "my_agreements.overview": expect(302, 200, 200, 403, 403, 403),
    # obligations (issue 13): Noord-Limburg has none, so the pages say so; the sample agreement is Maasland's
    "obligations.overview": REGION_READERS,
    "obligations.mine": expect(302, 200, 200, 403, 403, 403),
    "obligations.report": expect(302, 200, 200, 403, 403, 403),
    "my_agreements.municipality_budgets": expect(302, 403, 403, 403, 200, 403),
    "proposals.index": expect(302, 200, 200, 302, 403, 302),  # region readers go to the queue
    "proposals.new": expect(302, 200, 200, 403, 403, 403),
    "proposals.preview": POST_ONLY,
    "proposals.detail": expect(302, 200, 200, 200, 403, 200),  # the sample is Zorggroep Maasland's
    "proposals.act": POST_ONLY,
    "proposals.upload": POST_ONLY,
    "proposals.download": expect(302, 200, 200, 200, 403, 200),
    "proposals.agreement_pdf": expect(302, 200, 200, 200, 403, 200),
    "proposals.queue": REGION_READERS,
    "proposals.bulk_reject": POST_ONLY,
    "api.proposals": API_TOKEN_ONLY,
    # Settlement preview and cost allocation (issue 6); the preview is POST only
    "api.settlement_preview": POST_ONLY,
    "api.cost_allocation": API_TOKEN_ONLY,
    "settlement_whatif.index": expect(302, 403, 403, 200, 200, 200),  # the what-if simulator saves nothing
    # The yearly settlement (issue 6): the sample run is a published run of this year with lines of Zorggroep
    # Maasland and Venlo; a provider reads only its own statement, a municipality only its own
    "settlement.index": SIGNED_IN,
    "settlement.run": POST_ONLY,
    "settlement.run_detail": SIGNED_IN,
    # a queued settlement run's page: only for the contract manager who queued it (the sample is no job)
    "settlement.run_job": expect(302, 403, 403, 404, 403, 403),
    "settlement.publish": POST_ONLY,
    "settlement.finalise": POST_ONLY,
    "settlement.respond": POST_ONLY,
    "settlement.provider_pdf": expect(302, 200, 200, 200, 403, 200),
    "settlement.provider_xlsx": expect(302, 200, 200, 200, 403, 200),
    "settlement.municipality_pdf": expect(302, 403, 403, 200, 200, 200),
    "settlement.municipality_xlsx": expect(302, 403, 403, 200, 200, 200),
    "wmo.overview": SIGNED_IN,
    "jeugd.overview": SIGNED_IN,
    "participatie.overview": SIGNED_IN,
}


def _sample_arguments(app):
    from portal import db
    from portal.accounts import api_tokens

    with app.app_context():
        session = db.session()
        organisation = session.exec(select(Organisation).where(Organisation.name == "Thuishulp Venray")).one()
        colleague = session.exec(select(Membership).join(User, User.id == Membership.user_id)
                                 .where(User.email == "medewerker@zorggroep-maasland.example")).one()
        admin = session.exec(select(User).where(User.email == "beheer@zorggroep-maasland.example")).one()
        api_token, _plain = api_tokens.create_token(admin, api_tokens.membership_for(admin), "url-map")
        from tests.agreement_data import sample_agreements
        from tests.catalogue_data import build_catalogue

        catalogue = build_catalogue(session, organisation.region_id)
        session.commit()
        return {"trajectory_id": catalogue.trajectory.id, "care_form_id": catalogue.care_form.id,
                "tariff_id": catalogue.tariff.id, "version_id": catalogue.version_2024.id,
                "surcharge_id": catalogue.surcharge.id,
                "organisation_id": organisation.id, "membership_id": colleague.id,
                "token": "geen-geldige-link", "filename": "portal.css", "job_id": "settlement-run-onbekend",
                "token_id": api_token.id, **sample_agreements(),
                "municipality_id": session.exec(select(Organisation.id).where(Organisation.name == "Venlo")).one(),
                "segment_key": next(iter(app.extensions["portal.registry"].segments)),
                "event_id": session.exec(select(AuditEvent.id).where(AuditEvent.action == "demo.loaded")).first(),
                **_sample_proposal(app, session, admin), **_sample_realisation_report(app, session, admin),
                **_sample_settlement_run(app, session)}


def _sample_settlement_run(app, session) -> dict:
    """A published settlement run of this year (made through the service) and Zorggroep Maasland's id."""
    from portal.models import Region
    from portal.settlement import runs as settlement_runs

    manager = session.exec(select(User).where(User.email == ACCOUNTS["contract_manager"])).one()
    maasland = session.exec(select(Organisation).where(Organisation.name == "Zorggroep Maasland")).one()
    with app.test_request_context():
        run = settlement_runs.run_settlement(session.get(Region, maasland.region_id), this_year(), manager)
        settlement_runs.publish(run, manager, run.lock_version)
        session.commit()
        return {"run_id": run.id, "provider_id": maasland.id}


def _sample_realisation_report(app, session, admin) -> dict:
    """A submitted realisation report of Zorggroep Maasland for Venlo (made through the import), for the
    month that holds today (begun, so the import takes it)."""
    from portal.accounts.api_tokens import membership_for
    from portal.models.realisation import RealisationReport
    from portal.realisation.importing import submit_rows

    organisation = session.get(Organisation, membership_for(admin).organisation_id)
    with app.test_request_context():
        upload, _result = submit_rows(organisation, admin, [
            {"gemeente": "0983", "segment": "jeugd.S4", "periode": month(today().month, this_year()), "traject": "S4-BEG-6",
             "gestart": "2", "lopend": "3", "clienten": "3"}], "api")
    assert upload.state == "stored", (upload.message, upload.errors)
    report = session.exec(select(RealisationReport).where(RealisationReport.upload_id == upload.id)).one()
    return {"report_id": report.id, "upload_id": upload.id}


def _sample_proposal(app, session, admin) -> dict:
    """An approved proposal of Zorggroep Maasland with an attachment (made through the services)."""
    from portal.accounts.api_tokens import membership_for
    from portal.models import StandardTrajectory
    from portal.proposals import service as proposals
    from tests.test_proposal_screens import contracted_trajectory

    trajectory = session.get(StandardTrajectory, contracted_trajectory(app).id)
    manager = session.exec(select(User).where(User.email == ACCOUNTS["contract_manager"])).one()
    with app.test_request_context():
        values = {"intensity": trajectory.intensity, "intensity_period": trajectory.intensity_period,
                  "duration_months": trajectory.duration_months + 1, "expected_per_year": 1,
                  "extra": {extra.name: str(extra.minimum if extra.minimum is not None else 1)
                            for extra in proposals.proposal_rules(trajectory.segment_key).fields},
                  "substantiation": "Voor de URL-kaart."}
        organisation = session.get(Organisation, membership_for(admin).organisation_id)
        proposal = proposals.start_proposal(organisation, admin, trajectory.id, "Voorbeeld", values, "url-map")
        attachment = proposals.add_attachment(proposal, admin, "bijlage.pdf", b"%PDF-1.4\n%voorbeeld\n")
        proposals.submit(proposal, admin, proposal.lock_version)
        proposals.approve(proposal, manager, proposal.lock_version)
        session.commit()
        return {"proposal_id": proposal.id, "attachment_id": attachment.id, "action": "approve"}


# A region pack's domain page (installed packs, plugins/regions/*) is for its own region: the walk's
# accounts are of the first region, so they get 404.
OTHER_REGIONS_PAGE = expect(302, 404, 404, 404, 404, 404)


def expected(app) -> dict:
    """EXPECTED with the domain pages of the installed region packs."""
    packs = app.extensions["portal.registry"].regions.values()
    return {**EXPECTED, **{domain.endpoint: OTHER_REGIONS_PAGE
                           for registry in packs for domain in registry.domains.values() if domain.endpoint}}


def test_every_route_is_in_the_table(app):
    endpoints = {rule.endpoint for rule in app.url_map.iter_rules()}
    table = expected(app)
    assert endpoints - table.keys() == set(), "routes without a decided answer"
    assert table.keys() - endpoints == set(), "table names routes that no longer exist"


def test_walk_url_map_for_every_role(app, demo):
    arguments = _sample_arguments(app)
    clients = {"anonymous": app.test_client()}
    for role, email in ACCOUNTS.items():
        clients[role] = app.test_client()
        assert sign_in(clients[role], email).status_code == 302
    failures = []
    table = expected(app)
    for rule in app.url_map.iter_rules():
        url = app.url_for(rule.endpoint, **{name: arguments[name] for name in rule.arguments})
        for role in ROLES:
            response = clients[role].get(url)
            wanted = table[rule.endpoint][role]
            if response.status_code != wanted:
                failures.append(f"{role:18} GET {url} -> {response.status_code}, expected {wanted}")
            elif wanted == 302 and role == "anonymous":
                if "/inloggen" not in response.headers["Location"]:
                    failures.append(f"{role} GET {url} redirects to {response.headers['Location']}")
            response.close()
    assert not failures, "\n".join(failures)


@pytest.mark.parametrize("status_page", ["/bestaat-niet", "/organisaties/999999"])
def test_not_found_pages_are_dutch_and_plain(app, demo, status_page):
    client = app.test_client()
    sign_in(client, ACCOUNTS["contract_manager"])
    response = client.get(status_page)
    assert response.status_code == 404
    body = response.get_data(as_text=True)
    assert "Pagina niet gevonden" in body
    assert "Traceback" not in body
