"""The endpoints of API v1. Each parses its query, runs a scoped query (exactly the
scoping of the screens, see :mod:`portal.accounts.scoping`) and writes JSON."""
from __future__ import annotations

import json
import re
from decimal import Decimal, InvalidOperation
from math import ceil

from flask import request, url_for
from flask_login import current_user
from sqlalchemy import func
from sqlalchemy import select as sa_select
from sqlmodel import select

from portal import clock, db
from portal.accounts import roles
from portal.accounts.scoping import get_scoped_or_404, scoped
from portal.api import bp, serializers
from portal.api.errors import ApiError, json_response
from portal.api.openapi import openapi_document
from portal.models import BudgetAgreement, FrameworkAgreement, Organisation, StandardTrajectory
from portal.models.realisation import RealisationReport
from portal.proposals import queries as proposal_queries
from portal.proposals import service as proposal_service
from portal.proposals.states import LABELS, TransitionRefused
from portal.realisation.importing import submit_rows
from portal.realisation.rules import allowed_columns, column_key
from portal.registry import current_registry
from portal.settlement.cost_allocation import METHODS, allocate
from portal.settlement.engine import ScenarioError
from portal.settlement.population import PopulationMissing, allocation_json, residents_of
from portal.settlement.scenario import load_json, preview
from portal.validators import RuleViolation

DEFAULT_PER_PAGE = 25
MAX_PER_PAGE = 100
PAGING = ("page", "per_page")
CBS_CODE = re.compile(r"^\d{4}$")


# Who may read what, as on the screens: framework agreements are for the providers (their own)
# and the region's contract managers and auditors; municipalities see their budget agreements.
FRAMEWORK_READERS = frozenset({*roles.PROVIDER_ROLES, roles.CONTRACT_MANAGER, roles.AUDITOR})



def _require_role(allowed, what: str) -> None:
    if current_user.role not in allowed:
        raise ApiError(403, f"{what} zijn niet te zien met een API-sleutel van een "
                            f"{roles.LABELS[current_user.role].lower()}.")


# --- Query parameters ------------------------------------------------------------------------


def _allow_only(*names: str) -> None:
    """Refuse parameters the endpoint does not know: a typo ("perpage") should not pass silently."""
    unknown = sorted(set(request.args) - set(names))
    if unknown:
        allowed = ", ".join(names) if names else "geen"
        raise ApiError(400, f"Onbekende parameter '{unknown[0]}'. Toegestaan: {allowed}.", unknown[0])


def _int_arg(name: str, default: int | None, minimum: int, maximum: int) -> int | None:
    raw = request.args.get(name)
    if raw is None or raw == "":
        return default
    if not raw.isdigit() or not minimum <= int(raw) <= maximum:
        raise ApiError(400, f"'{name}' moet een geheel getal van {minimum} tot en met {maximum} zijn.", name)
    return int(raw)


def _year_arg(default: int | None) -> int | None:
    return _int_arg("year", default, 2000, 2100)


def _segment_arg() -> str | None:
    key = request.args.get("segment") or None
    if key is not None and key not in current_registry().segments:
        raise ApiError(400, f"Onbekend segment '{key}'. Segmenten heten als 'domein.code'; zie de "
                            "segmentenpagina van het portaal.", "segment")
    return key


def _choice_arg(name: str, choices) -> str | None:
    value = request.args.get(name) or None
    if value is not None and value not in choices:
        raise ApiError(400, f"'{name}' moet een van deze waarden zijn: {', '.join(sorted(choices))}.", name)
    return value


def _page(statement) -> tuple[list, dict]:
    """One page of ``statement`` and the paging facts. A page past the end is empty (it is not
    moved back to the last page, so a client that reads until an empty page stops)."""
    page = _int_arg("page", 1, 1, 1_000_000)
    per_page = _int_arg("per_page", DEFAULT_PER_PAGE, 1, MAX_PER_PAGE)
    session = db.session()
    total = session.exec(sa_select(func.count()).select_from(statement.order_by(None).subquery())).one()[0]
    items = list(session.exec(statement.limit(per_page).offset((page - 1) * per_page)).all())
    pages = max(1, ceil(total / per_page))
    links = {"next": None, "previous": None}
    arguments = {key: value for key, value in request.args.items() if key not in PAGING}
    if page < pages:
        links["next"] = url_for(request.endpoint, page=page + 1, per_page=per_page, **arguments)
    if 1 < page <= pages:
        links["previous"] = url_for(request.endpoint, page=page - 1, per_page=per_page, **arguments)
    return items, {"page": page, "per_page": per_page, "total": total, "pages": pages, "links": links}


def _listing(data: list, paging: dict):
    return json_response({"data": data, **paging})


# --- Endpoints -------------------------------------------------------------------------------


@bp.route("/openapi.json")
def openapi():
    """The OpenAPI 3.1 description of this API (public: it holds no data)."""
    _allow_only()
    return json_response(openapi_document())


@bp.route("/catalogue")
def catalogue():
    _allow_only("year", "segment", *PAGING)
    year = _year_arg(clock.today().year)
    segment = _segment_arg()
    statement = scoped(select(StandardTrajectory), StandardTrajectory).where(StandardTrajectory.year == year)
    if segment:
        statement = statement.where(StandardTrajectory.segment_key == segment)
    statement = statement.order_by(StandardTrajectory.segment_key, StandardTrajectory.code, StandardTrajectory.id)
    trajectories, paging = _page(statement)
    provider_id = current_user.organisation.id if current_user.role in roles.PROVIDER_ROLES else None
    return _listing(serializers.catalogue_items(trajectories, current_registry(), provider_id), paging)


@bp.route("/framework-agreements")
def framework_agreements():
    _require_role(FRAMEWORK_READERS, "Raamovereenkomsten")
    _allow_only("domain", "lot", *PAGING)
    domain = _choice_arg("domain", current_registry().domains.keys())
    lot = _choice_arg("lot", ("regional", "local", "open_house"))
    statement = scoped(select(FrameworkAgreement), FrameworkAgreement)
    if domain:
        statement = statement.where(FrameworkAgreement.domain == domain)
    if lot:
        statement = statement.where(FrameworkAgreement.lot == lot)
    statement = statement.order_by(FrameworkAgreement.reference, FrameworkAgreement.id)
    agreements, paging = _page(statement)
    return _listing(serializers.framework_agreements(agreements, current_registry(), clock.today()), paging)


@bp.route("/framework-agreements/<int:agreement_id>")
def framework_agreement(agreement_id: int):
    _require_role(FRAMEWORK_READERS, "Raamovereenkomsten")
    _allow_only()
    agreement = get_scoped_or_404(FrameworkAgreement, agreement_id)
    [item] = serializers.framework_agreements([agreement], current_registry(), clock.today(), with_evaluations=True)
    return json_response(item)


@bp.route("/budget-agreements")
def budget_agreements():
    _allow_only("year", "municipality", "segment", *PAGING)
    year = _year_arg(None)
    segment = _segment_arg()
    municipality = request.args.get("municipality") or None
    if municipality is not None and not CBS_CODE.match(municipality):
        raise ApiError(400, "'municipality' is de CBS-gemeentecode van 4 cijfers, bijvoorbeeld 0983.",
                       "municipality")
    statement = scoped(select(BudgetAgreement), BudgetAgreement)
    if year is not None:
        statement = statement.where(BudgetAgreement.year == year)
    if segment:
        statement = statement.where(BudgetAgreement.segment_key == segment)
    if municipality:
        statement = statement.where(BudgetAgreement.municipality_id.in_(
            select(Organisation.id).where(Organisation.municipality_code == municipality)))
    statement = statement.order_by(BudgetAgreement.year.desc(), BudgetAgreement.segment_key,
                                   BudgetAgreement.municipality_id, BudgetAgreement.id)
    agreements, paging = _page(statement)
    return _listing(serializers.budget_agreements(agreements, current_registry()), paging)


@bp.route("/budget-agreements/<int:agreement_id>")
def budget_agreement(agreement_id: int):
    _allow_only()
    agreement = get_scoped_or_404(BudgetAgreement, agreement_id)
    [item] = serializers.budget_agreements([agreement], current_registry())
    return json_response(item)


# --- Custom trajectory proposals (maatwerk) ----------------------------------------------------

PROPOSAL_READERS = frozenset({*roles.PROVIDER_ROLES, roles.CONTRACT_MANAGER, roles.AUDITOR})
NEW_PROPOSAL_FIELDS = ("standard_trajectory_id", "title", "intensity", "intensity_period", "duration_months",
                       "expected_per_year", "extra", "substantiation", "submission_key")
KEY_TAKEN = "Deze submission_key is al gebruikt; kies een andere."


def _invalid(field: str | None, message: str):
    error = {"code": "invalid", "message": message}
    if field:
        error["field"] = field
    return json_response({"error": error}, 422)


@bp.route("/proposals", methods=["GET", "POST"])
def proposals():
    """The proposals the token's organisation may see (GET, newest change first), or a new one (POST)."""
    if request.method == "POST":
        return _submit_proposal()
    _require_role(PROPOSAL_READERS, "Maatwerkvoorstellen")
    _allow_only("state", *PAGING)
    state = _choice_arg("state", LABELS.keys())
    found, paging = _page(proposal_queries.listing(state))
    return _listing(serializers.proposals(proposal_queries.summaries(found)), paging)


def _new_proposal() -> dict:
    """The JSON body of a new proposal, checked for shape and types (numbers as the API writes
    them: whole numbers as integers, the intensity as a decimal string), as the arguments of
    :func:`portal.proposals.service.propose`. :class:`RuleViolation` names the field at fault."""
    body = request.get_json(silent=True)
    if not isinstance(body, dict):
        raise ApiError(400, "Stuur een JSON-object mee (Content-Type: application/json).")
    unknown = sorted(set(body) - set(NEW_PROPOSAL_FIELDS))
    if unknown:
        raise RuleViolation(unknown[0], f"Onbekend veld '{unknown[0]}'.")
    for name in ("standard_trajectory_id", "title", "intensity", "intensity_period", "duration_months",
                 "expected_per_year", "substantiation"):
        if body.get(name) in (None, ""):
            raise RuleViolation(name, f"Het veld '{name}' is verplicht.")
    for name in ("standard_trajectory_id", "duration_months", "expected_per_year"):
        if isinstance(body[name], bool) or not isinstance(body[name], int):
            raise RuleViolation(name, f"'{name}' moet een geheel getal zijn.")
    if body["expected_per_year"] < 1:
        raise RuleViolation("expected_per_year", "Het verwachte aantal trajecten per jaar moet minstens 1 zijn.")
    if isinstance(body["intensity"], float) or not isinstance(body["intensity"], (str, int)):
        raise RuleViolation("intensity", "Geef de intensiteit als decimale tekenreeks, bijvoorbeeld \"2.5\".")
    try:
        intensity = Decimal(str(body["intensity"]))
        if not intensity.is_finite():
            raise InvalidOperation
    except InvalidOperation:
        raise RuleViolation("intensity", "De intensiteit is geen getal.") from None
    if body["intensity_period"] not in ("week", "month"):
        raise RuleViolation("intensity_period", "De periode is 'week' of 'month'.")
    extra = body.get("extra") or {}
    if not isinstance(extra, dict):
        raise RuleViolation("extra", "'extra' is een object met de velden van het segment.")
    for name in ("title", "substantiation", "submission_key"):
        if name in body and not isinstance(body[name], str):
            raise RuleViolation(name, f"'{name}' moet tekst zijn.")
    key = body.get("submission_key") or None
    if key is not None and len(key) > 64:
        raise RuleViolation("submission_key", "De submission_key is hoogstens 64 tekens.")
    values = {"intensity": intensity, "intensity_period": body["intensity_period"],
              "duration_months": body["duration_months"], "expected_per_year": body["expected_per_year"],
              "extra": {str(k): str(v) for k, v in extra.items()}, "substantiation": body["substantiation"].strip()}
    return {"standard_trajectory_id": body["standard_trajectory_id"], "title": body["title"], "values": values,
            "submission_key": key}


def _submit_proposal():
    """Start and submit a proposal in one go (a provider's token), through the same service as
    the screen's new proposal; the same ``submission_key`` again answers 200 with the first one."""
    if current_user.role not in roles.PROVIDER_ROLES:
        raise ApiError(403, "Alleen een zorgaanbieder kan een maatwerkvoorstel indienen.")
    try:
        given = _new_proposal()
        outcome = proposal_service.propose(current_user.organisation, current_user, **given, submit_now=True)
    except (RuleViolation, TransitionRefused) as error:
        db.session().rollback()
        if isinstance(error, TransitionRefused):
            raise ApiError(409, error.message) from None
        if isinstance(error, proposal_service.SubmissionKeyTaken):  # the caller chose the key: say so
            return _invalid("submission_key", KEY_TAKEN)
        return _invalid(error.field, error.message)
    db.session().commit()
    return json_response(serializers.proposal(proposal_queries.summary(outcome.proposal)),
                         201 if outcome.created else 200)


# --- Realisation -------------------------------------------------------------------------------

MAX_REALISATION_ROWS = 10_000
REALISATION_STATES = ("submitted", "approved", "rejected", "superseded")
REALISATION_CONFLICT = "De realisatie is intussen gewijzigd; stuur de regels opnieuw."


def _realisation_body() -> list[dict]:
    """The ``rows`` of the body, checked for shape: a non-empty list of at most
    ``MAX_REALISATION_ROWS`` objects. Numbers are read exactly (never as floats)."""
    try:
        body = json.loads(request.get_data(cache=False) or b"null", parse_float=Decimal)
    except (ValueError, RecursionError):
        raise ApiError(400, "De inhoud is geen geldige JSON.") from None
    if not isinstance(body, dict):
        raise ApiError(400, "Stuur een JSON-object mee: {\"rows\": [{...}, ...]} (Content-Type: application/json).")
    unknown = sorted(set(body) - {"rows"})
    if unknown:
        raise ApiError(400, f"Onbekend veld '{unknown[0]}'; het object heeft alleen 'rows'.")
    rows = body.get("rows")
    if not isinstance(rows, list) or not rows:
        raise ApiError(400, "'rows' is een niet-lege lijst met één object per regel.")
    if len(rows) > MAX_REALISATION_ROWS:
        raise ApiError(400, f"Hoogstens {MAX_REALISATION_ROWS:,} regels per verzoek; u stuurde er "
                            f"{len(rows):,}. Splits ze, of lever een bestand aan.".replace(",", "."))
    for number, row in enumerate(rows, start=1):
        if not isinstance(row, dict):
            raise ApiError(400, f"Regel {number} is geen object; elke regel is een object met kolommen.")
    return rows


def _realisation_row_errors(rows: list[dict]) -> list[dict]:
    """Cells the pipeline cannot read: unknown or repeated columns, values that are not a string,
    a number or null (empty)."""
    specs = [current_registry().realisation_spec(key) for key in current_registry().segments]
    allowed = allowed_columns(specs)
    errors = []
    for number, row in enumerate(rows, start=1):
        seen = set()
        for name, value in row.items():
            key = column_key(name)
            if key not in allowed:
                errors.append({"row": number, "column": str(name)[:50],
                               "message": f"Onbekende kolom '{str(name)[:50]}'."})
            elif key in seen:
                errors.append({"row": number, "column": key,
                               "message": f"De kolom '{key}' staat twee keer in de regel."})
            seen.add(key)
            if value is not None and (isinstance(value, bool) or not isinstance(value, (str, int, Decimal))):
                errors.append({"row": number, "column": key,
                               "message": "Geef een tekst of een getal (of null voor leeg)."})
    return errors


def _realisation_refused(errors: list[dict], error_count: int):
    message = (f"{error_count} {'fout' if error_count == 1 else 'fouten'} gevonden; niets is opgeslagen. "
               "Verbeter de regels en stuur ze opnieuw.")
    return json_response({"error": {"code": "invalid", "message": message}, "errors": errors,
                          "error_count": error_count}, 422)


@bp.route("/realisation", methods=["GET", "POST"])
def realisation():
    if request.method == "POST":
        return _submit_realisation()
    _allow_only("year", "segment", "state", *PAGING)
    year = _year_arg(None)
    segment = _segment_arg()
    state = _choice_arg("state", REALISATION_STATES)
    statement = scoped(select(RealisationReport), RealisationReport)
    if year is not None:
        statement = statement.where(RealisationReport.year == year)
    if segment:
        statement = statement.where(RealisationReport.segment_key == segment)
    if state:
        statement = statement.where(RealisationReport.state == state)
    else:  # a superseded version no longer counts; ask for it by name
        statement = statement.where(RealisationReport.state != "superseded")
    statement = statement.order_by(RealisationReport.year.desc(), RealisationReport.period_kind,
                                   RealisationReport.period.desc(), RealisationReport.segment_key,
                                   RealisationReport.municipality_id, RealisationReport.version.desc(),
                                   RealisationReport.id)
    reports, paging = _page(statement)
    return _listing(serializers.realisation_reports(reports, current_registry()), paging)


@bp.route("/realisation/<int:report_id>")
def realisation_report(report_id: int):
    _allow_only()
    report = get_scoped_or_404(RealisationReport, report_id)
    [item] = serializers.realisation_reports([report], current_registry(), with_lines=True)
    return json_response(item)


def _submit_realisation():
    """Rows of realisation from a provider's own system: all or nothing, through the same checks
    as a file (:func:`portal.realisation.importing.submit_rows`)."""
    if current_user.role not in roles.PROVIDER_ROLES:
        raise ApiError(403, "Alleen een zorgaanbieder levert realisatie aan.")
    _allow_only()
    rows = _realisation_body()
    errors = _realisation_row_errors(rows)
    if errors:
        return _realisation_refused(errors[:1000], len(errors))
    cleaned = [{column_key(name): value for name, value in row.items() if value is not None} for row in rows]
    upload, result = submit_rows(current_user.organisation, current_user.user, cleaned, "api")
    if not result.ok:
        errors = [{"row": e.row, "column": e.column, "message": e.message} for e in result.errors]
        return _realisation_refused(errors, result.error_count)
    if upload.state != "stored":  # refused while storing: someone approved a period meanwhile
        raise ApiError(409, upload.message or REALISATION_CONFLICT)
    reports = list(db.session().exec(select(RealisationReport).where(RealisationReport.upload_id == upload.id)
                                     .order_by(RealisationReport.id)).all())
    return json_response({"upload_id": upload.id, "rows": result.rows,
                          "reports": serializers.realisation_reports(reports, current_registry())}, 201)



# --- Settlement preview and cost allocation (issue 6) ------------------------------------------

# The population key is the region's: municipalities, contract managers and auditors read it;
# providers do not pay these costs and get 403. The settlement preview is a calculator on the
# caller's own scenario (nothing is read from the database), so every token may use it.
COST_ALLOCATION_READERS = frozenset({roles.CONTRACT_MANAGER, roles.MUNICIPALITY_USER, roles.AUDITOR})
PLAIN_AMOUNT = re.compile(r"\d{1,15}(\.\d{1,2})?")


@bp.route("/settlement/preview", methods=["POST"])
def settlement_preview():
    """Settle a self-contained scenario (:mod:`portal.settlement.scenario`); 422 names the agreement
    and field at fault."""
    _allow_only()
    body = request.get_data(cache=False)
    if not body.strip():
        raise ApiError(400, "Stuur het scenario mee als JSON-object (Content-Type: application/json).")
    try:
        scenario = load_json(body)
    except ValueError as error:
        raise ApiError(400, f"De inhoud is geen geldige JSON: {error}.") from None
    try:
        result = preview(scenario)
    except ScenarioError as error:
        detail = {"code": "invalid", "message": f"{error}.", "field": error.field}
        if error.agreement_id is not None:
            detail["agreement"] = error.agreement_id
        return json_response({"error": detail}, 422)
    return json_response(result)


@bp.route("/cost-allocation")
def cost_allocation():
    """Split an amount over the municipalities of the token's region by the population key."""
    _require_role(COST_ALLOCATION_READERS, "Kostenverdelingen")
    _allow_only("amount", "method")
    raw = request.args.get("amount", "")
    if not PLAIN_AMOUNT.fullmatch(raw):  # plain for machines: "100.000" is not guessed at
        raise ApiError(400, "'amount' is een bedrag in euro van 0 of meer met een punt als decimaalteken en "
                            "hoogstens twee decimalen, bijvoorbeeld 215000 of 215000.00.", "amount")
    amount = Decimal(raw)
    method = _choice_arg("method", METHODS) or "table"
    region = current_user.region
    try:
        found, residents = residents_of(region.id)
        allocation = allocate(amount, residents, method)
    except (PopulationMissing, ValueError) as error:
        return _invalid(None, str(error))
    return json_response(allocation_json(region, found, allocation))
