"""The custom trajectory proposal screens and API: scoping, roles, stale versions, double submits, the
review queue, the thread and the agreement (on SQLite and PostgreSQL)."""
from __future__ import annotations

import re

import pytest
from sqlalchemy import func
from sqlmodel import select

from portal import db
from portal.accounts import api_tokens
from portal.models import FrameworkAgreement, FrameworkSegment, Organisation, StandardTrajectory, User
from portal.models.proposals import CustomTrajectory, Proposal, ProposalVersion
from tests.conftest import csrf_token, post_form

MAASLAND = "beheer@zorggroep-maasland.example"
MAASLAND_USER = "medewerker@zorggroep-maasland.example"
VENRAY = "beheer@thuishulp-venray.example"
MANAGER = "contractmanager@mgr-noord-limburg.example"
MANAGER2 = "contractmanager2@mgr-noord-limburg.example"
AUDITOR = "auditor@accountant-noord-limburg.example"
VENLO = "medewerker@venlo.example"
LOCK_RE = re.compile(r'name="lock_version"[^>]*value="(\d+)"')
KEY_RE = re.compile(r'name="submission_key"[^>]*value="([0-9a-f]+)"')


def contracted_trajectory(app) -> StandardTrajectory:
    """A standard trajectory (latest catalogue year) of a segment Zorggroep Maasland has a regional
    framework agreement for."""
    with app.app_context():
        session = db.session()
        maasland = session.exec(select(Organisation).where(Organisation.name == "Zorggroep Maasland")).one()
        segments = select(FrameworkSegment.segment_key).join(
            FrameworkAgreement, FrameworkAgreement.id == FrameworkSegment.framework_agreement_id).where(
            FrameworkAgreement.organisation_id == maasland.id, FrameworkAgreement.lot == "regional",
            FrameworkAgreement.terminated_on.is_(None))
        year = session.exec(select(func.max(StandardTrajectory.year))).one()
        trajectory = session.exec(select(StandardTrajectory).where(
            StandardTrajectory.segment_key.in_(segments), StandardTrajectory.year == year)
            .order_by(StandardTrajectory.segment_key, StandardTrajectory.code)).first()
        assert trajectory is not None, "the demo gives Zorggroep Maasland a regional framework agreement"
        session.expunge(trajectory)
        return trajectory


def form_values(trajectory: StandardTrajectory, **changes) -> dict:
    values = {"standard_trajectory_id": str(trajectory.id), "title": "Langere begeleiding",
              "intensity": str(trajectory.intensity).replace(".", ","), "intensity_period": trajectory.intensity_period,
              "duration_months": str(min(trajectory.duration_months + 2, 30)), "expected_per_year": "12",
              "substantiation": "Onze cliënten hebben meer tijd nodig om zelfstandig te worden.",
              "action": "indienen"}
    values.update(changes)
    return values


def new_form_page(client, trajectory) -> tuple[str, str]:
    page = client.get(f"/maatwerk/nieuw?standard_trajectory_id={trajectory.id}")
    assert page.status_code == 200
    body = page.get_data(as_text=True)
    return re.search(r'name="csrf_token"[^>]*value="([^"]+)"', body).group(1), KEY_RE.search(body).group(1)


def submit_new(client, trajectory, **changes):
    token, key = new_form_page(client, trajectory)
    extra = {} if "extra" not in changes else changes.pop("extra")
    data = {**form_values(trajectory, **changes), "csrf_token": token, "submission_key": key, **extra}
    # plugin fields the form shows for this segment, filled from the standard trajectory or a safe value
    return client.post("/maatwerk/nieuw", data=data), key


def proposal_count(app) -> int:
    with app.app_context():
        return db.session().exec(select(func.count()).select_from(Proposal)).one()


def extra_inputs(client, trajectory) -> dict:
    """The plugin's inputs on the new-proposal form, with the value the form proposes (or 1)."""
    body = client.get(f"/maatwerk/nieuw?standard_trajectory_id={trajectory.id}").get_data(as_text=True)
    found = {}
    for tag in re.findall(r'<input[^>]*name="extra_[a-z_0-9]+"[^>]*>', body):
        name = re.search(r'name="(extra_[a-z_0-9]+)"', tag).group(1)
        value = re.search(r'value="([^"]*)"', tag)
        found[name] = value.group(1) if value and value.group(1) else "1"
    return found


@pytest.fixture
def proposal(app, demo, signed_in):
    """A submitted proposal of Zorggroep Maasland, made through the form."""
    provider = signed_in(MAASLAND)
    trajectory = contracted_trajectory(app)
    extras = extra_inputs(provider, trajectory)
    response, _key = submit_new(provider, trajectory, extra=extras)
    assert response.status_code == 303, response.get_data(as_text=True)
    proposal_id = int(response.headers["Location"].rstrip("/").split("/")[-1])
    return {"id": proposal_id, "provider": provider, "trajectory": trajectory, "extras": extras}


def lock_of(client, proposal_id) -> str:
    return LOCK_RE.search(client.get(f"/maatwerk/{proposal_id}").get_data(as_text=True)).group(1)


def act(client, proposal_id, action, **data):
    token = csrf_token(client, f"/maatwerk/{proposal_id}")
    return client.post(f"/maatwerk/{proposal_id}/stap/{action}", data={"csrf_token": token, **data})


# --- New proposal ---------------------------------------------------------------------------------


def test_double_submit_of_the_new_form_creates_one_proposal(app, proposal):
    provider, trajectory = proposal["provider"], proposal["trajectory"]
    before = proposal_count(app)
    token, key = new_form_page(provider, trajectory)
    data = {**form_values(trajectory), **proposal["extras"], "csrf_token": token, "submission_key": key}
    first = provider.post("/maatwerk/nieuw", data=data)
    second = provider.post("/maatwerk/nieuw", data=data)
    assert first.status_code == second.status_code == 303
    assert first.headers["Location"] == second.headers["Location"]
    assert proposal_count(app) == before + 1
    page = provider.get(first.headers["Location"]).get_data(as_text=True)
    assert "Langere begeleiding" in page and "Ingediend" in page


def test_new_proposal_without_substantiation_is_refused_and_nothing_saved(app, proposal):
    before = proposal_count(app)
    response, _key = submit_new(proposal["provider"], proposal["trajectory"], substantiation="",
                                extra=proposal["extras"])
    assert response.status_code == 422
    assert "Onderbouwing" in response.get_data(as_text=True)
    assert proposal_count(app) == before


def test_price_preview_shows_difference_and_yearly_value(app, proposal):
    provider, trajectory = proposal["provider"], proposal["trajectory"]
    data = {**form_values(trajectory), **proposal["extras"]}
    response = post_form(provider, "/maatwerk/prijs", data, form_path=f"/maatwerk/nieuw?standard_trajectory_id={trajectory.id}")
    body = response.get_data(as_text=True)
    assert response.status_code == 200
    assert "Verschil met het standaardtraject" in body and "Verwachte waarde per jaar" in body and "€" in body


# --- Scoping and roles ----------------------------------------------------------------------------


def test_another_providers_proposal_answers_404(app, proposal, signed_in):
    other = signed_in(VENRAY)
    pid = proposal["id"]
    assert other.get(f"/maatwerk/{pid}").status_code == 404
    assert other.get(f"/maatwerk/{pid}/overeenkomst.pdf").status_code == 404
    token = csrf_token(other, "/maatwerk/")
    assert other.post(f"/maatwerk/{pid}/stap/withdraw", data={"csrf_token": token, "lock_version": "1"}).status_code == 404
    assert "Langere begeleiding" not in other.get("/maatwerk/").get_data(as_text=True)


def test_wrong_roles_get_403(app, proposal, signed_in):
    pid = proposal["id"]
    assert signed_in(VENLO).get("/maatwerk/").status_code == 403
    assert signed_in(VENLO).get(f"/maatwerk/{pid}").status_code == 403
    assert proposal["provider"].get("/maatwerk/beoordelen").status_code == 403
    assert signed_in(MANAGER).get("/maatwerk/nieuw").status_code == 403
    lock = lock_of(proposal["provider"], pid)
    # a provider cannot approve, an auditor cannot act at all, a manager cannot withdraw for the provider
    assert act(proposal["provider"], pid, "approve", lock_version=lock).status_code == 403
    auditor = signed_in(AUDITOR)
    assert auditor.get(f"/maatwerk/{pid}").status_code == 200
    assert act(auditor, pid, "approve", lock_version=lock).status_code == 403
    assert act(signed_in(MANAGER), pid, "withdraw", lock_version=lock).status_code == 403
    with app.app_context():
        assert db.session().get(Proposal, pid).state == "submitted"


# --- Negotiation ---------------------------------------------------------------------------------


def test_stale_lock_version_is_refused_with_409_and_nothing_changes(app, proposal, signed_in):
    pid = proposal["id"]
    first, second = signed_in(MANAGER), signed_in(MANAGER2)
    seen_lock = lock_of(second, pid)
    trajectory = proposal["trajectory"]
    counter = {**form_values(trajectory), **proposal["extras"], "lock_version": lock_of(first, pid),
               "duration_months": str(trajectory.duration_months + 1), "comment": "Een maand korter volstaat."}
    for name in ("standard_trajectory_id", "title", "substantiation", "action"):
        counter.pop(name)
    assert act(first, pid, "counter", **counter).status_code == 303
    with app.app_context():
        before = db.session().get(Proposal, pid)
        state, version, lock = before.state, before.current_version, before.lock_version
    refused = act(second, pid, "reject", lock_version=seen_lock, reason="Te duur.")
    assert refused.status_code == 409
    assert "intussen gewijzigd door iemand anders" in refused.get_data(as_text=True)
    with app.app_context():
        after = db.session().get(Proposal, pid)
        assert (after.state, after.current_version, after.lock_version) == (state, version, lock)
        assert after.state == "in_negotiation" and after.rejection_reason is None


def test_counter_accept_approve_shows_thread_agreement_and_pdf(app, proposal, signed_in):
    pid, provider, trajectory = proposal["id"], proposal["provider"], proposal["trajectory"]
    manager, manager2 = signed_in(MANAGER), signed_in(MANAGER2)
    counter = {k: v for k, v in {**form_values(trajectory), **proposal["extras"]}.items()
               if k not in ("standard_trajectory_id", "title", "substantiation", "action")}
    # a counter-proposal needs a comment
    missing = act(manager, pid, "counter", **counter, lock_version=lock_of(manager, pid), comment="")
    assert missing.status_code == 422
    counter["duration_months"] = str(trajectory.duration_months + 1)
    assert act(manager, pid, "counter", **counter, lock_version=lock_of(manager, pid),
               comment="Een maand minder dan voorgesteld.").status_code == 303
    thread = provider.get(f"/maatwerk/{pid}").get_data(as_text=True)
    assert "Versie 2" in thread and "Versie 1" in thread and "Een maand minder dan voorgesteld." in thread
    assert "Gewijzigd ten opzichte van versie 1" in thread
    assert act(provider, pid, "accept_counter", lock_version=lock_of(provider, pid)).status_code == 303
    # the author of the counter cannot approve it (four eyes); the second manager can
    own = act(manager, pid, "approve", lock_version=lock_of(manager, pid))
    assert own.status_code == 409
    assert act(manager2, pid, "approve", lock_version=lock_of(manager2, pid)).status_code == 303
    with app.app_context():
        custom = db.session().exec(select(CustomTrajectory).where(CustomTrajectory.proposal_id == pid)).one()
        code = custom.code
        assert custom.duration_months == trajectory.duration_months + 1
    overview = provider.get("/mijn-contracten/").get_data(as_text=True)
    assert code in overview and f"/maatwerk/{pid}/overeenkomst.pdf" in overview
    pdf = provider.get(f"/maatwerk/{pid}/overeenkomst.pdf")
    assert pdf.status_code == 200 and pdf.mimetype == "application/pdf" and pdf.data.startswith(b"%PDF-")


def test_attachment_upload_and_download_for_both_sides(app, proposal, signed_in):
    import io

    pid, provider = proposal["id"], proposal["provider"]
    token = csrf_token(provider, f"/maatwerk/{pid}")
    content = b"%PDF-1.4\n% onderbouwing\n"
    response = provider.post(f"/maatwerk/{pid}/bijlagen", data={
        "csrf_token": token, "attachment": (io.BytesIO(content), "onderbouwing.pdf")},
        content_type="multipart/form-data")
    assert response.status_code == 303, response.get_data(as_text=True)
    page = signed_in(MANAGER).get(f"/maatwerk/{pid}").get_data(as_text=True)
    link = re.search(rf'href="(/maatwerk/{pid}/bijlagen/\d+)"', page).group(1)
    assert signed_in(MANAGER).get(link).data == content
    assert provider.get(link).data == content
    assert signed_in(VENRAY).get(link).status_code == 404
    wrong = provider.post(f"/maatwerk/{pid}/bijlagen", data={
        "csrf_token": token, "attachment": (io.BytesIO(b"MZ not a pdf"), "virus.pdf")},
        content_type="multipart/form-data")
    assert wrong.status_code == 422


# --- Review queue ---------------------------------------------------------------------------------


def test_queue_counts_filters_and_oldest_first(app, proposal, signed_in):
    provider, trajectory = proposal["provider"], proposal["trajectory"]
    response, _ = submit_new(provider, trajectory, title="Tweede voorstel", extra=proposal["extras"])
    assert response.status_code == 303
    draft, _ = submit_new(provider, trajectory, title="Nog een concept", action="concept", extra=proposal["extras"])
    assert draft.status_code == 303
    manager = signed_in(MANAGER)
    page = manager.get("/maatwerk/beoordelen?status=submitted").get_data(as_text=True)
    assert page.index("Langere begeleiding") < page.index("Tweede voorstel")  # oldest first
    assert "Nog een concept" not in page
    assert re.search(r"Ingediend: <strong>2</strong>", page)
    with app.app_context():
        venray = db.session().exec(select(Organisation).where(Organisation.name == "Thuishulp Venray")).one()
        maasland_id = db.session().get(Proposal, proposal["id"]).organisation_id
    assert "Langere begeleiding" not in manager.get(f"/maatwerk/beoordelen?aanbieder={venray.id}").get_data(as_text=True)
    assert "Langere begeleiding" in manager.get(f"/maatwerk/beoordelen?aanbieder={maasland_id}").get_data(as_text=True)
    other_segment = next(k for k in app.extensions["portal.registry"].segments if k != trajectory.segment_key)
    assert "Langere begeleiding" not in manager.get(f"/maatwerk/beoordelen?segment={other_segment}").get_data(as_text=True)
    assert "Langere begeleiding" in manager.get(
        f"/maatwerk/beoordelen?segment={trajectory.segment_key}&status=submitted").get_data(as_text=True)
    assert "Langere begeleiding" not in manager.get("/maatwerk/beoordelen?ouder_dan=30&status=submitted").get_data(as_text=True)
    htmx = manager.get("/maatwerk/beoordelen?status=submitted", headers={"HX-Request": "true"}).get_data(as_text=True)
    assert "<html" not in htmx and "Tweede voorstel" in htmx


def test_bulk_reject_rejects_the_chosen_with_one_reason(app, proposal, signed_in):
    pid = proposal["id"]
    manager = signed_in(MANAGER)
    page = manager.get("/maatwerk/beoordelen").get_data(as_text=True)
    choice = re.search(rf'value="({pid}:\d+)"', page).group(1)
    response = post_form(manager, "/maatwerk/beoordelen/afwijzen", {"selected": choice, "reason": "Past niet in het budget."},
                         form_path="/maatwerk/beoordelen")
    assert response.status_code == 303
    with app.app_context():
        rejected = db.session().get(Proposal, pid)
        assert rejected.state == "rejected" and rejected.rejection_reason == "Past niet in het budget."


# --- API -----------------------------------------------------------------------------------------


def token_for(app, email: str) -> dict:
    with app.app_context():
        session = db.session()
        user = session.exec(select(User).where(User.email == email)).one()
        _row, token = api_tokens.create_token(user, api_tokens.membership_for(user), "test")
        session.commit()
    return {"Authorization": f"Bearer {token}"}


def api_body(trajectory, extras, **changes) -> dict:
    body = {"standard_trajectory_id": trajectory.id, "title": "Via de API",
            "intensity": str(trajectory.intensity), "intensity_period": trajectory.intensity_period,
            "duration_months": trajectory.duration_months + 1, "expected_per_year": 5,
            "extra": {k[6:]: v for k, v in extras.items()},
            "substantiation": "Meer tijd nodig.", "submission_key": "api-sleutel-1"}
    body.update(changes)
    return body


def test_api_provider_token_lists_its_own_and_submits_one(app, proposal):
    client = app.test_client()
    maasland, venray = token_for(app, MAASLAND), token_for(app, VENRAY)
    own = client.get("/api/v1/proposals", headers=maasland).json
    assert [p["id"] for p in own["data"]] == [proposal["id"]]
    assert client.get("/api/v1/proposals", headers=venray).json["data"] == []
    assert client.get("/api/v1/proposals", headers=token_for(app, VENLO)).status_code == 403
    body = api_body(proposal["trajectory"], proposal["extras"])
    created = client.post("/api/v1/proposals", json=body, headers=maasland)
    assert created.status_code == 201, created.get_data(as_text=True)
    assert created.json["state"] == "submitted" and created.json["current"]["intensity"] == str(proposal["trajectory"].intensity)
    again = client.post("/api/v1/proposals", json=body, headers=maasland)
    assert again.status_code == 200 and again.json["id"] == created.json["id"]
    assert len(client.get("/api/v1/proposals", headers=maasland).json["data"]) == 2
    manager = client.get("/api/v1/proposals", headers=token_for(app, MANAGER)).json
    assert {p["id"] for p in manager["data"]} == {proposal["id"], created.json["id"]}
    from tests.test_api import _openapi, _validator

    spec = _openapi(app)
    for schema, answer in (("ProposalList", manager), ("Proposal", created.json)):
        assert not list(_validator(spec, schema).iter_errors(answer)), schema


def test_api_bad_input_is_json_422_with_the_field(app, proposal):
    client = app.test_client()
    headers = token_for(app, MAASLAND)
    before = proposal_count(app)
    trajectory = proposal["trajectory"]
    for changes, field in (({"substantiation": ""}, "substantiation"),
                           ({"duration_months": 500}, "duration_months"),
                           ({"intensity": 2.5}, "intensity"),
                           ({"intensity_period": "jaar"}, "intensity_period"),
                           ({"surprise": 1}, "surprise")):
        response = client.post("/api/v1/proposals", json=api_body(trajectory, proposal["extras"], **changes),
                               headers=headers)
        assert response.status_code == 422, (changes, response.get_data(as_text=True))
        assert response.mimetype == "application/json"
        assert response.json["error"]["code"] == "invalid" and response.json["error"]["field"] == field
        from tests.test_api import _openapi, _validator

        assert not list(_validator(_openapi(app), "Error").iter_errors(response.json))
    local = client.post("/api/v1/proposals", json=api_body(trajectory, proposal["extras"], submission_key="x2"),
                        headers=token_for(app, VENRAY))
    assert local.status_code == 422
    assert client.post("/api/v1/proposals", json=api_body(trajectory, {}), headers=token_for(app, MANAGER)).status_code == 403
    assert proposal_count(app) == before


def test_draft_edit_submit_revise_and_withdraw_through_the_screens(app, proposal, signed_in):
    provider, trajectory = proposal["provider"], proposal["trajectory"]
    draft, _ = submit_new(provider, trajectory, title="Concept eerst", action="concept", extra=proposal["extras"])
    assert draft.status_code == 303
    pid = int(draft.headers["Location"].rstrip("/").split("/")[-1])
    values = {k: v for k, v in {**form_values(trajectory), **proposal["extras"]}.items()
              if k not in ("standard_trajectory_id", "title", "action")}
    edited = act(provider, pid, "edit_draft", **{**values, "expected_per_year": "20"}, lock_version=lock_of(provider, pid))
    assert edited.status_code == 303
    assert act(provider, pid, "submit", lock_version=lock_of(provider, pid)).status_code == 303
    manager = signed_in(MANAGER)
    counter = {k: v for k, v in values.items() if k != "substantiation"}
    assert act(manager, pid, "counter", **counter, comment="Minder trajecten graag.",
               lock_version=lock_of(manager, pid)).status_code == 303
    # the live preview under the counter form knows the proposal's trajectory and provider
    preview = post_form(manager, "/maatwerk/prijs", {**counter, "proposal_id": str(pid)}, form_path=f"/maatwerk/{pid}")
    assert preview.status_code == 200 and "Verschil met het standaardtraject" in preview.get_data(as_text=True)
    revised = act(provider, pid, "revise", **{**values, "expected_per_year": "15"}, lock_version=lock_of(provider, pid))
    assert revised.status_code == 303
    page = provider.get(f"/maatwerk/{pid}").get_data(as_text=True)
    assert "Versie 3" in page and "Ingediend" in page
    assert act(provider, pid, "withdraw", lock_version=lock_of(provider, pid)).status_code == 303
    with app.app_context():
        withdrawn = db.session().get(Proposal, pid)
        assert withdrawn.state == "withdrawn" and withdrawn.current_version == 3
        assert db.session().exec(select(func.count()).select_from(ProposalVersion)
                                 .where(ProposalVersion.proposal_id == pid)).one() == 3
    # a finished proposal offers no steps any more, and a step on it is refused
    assert 'name="lock_version"' not in provider.get(f"/maatwerk/{pid}").get_data(as_text=True)
    with app.app_context():
        lock = db.session().get(Proposal, pid).lock_version
    refused = act(provider, pid, "submit", lock_version=str(lock))
    assert refused.status_code == 409 and "ingetrokken" in refused.get_data(as_text=True)
