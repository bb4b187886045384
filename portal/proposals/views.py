"""Custom trajectory proposals (maatwerk) on the screens: a provider's list and new proposal (with a
live price preview), the negotiation thread with its steps, the contract managers' review queue,
attachments and the printable agreement of an approved custom trajectory.

The views only parse and render; every rule lives in :mod:`portal.proposals.service`."""
from __future__ import annotations

import secrets
from datetime import timezone

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
from sqlmodel import select

from portal import clock, db
from portal.accounts import roles
from portal.accounts.roles import roles_required
from portal.accounts.scoping import get_scoped_or_404, scoped
from portal.models import FrameworkAgreement, FrameworkSegment, Organisation, StandardTrajectory, User
from portal.models.proposals import CustomTrajectory, Proposal, ProposalAttachment
from portal.proposals import service, states
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
SIMPLE_ACTIONS = {"submit", "accept_counter", "approve", "withdraw"}
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
    return "provider" if current_user.role in roles.PROVIDER_ROLES else "region"


def extra_fields(segment_key: str | None) -> tuple:
    """The fields the segment's plugin adds to a proposal (empty without rules)."""
    rules = getattr(current_registry(), "proposal_rules", None) or {}
    rule = rules.get(segment_key) if isinstance(rules, dict) else next(
        (r for r in rules if r.segment_key == segment_key), None)
    return tuple(getattr(rule, "fields", ()) or ())


def apply_error(form, error: RuleViolation) -> None:
    field = getattr(form, error.field, None) if error.field else None
    if field is None and error.field and error.field.startswith("extra."):
        field = getattr(form, "extra_" + error.field.split(".", 1)[1], None)
    if field is None and error.field:
        field = getattr(form, "extra_" + error.field, None)
    if field is not None:
        field.errors = [*(field.errors or []), error.message]
    else:
        form.form_errors.append(error.message)


def _stale(error) -> bool:
    return isinstance(error, service.StaleProposal)


# --- The provider's proposals -----------------------------------------------------------------


def contracted_trajectories() -> list[StandardTrajectory]:
    """Standard trajectories of the segments the provider has a regional-lot framework agreement
    for (the services refuse anything else; this only keeps the choice short)."""
    session = db.session()
    segments = select(FrameworkSegment.segment_key).join(
        FrameworkAgreement, FrameworkAgreement.id == FrameworkSegment.framework_agreement_id).where(
        FrameworkAgreement.organisation_id == current_user.organisation.id,
        FrameworkAgreement.lot == "regional", FrameworkAgreement.terminated_on.is_(None))
    statement = scoped(select(StandardTrajectory), StandardTrajectory).where(
        StandardTrajectory.segment_key.in_(segments))
    found = session.exec(statement.order_by(StandardTrajectory.segment_key, StandardTrajectory.year.desc(),
                                            StandardTrajectory.code)).all()
    latest_year: dict[str, int] = {}
    for trajectory in found:
        latest_year.setdefault(trajectory.segment_key, trajectory.year)
    return [t for t in found if t.year == latest_year[t.segment_key]]


@bp.route("/")
@roles_required(*READERS)
def index():
    if current_user.role in REGION_READERS:
        return redirect(url_for("proposals.queue"))
    state = request.args.get("status") or ""
    statement = scoped(select(Proposal), Proposal).where(
        Proposal.organisation_id == current_user.organisation.id)
    if state in states.LABELS:
        statement = statement.where(Proposal.state == state)
    proposals = db.session().exec(statement.order_by(Proposal.updated_at.desc(), Proposal.id.desc())).all()
    return render_template("proposals/index.html", proposals=proposals, state=state, labels=states.LABELS,
                           segment_label=current_registry().segment_label)


def _trajectory_from(source) -> StandardTrajectory | None:
    raw = source.get("standard_trajectory_id")
    if not raw:
        return None
    try:
        return db.session().exec(scoped(select(StandardTrajectory), StandardTrajectory)
                                 .where(StandardTrajectory.id == int(raw))).first()
    except ValueError:
        return None


def _new_form(trajectories, chosen: StandardTrajectory | None):
    form_class = with_extra_fields(ProposalForm, extra_fields(chosen.segment_key if chosen else None))
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
    """Price of the proposed values next to the standard trajectory's (None when not computable)."""
    if trajectory is None or form.intensity.data is None or not form.duration_months.data:
        return None
    try:
        values = form.values()
        proposed = service.price(trajectory, values, provider_id)
        standard = service.price(trajectory, {
            "intensity": trajectory.intensity, "intensity_period": trajectory.intensity_period,
            "duration_months": trajectory.duration_months, "extra": dict(trajectory.extra or {}),
            "expected_per_year": values.get("expected_per_year") or 1}, provider_id)
        expected = values.get("expected_per_year") or 0
        return {"proposed": proposed.total, "standard": standard.total,
                "difference": proposed.total - standard.total,
                "yearly": service.yearly_value(proposed, expected) if expected else None,
                "lines": proposed.lines}
    except (RuleViolation, ValueError, ArithmeticError, ImportError, AttributeError, TypeError) as error:
        return {"problem": getattr(error, "message", None) or "Met deze waarden is geen prijs te berekenen."}


@bp.route("/nieuw", methods=["GET", "POST"])
@roles_required(*PROVIDERS)
def new():
    trajectories = contracted_trajectories()
    source = request.form if request.method == "POST" else request.args
    chosen = _trajectory_from(source)
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
        proposal = service.start_proposal(
            current_user.organisation, current_user, form.standard_trajectory_id.data,
            form.title.data.strip(), form.values(), form.submission_key.data or secrets.token_hex(16))
        if form.attachment.data and getattr(form.attachment.data, "filename", ""):
            service.add_attachment(proposal, current_user, form.attachment.data.filename,
                                     form.attachment.data.read())
        if form.action.data == "indienen" and proposal.state == states.DRAFT:
            service.submit(proposal, current_user, proposal.lock_version)
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
    chosen = _trajectory_from(request.form)
    proposal_id = request.form.get("proposal_id")
    provider_id = current_user.organisation.id if side() == "provider" else None
    if proposal_id and proposal_id.isdigit():
        proposal = get_scoped_or_404(Proposal, int(proposal_id))
        chosen = db.session().get(StandardTrajectory, proposal.standard_trajectory_id)
        provider_id = proposal.organisation_id
    form_class = with_extra_fields(ValuesForm, extra_fields(chosen.segment_key if chosen else None))
    form = form_class(meta={"csrf": False})
    form.validate()
    result = _preview(form, chosen, provider_id)
    return render_template("proposals/_preview.html", preview=result, trajectory=chosen)


# --- One proposal: the thread and its steps ----------------------------------------------------


def _thread(proposal: Proposal) -> list[dict]:
    versions = service.versions(proposal)
    attachments = db.session().exec(select(ProposalAttachment).where(
        ProposalAttachment.proposal_id == proposal.id).order_by(ProposalAttachment.id)).all()
    authors = {u.id: u for u in db.session().exec(select(User).where(
        User.id.in_([v.author_id for v in versions if v.author_id]))).all()}
    rows, previous = [], None
    for version in versions:
        rows.append({"version": version, "author": authors.get(version.author_id),
                     "changes": service.changes(previous, version) if previous is not None else [],
                     "attachments": [a for a in attachments if a.version_number == version.number]})
        previous = version
    return rows


def _values_form(form_class, proposal: Proposal, version, segment_key: str, **extra_data):
    form_class = with_extra_fields(form_class, extra_fields(segment_key))
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
    session = db.session()
    thread = _thread(proposal)
    current = thread[-1]["version"] if thread else None
    actions = states.allowed_actions(proposal.state, side())
    if side() == "region" and current_user.role != roles.CONTRACT_MANAGER:
        actions = []  # auditors read
    trajectory = session.get(StandardTrajectory, proposal.standard_trajectory_id)
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
    for name, form in forms.items():
        if hasattr(form, "lock_version") and request.method != "POST":
            form.lock_version.data = proposal.lock_version
    price = None
    if current is not None:
        try:
            breakdown = service.price(proposal, _version_values(current), proposal.organisation_id)
            price = {"total": breakdown.total,
                     "yearly": service.yearly_value(breakdown, current.expected_per_year)}
        except (RuleViolation, ValueError, ArithmeticError):
            price = None
    custom = session.exec(select(CustomTrajectory).where(CustomTrajectory.proposal_id == proposal.id)).first()
    provider = session.get(Organisation, proposal.organisation_id)
    body = render_template(
        "proposals/detail.html", proposal=proposal, thread=thread, current=current, actions=actions,
        forms=forms, trajectory=trajectory, labels=states.LABELS, action_labels=states.ACTION_LABELS,
        segment_label=current_registry().segment_label, price=price, custom=custom, provider=provider, stale=stale,
        side=side(), attachment_form=AttachmentForm(formdata=None),
        extra_labels={extra.name: extra.label for extra in extra_fields(proposal.segment_key)},
        can_attach=side() == "provider" and proposal.state not in states.FINAL)
    return make_response(body, status)


def _version_values(version) -> dict:
    return {"intensity": version.intensity, "intensity_period": version.intensity_period,
            "duration_months": version.duration_months, "expected_per_year": version.expected_per_year,
            "extra": dict(version.extra or {}), "substantiation": version.substantiation}


@bp.route("/<int:proposal_id>")
@roles_required(*READERS)
def detail(proposal_id):
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
    proposals = service
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
        lock = form.lock()
        if action == "edit_draft":
            proposals.update_draft(proposal, current_user, form.values(), lock)
        elif action == "revise":
            proposals.revise(proposal, current_user, form.values(), lock)
        elif action == "counter":
            values = form.values()
            proposals.counter(proposal, current_user, values, values.pop("comment"), lock)
        elif action == "reject":
            proposals.reject(proposal, current_user, (form.reason.data or "").strip(), lock)
        else:
            getattr(proposals, action)(proposal, current_user, lock)
    except (RuleViolation, states.TransitionRefused) as error:
        db.session().rollback()
        db.session().expire_all()
        proposal = get_scoped_or_404(Proposal, proposal_id)
        if _stale(error):
            return _render_detail(proposal, status=409, stale=error.message)
        if isinstance(error, states.TransitionRefused):
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
    proposal = get_scoped_or_404(Proposal, proposal_id)
    attachment = db.session().get(ProposalAttachment, attachment_id)
    if attachment is None or attachment.proposal_id != proposal.id:
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
    proposal = get_scoped_or_404(Proposal, proposal_id)
    custom = db.session().exec(select(CustomTrajectory).where(CustomTrajectory.proposal_id == proposal.id)).first()
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
    filters = queue_filters()
    items = service.review_queue(_service_filters(filters))
    counts = service.queue_counts()
    session = db.session()
    providers = session.exec(scoped(select(Organisation), Organisation).where(
        Organisation.id.in_(select(Proposal.organisation_id).where(
            Proposal.region_id == current_user.region.id))).order_by(Organisation.name)).all()
    names = {p.id: p.name for p in providers}
    threshold = current_app.config.get("FOUR_EYES_THRESHOLD")
    now = clock.now()
    rows = []
    for proposal in items:
        since = proposal.submitted_at or proposal.created_at
        if since is not None and since.tzinfo is None:
            since = since.replace(tzinfo=timezone.utc)
        rows.append({"proposal": proposal, "provider": names.get(proposal.organisation_id, ""),
                     "age": max(0, (now - since).days) if since else None})
    body = render_page_or_partial(
        "proposals/queue.html", "proposals/_queue_table.html", rows=rows, counts=counts, filters=filters,
        providers=providers, labels=states.LABELS, segment_label=current_registry().segment_label, threshold=threshold,
        domains=current_registry().domains, segments=current_registry().segments, queue_states=QUEUE_STATES,
        bulk_form=bulk_form or BulkRejectForm(formdata=None),
        can_act=current_user.role == roles.CONTRACT_MANAGER)
    body.status_code = status
    return body


@bp.route("/beoordelen/afwijzen", methods=["POST"])
@roles_required(roles.CONTRACT_MANAGER)
def bulk_reject():
    """Reject the chosen proposals with one reason. Safe in bulk: rejecting needs no four eyes;
    each proposal is refused on its own when it changed after the queue was shown."""
    form = BulkRejectForm()
    status = rejected_status(form)
    if status:
        return queue(form, status)
    done, refused = 0, []
    for choice in form.selected.data:
        try:
            proposal_id, lock = (int(part) for part in choice.split(":", 1))
        except ValueError:
            continue
        proposal = db.session().exec(scoped(select(Proposal), Proposal).where(Proposal.id == proposal_id)).first()
        if proposal is None:
            continue
        try:
            service.reject(proposal, current_user, form.reason.data.strip(), lock)
            db.session().commit()
            done += 1
        except (RuleViolation, states.TransitionRefused) as error:
            db.session().rollback()
            refused.append(f"{proposal.title}: {error.message}")
    if done:
        flash(f"{done} voorstel(len) afgewezen.", "success")
    for message in refused:
        flash(message, "error")
    return redirect(url_for("proposals.queue"), 303)
