"""Custom trajectory proposals (maatwerk) on the screens: a provider's list and new proposal (with a
live price preview), the negotiation thread with its steps, the contract managers' review queue,
attachments and the printable agreement of an approved custom trajectory.

The views only parse, render and commit: what they show comes from :mod:`portal.proposals.queries`,
every rule and step lives in :mod:`portal.proposals.service`."""
from __future__ import annotations

import secrets

from flask import (
    Blueprint,
    abort,
    current_app,
    flash,
    make_response,
    redirect,
    render_template,
    request,
    send_file,
    url_for,
)
from flask_login import current_user

from portal import db
from portal.accounts import roles
from portal.accounts.roles import roles_required
from portal.accounts.scoping import get_scoped_or_404
from portal.models import StandardTrajectory
from portal.models.proposals import Proposal
from portal.proposals import queries, service, states
from portal.proposals.forms import (
    AttachmentForm,
    BulkRejectForm,
    CounterForm,
    LockedForm,
    ProposalForm,
    RejectForm,
    ValuesForm,
    with_extra_fields,
)
from portal.proposals.pdf import custom_trajectory_pdf
from portal.registry import current_registry
from portal.validators import RuleViolation
from portal.web.common import rejected_status, render_page_or_partial

bp = Blueprint("proposals", __name__, url_prefix="/maatwerk")

PROVIDERS = tuple(roles.PROVIDER_ROLES)
READERS = (*roles.PROVIDER_ROLES, roles.CONTRACT_MANAGER, roles.AUDITOR)
REGION_READERS = (roles.CONTRACT_MANAGER, roles.AUDITOR)
VALUE_ACTIONS = {"edit_draft", "revise", "counter"}
DONE = {
    "edit_draft": "Het concept is opgeslagen.",
    "submit": "Het voorstel is ingediend bij de regio.",
    "counter": "Het tegenvoorstel is verstuurd naar de zorgaanbieder.",
    "accept_counter": "U hebt het tegenvoorstel aanvaard; het gaat terug naar de regio voor goedkeuring.",
    "revise": "Het herziene voorstel is ingediend.",
    "approve": "Uw goedkeuring is vastgelegd.",
    "reject": "Het voorstel is afgewezen.",
    "withdraw": "Het voorstel is ingetrokken.",
}


def side() -> str:
    """The side the signed-in user reads proposals from ("provider" or "region")."""
    return service.viewer_side(current_user.role)


def apply_error(form, error: RuleViolation) -> None:
    """Put a service's refusal on the form field it names (a plugin's field as ``extra_<name>``),
    or on the form as a whole."""
    field = getattr(form, error.field, None) if error.field else None
    if field is None and error.field and error.field.startswith("extra."):
        field = getattr(form, "extra_" + error.field.split(".", 1)[1], None)
    if field is None and error.field:
        field = getattr(form, "extra_" + error.field, None)
    if field is not None:
        field.errors = [*(field.errors or []), error.message]
    else:
        form.form_errors.append(error.message)


def _trajectory_id(source) -> int | None:
    """The ``standard_trajectory_id`` of a form or query string, or None when absent or no number."""
    raw = source.get("standard_trajectory_id")
    if not raw:
        return None
    try:
        return int(raw)
    except ValueError:
        return None


# --- The provider's proposals -----------------------------------------------------------------


@bp.route("/")
@roles_required(*READERS)
def index():
    """A provider's own proposals (filtered on ``status``); the region's readers go to the queue."""
    if current_user.role in REGION_READERS:
        return redirect(url_for("proposals.queue"))
    state = request.args.get("status") or ""
    proposals = queries.own_proposals(current_user.organisation, state if state in states.LABELS else None)
    return render_template("proposals/index.html", proposals=proposals, state=state, labels=states.LABELS,
                           segment_label=current_registry().segment_label)


def _new_form(trajectories, chosen: StandardTrajectory | None):
    form_class = with_extra_fields(ProposalForm, service.extra_fields(chosen.segment_key if chosen else None))
    if request.method == "POST":
        form = form_class()
    else:
        data = {}
        if chosen is not None:
            data = {"standard_trajectory_id": chosen.id, "intensity": chosen.intensity,
                    "intensity_period": chosen.intensity_period, "duration_months": chosen.duration_months,
                    "expected_per_year": 10, "title": f"Maatwerk {chosen.name}"}
            for extra in form_class.extra_fields:
                value = (chosen.extra or {}).get(extra.name)
                data["extra_" + extra.name] = "" if value is None else str(value)
        form = form_class(data=data)
        form.submission_key.data = secrets.token_hex(16)
    form.standard_trajectory_id.choices = [(0, "Kies een standaardtraject")] + [
        (t.id, f"{t.code} {t.name} ({t.year})") for t in trajectories]
    return form


def _preview(form, trajectory: StandardTrajectory | None, provider_id: int | None) -> dict | None:
    """Price of the form's values next to the standard trajectory's (None when not computable)."""
    return queries.price_preview(trajectory, form.values(), provider_id)


def _attachment(form) -> tuple[str, bytes] | None:
    """The file sent with the new-proposal form (name, bytes), or None."""
    upload = form.attachment.data
    if not (upload and getattr(upload, "filename", "")):
        return None
    return upload.filename, upload.read()


@bp.route("/nieuw", methods=["GET", "POST"])
@roles_required(*PROVIDERS)
def new():
    """A new proposal from a standard trajectory: saved as a draft or submitted at once."""
    trajectories = queries.contracted_trajectories(current_user.organisation)
    chosen = queries.offered_trajectory(_trajectory_id(request.form if request.method == "POST" else request.args))
    form = _new_form(trajectories, chosen)
    context = {"form": form, "trajectory": chosen, "trajectories": trajectories,
               "segment_label": current_registry().segment_label}
    if request.method != "POST":
        context["preview"] = _preview(form, chosen, current_user.organisation.id)
        return render_template("proposals/new.html", **context)
    status = rejected_status(form)
    if status:
        return render_template("proposals/new.html", **context), status
    try:
        proposal = service.propose(
            current_user.organisation, current_user, form.standard_trajectory_id.data, form.title.data,
            form.values(), form.submission_key.data, submit_now=form.action.data == "indienen",
            attachment=_attachment(form)).proposal
    except (RuleViolation, states.TransitionRefused) as error:
        db.session().rollback()
        if isinstance(error, RuleViolation):
            apply_error(form, error)
        else:
            form.form_errors.append(error.message)
        context["preview"] = _preview(form, chosen, current_user.organisation.id)
        return render_template("proposals/new.html", **context), 422
    db.session().commit()
    flash("Het voorstel is ingediend bij de regio." if proposal.state == states.SUBMITTED
          else "Het voorstel is als concept opgeslagen.", "success")
    return redirect(url_for("proposals.detail", proposal_id=proposal.id), 303)


@bp.route("/prijs", methods=["POST"])
@roles_required(*PROVIDERS, roles.CONTRACT_MANAGER)
def preview():
    """The live price preview under the form (htmx): the proposed price, the difference from the
    standard trajectory and the expected yearly value. Nothing is saved."""
    proposal_id = request.form.get("proposal_id")
    provider_id = current_user.organisation.id if side() == "provider" else None
    if proposal_id and proposal_id.isdigit():
        proposal = get_scoped_or_404(Proposal, int(proposal_id))
        chosen = queries.standard_of(proposal)
        provider_id = proposal.organisation_id
    else:
        chosen = queries.offered_trajectory(_trajectory_id(request.form))
    form_class = with_extra_fields(ValuesForm, service.extra_fields(chosen.segment_key if chosen else None))
    form = form_class(meta={"csrf": False})
    form.validate()
    result = _preview(form, chosen, provider_id)
    return render_template("proposals/_preview.html", preview=result, trajectory=chosen)


# --- One proposal: the thread and its steps ----------------------------------------------------


def _values_form(form_class, proposal: Proposal, version, segment_key: str, **extra_data):
    form_class = with_extra_fields(form_class, service.extra_fields(segment_key))
    if request.method == "POST":
        return form_class()
    data = {"intensity": version.intensity, "intensity_period": version.intensity_period,
            "duration_months": version.duration_months, "expected_per_year": version.expected_per_year,
            "substantiation": version.substantiation, "lock_version": proposal.lock_version, **extra_data}
    for extra in form_class.extra_fields:
        value = (version.extra or {}).get(extra.name)
        data["extra_" + extra.name] = "" if value is None else str(value)
    return form_class(data=data)


def _render_detail(proposal: Proposal, forms: dict | None = None, status: int = 200, stale: str | None = None):
    page = queries.proposal_page(proposal)
    current = page.current
    actions = service.actions_for(proposal, current_user.role, current_user)
    forms = dict(forms or {})
    if current is not None:
        if "edit_draft" in actions and "edit_draft" not in forms:
            forms["edit_draft"] = _values_form(ValuesForm, proposal, current, proposal.segment_key)
        if "revise" in actions and "revise" not in forms:
            forms["revise"] = _values_form(ValuesForm, proposal, current, proposal.segment_key)
        if "counter" in actions and "counter" not in forms:
            forms["counter"] = _values_form(CounterForm, proposal, current, proposal.segment_key)
    if "reject" in actions and "reject" not in forms:
        forms["reject"] = RejectForm(data={"lock_version": proposal.lock_version}, formdata=None)
    for form in forms.values():
        if hasattr(form, "lock_version") and request.method != "POST":
            form.lock_version.data = proposal.lock_version
    body = render_template(
        "proposals/detail.html", proposal=proposal, thread=page.thread, current=current, actions=actions,
        forms=forms, trajectory=page.trajectory, labels=states.LABELS, action_labels=states.ACTION_LABELS,
        segment_label=current_registry().segment_label, price=page.price, custom=page.custom,
        provider=page.provider, stale=stale, side=side(), attachment_form=AttachmentForm(formdata=None),
        extra_labels={extra.name: extra.label for extra in service.extra_fields(proposal.segment_key)},
        can_attach=side() == "provider" and proposal.state not in states.FINAL,
        approval=service.approval_progress(proposal) if proposal.state == states.SUBMITTED else None)
    return make_response(body, status)


@bp.route("/<int:proposal_id>")
@roles_required(*READERS)
def detail(proposal_id):
    """One proposal: its thread of versions and the steps the viewer may take now."""
    return _render_detail(get_scoped_or_404(Proposal, proposal_id))


@bp.route("/<int:proposal_id>/stap/<action>", methods=["POST"])
@roles_required(*PROVIDERS, roles.CONTRACT_MANAGER)
def act(proposal_id, action):
    """One step of the negotiation, on the version the page showed (``lock_version``)."""
    proposal = get_scoped_or_404(Proposal, proposal_id)
    if action not in states.TRANSITIONS:
        abort(404)
    if states.TRANSITIONS[action][0] != side():
        abort(403)
    if action in VALUE_ACTIONS:
        form = _values_form(CounterForm if action == "counter" else ValuesForm, proposal, None,
                            proposal.segment_key)
    elif action == "reject":
        form = RejectForm()
    else:
        form = LockedForm()
    status = rejected_status(form)
    if status:
        return _render_detail(proposal, {action: form}, status)
    try:
        service.take_step(proposal, current_user, action, form.lock(),
                          values=form.values() if action in VALUE_ACTIONS else None,
                          reason=form.reason.data if action == "reject" else None)
    except (RuleViolation, states.TransitionRefused) as error:
        db.session().rollback()
        db.session().expire_all()
        proposal = get_scoped_or_404(Proposal, proposal_id)
        if isinstance(error, (service.StaleProposal, states.TransitionRefused)):
            return _render_detail(proposal, status=409, stale=error.message)
        apply_error(form, error)
        return _render_detail(proposal, {action: form}, 422)
    db.session().commit()
    message = DONE[action]
    if action == "approve" and proposal.state != states.APPROVED:
        message = "Uw goedkeuring is vastgelegd. Een tweede contractmanager moet dit voorstel ook goedkeuren."
    elif action == "approve":
        message = "Het voorstel is goedgekeurd; het maatwerktraject is vastgelegd als aanvullende afspraak."
    flash(message, "success")
    return redirect(url_for("proposals.detail", proposal_id=proposal.id), 303)


@bp.route("/<int:proposal_id>/bijlagen", methods=["POST"])
@roles_required(*PROVIDERS)
def upload(proposal_id):
    """Add an attachment to the provider's proposal (with its current version)."""
    proposal = get_scoped_or_404(Proposal, proposal_id)
    form = AttachmentForm()
    status = rejected_status(form)
    upload_file = form.attachment.data
    if status is None and not (upload_file and getattr(upload_file, "filename", "")):
        form.attachment.errors = ["Kies een bestand."]
        status = 422
    if status:
        return _render_detail(proposal, status=status, stale=" ".join(form.attachment.errors or [])
                              or "Het bestand is niet opgeslagen.")
    try:
        service.add_attachment(proposal, current_user, upload_file.filename, upload_file.read())
    except (RuleViolation, states.TransitionRefused) as error:
        db.session().rollback()
        return _render_detail(proposal, status=422, stale=error.message)
    db.session().commit()
    flash("De bijlage is toegevoegd.", "success")
    return redirect(url_for("proposals.detail", proposal_id=proposal.id), 303)


@bp.route("/<int:proposal_id>/bijlagen/<int:attachment_id>")
@roles_required(*READERS)
def download(proposal_id, attachment_id):
    """An attachment of a proposal the viewer may see, as a download."""
    attachment = queries.attachment_of(get_scoped_or_404(Proposal, proposal_id), attachment_id)
    if attachment is None:
        abort(404)
    path = service.attachment_file(attachment)
    if not path.is_file():
        abort(404)
    response = send_file(path, mimetype=attachment.content_type, as_attachment=True,
                         download_name=attachment.original_name)
    response.headers["Cache-Control"] = "private, no-store"
    response.headers["X-Content-Type-Options"] = "nosniff"
    return response


@bp.route("/<int:proposal_id>/overeenkomst.pdf")
@roles_required(*READERS)
def agreement_pdf(proposal_id):
    """The printable additional agreement of an approved custom trajectory."""
    proposal = get_scoped_or_404(Proposal, proposal_id)
    custom = queries.custom_trajectory_of(proposal)
    if custom is None:
        abort(404)
    response = make_response(custom_trajectory_pdf(proposal, custom))
    response.headers["Content-Type"] = "application/pdf"
    filename = "".join(ch if ch.isalnum() or ch in "-_" else "-" for ch in custom.code)
    response.headers["Content-Disposition"] = f'inline; filename="maatwerk-{filename}.pdf"'
    response.headers["Cache-Control"] = "private, no-store"
    return response


# --- The contract managers' review queue ------------------------------------------------------

QUEUE_STATES = (states.SUBMITTED, states.IN_NEGOTIATION, states.DRAFT, states.APPROVED, states.REJECTED,
                states.WITHDRAWN)


def queue_filters() -> dict:
    """The queue's filters from the query string; unknown values are dropped (as "")."""
    args = request.args
    filters = {"domain": args.get("domein") or "", "segment": args.get("segment") or "",
               "provider_id": args.get("aanbieder") or "", "state": args.get("status") or "",
               "min_age_days": args.get("ouder_dan") or ""}
    if filters["domain"] not in current_registry().domains:
        filters["domain"] = ""
    if filters["segment"] not in current_registry().segments:
        filters["segment"] = ""
    if filters["state"] not in states.LABELS:
        filters["state"] = ""
    filters["provider_id"] = int(filters["provider_id"]) if str(filters["provider_id"]).isdigit() else ""
    filters["min_age_days"] = int(filters["min_age_days"]) if str(filters["min_age_days"]).isdigit() else ""
    return filters


def _service_filters(filters: dict) -> dict:
    return {key: value for key, value in filters.items() if value not in ("", None)}


@bp.route("/beoordelen")
@roles_required(*REGION_READERS)
def queue(bulk_form=None, status: int = 200):
    """The contract managers' review queue with its filters (the table alone for htmx)."""
    filters = queue_filters()
    found = queries.review_queue(_service_filters(filters), current_user.region.id)
    body = render_page_or_partial(
        "proposals/queue.html", "proposals/_queue_table.html", rows=found.rows, counts=found.counts,
        filters=filters, providers=found.providers, labels=states.LABELS,
        segment_label=current_registry().segment_label, threshold=current_app.config.get("FOUR_EYES_THRESHOLD"),
        domains=current_registry().domains, segments=current_registry().segments, queue_states=QUEUE_STATES,
        bulk_form=bulk_form or BulkRejectForm(formdata=None),
        can_act=current_user.role == roles.CONTRACT_MANAGER)
    body.status_code = status
    return body


def _chosen(form) -> list[tuple[int, int]]:
    """The bulk form's choices as (proposal id, lock version); malformed ones are left out."""
    chosen = []
    for choice in form.selected.data:
        try:
            proposal_id, lock = (int(part) for part in choice.split(":", 1))
        except ValueError:
            continue
        chosen.append((proposal_id, lock))
    return chosen


@bp.route("/beoordelen/afwijzen", methods=["POST"])
@roles_required(roles.CONTRACT_MANAGER)
def bulk_reject():
    """Reject the chosen proposals with one reason. Safe in bulk: rejecting needs no four eyes;
    each proposal is refused on its own when it changed after the queue was shown."""
    form = BulkRejectForm()
    status = rejected_status(form)
    if status:
        return queue(form, status)
    done, refused = service.reject_many(current_user, _chosen(form), form.reason.data)
    if done:
        flash(f"{done} voorstel(len) afgewezen.", "success")
    for message in refused:
        flash(message, "error")
    return redirect(url_for("proposals.queue"), 303)
