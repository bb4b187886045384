"""What the proposal screens and the API read: a provider's proposals and the standard trajectories
it may start from, one proposal's thread and page, the price previews, the contract managers'
review queue and the facts the API writes about each proposal.

Nothing here writes. Every query for an organisation's data goes through
:func:`portal.accounts.scoping.scoped`, or starts from an object that did (a proposal the caller
got with :func:`~portal.accounts.scoping.get_scoped_or_404`). The rules and the steps are
:mod:`portal.proposals.service`."""
from __future__ import annotations

from dataclasses import dataclass
from datetime import timezone

from sqlmodel import select

from portal import clock, db
from portal.accounts.scoping import scoped
from portal.models import (
    CustomTrajectory,
    FrameworkAgreement,
    FrameworkSegment,
    Organisation,
    Proposal,
    ProposalAttachment,
    ProposalVersion,
    StandardTrajectory,
    User,
)
from portal.proposals import service
from portal.validators import RuleViolation

# What a price preview of half-typed values may run into; the screen shows a problem instead.
PREVIEW_PROBLEMS = (RuleViolation, ValueError, ArithmeticError, ImportError, AttributeError, TypeError)
NO_PRICE = "Met deze waarden is geen prijs te berekenen."


# --- Lists -----------------------------------------------------------------------------------


def listing(state: str | None = None, organisation_id: int | None = None):
    """The statement of the proposals the signed-in organisation may see, the last changed first;
    only ``state`` and only ``organisation_id``'s when given. A statement, so the API can page it."""
    statement = scoped(select(Proposal), Proposal)
    if organisation_id is not None:
        statement = statement.where(Proposal.organisation_id == organisation_id)
    if state:
        statement = statement.where(Proposal.state == state)
    return statement.order_by(Proposal.updated_at.desc(), Proposal.id.desc())


def own_proposals(provider: Organisation, state: str | None = None) -> list[Proposal]:
    """The provider's own proposals (in ``state`` when given), the last changed first."""
    return list(db.session().exec(listing(state, provider.id)).all())


def contracted_trajectories(provider: Organisation) -> list[StandardTrajectory]:
    """Standard trajectories (the latest catalogue year of each segment) of the segments the
    provider has a regional-lot framework agreement for. The services refuse anything else; this
    only keeps the choice short."""
    segments = select(FrameworkSegment.segment_key).join(
        FrameworkAgreement, FrameworkAgreement.id == FrameworkSegment.framework_agreement_id).where(
        FrameworkAgreement.organisation_id == provider.id,
        FrameworkAgreement.lot == "regional", FrameworkAgreement.terminated_on.is_(None))
    statement = scoped(select(StandardTrajectory), StandardTrajectory).where(
        StandardTrajectory.segment_key.in_(segments))
    found = db.session().exec(statement.order_by(StandardTrajectory.segment_key, StandardTrajectory.year.desc(),
                                                 StandardTrajectory.code)).all()
    latest_year: dict[str, int] = {}
    for trajectory in found:
        latest_year.setdefault(trajectory.segment_key, trajectory.year)
    return [t for t in found if t.year == latest_year[t.segment_key]]


def offered_trajectory(trajectory_id: int | None) -> StandardTrajectory | None:
    """The standard trajectory with this id in the signed-in organisation's catalogue, or None."""
    if not trajectory_id:
        return None
    return db.session().exec(scoped(select(StandardTrajectory), StandardTrajectory)
                             .where(StandardTrajectory.id == trajectory_id)).first()


# --- One proposal ----------------------------------------------------------------------------


def standard_of(proposal: Proposal) -> StandardTrajectory | None:
    """The standard trajectory the proposal departs from."""
    return db.session().get(StandardTrajectory, proposal.standard_trajectory_id)


def custom_trajectory_of(proposal: Proposal) -> CustomTrajectory | None:
    """The custom trajectory the proposal's approval created, or None (not approved)."""
    return db.session().exec(select(CustomTrajectory).where(CustomTrajectory.proposal_id == proposal.id)).first()


def attachment_of(proposal: Proposal, attachment_id: int) -> ProposalAttachment | None:
    """The proposal's attachment with this id; None for an unknown id or another proposal's."""
    attachment = db.session().get(ProposalAttachment, attachment_id)
    if attachment is None or attachment.proposal_id != proposal.id:
        return None
    return attachment


def thread(proposal: Proposal) -> list[dict]:
    """The versions oldest first, each as ``{"version", "author", "changes", "attachments"}``:
    its author, what changed from the version before and the files added with it."""
    session = db.session()
    versions = service.versions(proposal)
    attachments = session.exec(select(ProposalAttachment).where(
        ProposalAttachment.proposal_id == proposal.id).order_by(ProposalAttachment.id)).all()
    authors = {u.id: u for u in session.exec(select(User).where(
        User.id.in_([v.author_id for v in versions if v.author_id]))).all()}
    rows, previous = [], None
    for version in versions:
        rows.append({"version": version, "author": authors.get(version.author_id),
                     "changes": service.changes(previous, version) if previous is not None else [],
                     "attachments": [a for a in attachments if a.version_number == version.number]})
        previous = version
    return rows


@dataclass(frozen=True)
class ProposalPage:
    """What a proposal's page shows besides its forms."""

    thread: list[dict]
    current: ProposalVersion | None  # the last version of the thread
    trajectory: StandardTrajectory | None
    price: dict | None  # {"total", "yearly"} of the current version, None when no price can be made
    custom: CustomTrajectory | None
    provider: Organisation | None


def proposal_page(proposal: Proposal) -> ProposalPage:
    """The thread, the standard trajectory, the current price, the custom trajectory (once
    approved) and the provider of a proposal the caller may see."""
    rows = thread(proposal)
    current = rows[-1]["version"] if rows else None
    return ProposalPage(
        thread=rows, current=current, trajectory=standard_of(proposal),
        price=None if current is None else current_price(proposal, current),
        custom=custom_trajectory_of(proposal),
        provider=db.session().get(Organisation, proposal.organisation_id))


# --- Prices ----------------------------------------------------------------------------------


def current_price(proposal: Proposal, version: ProposalVersion) -> dict | None:
    """The price of one trajectory with the version's values and the expected value of a year
    (``{"total", "yearly"}``), or None when no price can be made of them."""
    try:
        breakdown = service.price(proposal, service.values_of(version), proposal.organisation_id)
        return {"total": breakdown.total, "yearly": service.yearly_value(breakdown, version.expected_per_year)}
    except (RuleViolation, ValueError, ArithmeticError):
        return None


def price_preview(trajectory: StandardTrajectory | None, values: dict, provider_id: int | None) -> dict | None:
    """The price of the proposed values next to the standard trajectory's: ``{"proposed",
    "standard", "difference", "yearly", "lines"}``; ``{"problem": message}`` when no price can be
    made of them and None while the trajectory, intensity or duration is still missing."""
    if trajectory is None or values.get("intensity") is None or not values.get("duration_months"):
        return None
    try:
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
    except PREVIEW_PROBLEMS as error:
        return {"problem": getattr(error, "message", None) or NO_PRICE}


# --- The review queue ------------------------------------------------------------------------


@dataclass(frozen=True)
class ReviewQueue:
    """The contract managers' queue: one row per proposal, the counts per state and the providers
    to filter on."""

    rows: list[dict]  # {"proposal", "provider" (name), "age" (days since submitted, or None)}
    counts: dict[str, int]
    providers: list[Organisation]


def review_queue(filters: dict, region_id: int) -> ReviewQueue:
    """The region's proposals matching ``filters`` (see :func:`portal.proposals.service.review_queue`)
    with their provider's name and age in days, the counts per state and the providers that
    made proposals in the region."""
    items = service.review_queue(filters)
    counts = service.queue_counts()
    providers = list(db.session().exec(scoped(select(Organisation), Organisation).where(
        Organisation.id.in_(select(Proposal.organisation_id).where(
            Proposal.region_id == region_id))).order_by(Organisation.name)).all())
    names = {p.id: p.name for p in providers}
    now = clock.now()
    rows = []
    for proposal in items:
        since = proposal.submitted_at or proposal.created_at
        if since is not None and since.tzinfo is None:
            since = since.replace(tzinfo=timezone.utc)
        rows.append({"proposal": proposal, "provider": names.get(proposal.organisation_id, ""),
                     "age": max(0, (now - since).days) if since else None})
    return ReviewQueue(rows=rows, counts=counts, providers=providers)


# --- The API's view of a proposal ------------------------------------------------------------


@dataclass(frozen=True)
class ProposalSummary:
    """A proposal with its current version, its provider and its custom trajectory (once approved)."""

    proposal: Proposal
    current: ProposalVersion | None
    provider: Organisation | None
    custom: CustomTrajectory | None


def summaries(proposals: list[Proposal]) -> list[ProposalSummary]:
    """One :class:`ProposalSummary` per proposal (the caller's, already scoped), in three queries
    for the lot."""
    if not proposals:
        return []
    session = db.session()
    ids = [p.id for p in proposals]
    current: dict[int, ProposalVersion] = {}
    for version in session.exec(select(ProposalVersion).where(ProposalVersion.proposal_id.in_(ids))
                                .order_by(ProposalVersion.proposal_id, ProposalVersion.number)).all():
        current[version.proposal_id] = version  # the highest number wins
    providers = {o.id: o for o in session.exec(select(Organisation).where(
        Organisation.id.in_(sorted({p.organisation_id for p in proposals})))).all()}
    customs: dict[int, CustomTrajectory] = {}
    for custom in session.exec(select(CustomTrajectory).where(CustomTrajectory.proposal_id.in_(ids))
                               .order_by(CustomTrajectory.id.desc())).all():
        customs[custom.proposal_id] = custom  # the first made wins
    return [ProposalSummary(p, current.get(p.id), providers.get(p.organisation_id), customs.get(p.id))
            for p in proposals]


def summary(proposal: Proposal) -> ProposalSummary:
    """The :class:`ProposalSummary` of one proposal."""
    return summaries([proposal])[0]
