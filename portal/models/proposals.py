"""Custom trajectory proposals (maatwerktrajecten): the negotiation between a regional provider
and the region, version by version, and the custom trajectories that approval creates."""
from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal
from typing import Any

from sqlalchemy import JSON, Column, Text, UniqueConstraint
from sqlmodel import Field, SQLModel

from portal.models.core import utcnow
from portal.models.types import ExactDecimal


class Proposal(SQLModel, table=True):
    """A provider's proposal to differ from a standard trajectory, and where its negotiation is.

    ``lock_version`` grows with every change; a request that acted on an older one is refused
    (optimistic locking). ``submission_key`` makes a double submit of the new-proposal form
    create one proposal."""

    __scope__ = "organisation_id"

    id: int | None = Field(default=None, primary_key=True)
    region_id: int = Field(foreign_key="region.id", index=True)
    organisation_id: int = Field(foreign_key="organisation.id", index=True)
    framework_agreement_id: int = Field(foreign_key="framework_agreement.id")
    standard_trajectory_id: int = Field(foreign_key="standard_trajectory.id")
    segment_key: str = Field(max_length=64, index=True)
    state: str = Field(max_length=16, index=True)  # draft|submitted|in_negotiation|approved|rejected|withdrawn
    title: str = Field(max_length=200)
    current_version: int = Field(default=1)
    lock_version: int = Field(default=1)
    submission_key: str = Field(max_length=64, unique=True)
    rejection_reason: str | None = Field(default=None, sa_column=Column(Text))
    created_by: int | None = Field(default=None, foreign_key="user.id")
    created_at: datetime = Field(default_factory=utcnow)
    submitted_at: datetime | None = Field(default=None)
    updated_at: datetime = Field(default_factory=utcnow)
    decided_at: datetime | None = Field(default=None)


class ProposalVersion(SQLModel, table=True):
    """One round of the negotiation: the parameters proposed, by which side, and why."""

    __tablename__ = "proposal_version"
    __table_args__ = (UniqueConstraint("proposal_id", "number", name="uq_proposal_version"),)

    id: int | None = Field(default=None, primary_key=True)
    proposal_id: int = Field(foreign_key="proposal.id", index=True)
    number: int
    side: str = Field(max_length=16)  # provider | region
    author_id: int | None = Field(default=None, foreign_key="user.id")
    intensity: Decimal = Field(sa_column=Column(ExactDecimal(8, 2), nullable=False))
    intensity_period: str = Field(max_length=8)
    duration_months: int
    expected_per_year: int  # trajectories a year the provider expects to deliver
    extra: dict[str, Any] | None = Field(default=None, sa_column=Column(JSON))
    substantiation: str = Field(default="", sa_column=Column(Text, nullable=False))
    comment: str = Field(default="", sa_column=Column(Text, nullable=False))
    accepted_by_provider: bool = Field(default=False)
    created_at: datetime = Field(default_factory=utcnow)


class ProposalAttachment(SQLModel, table=True):
    """A file with a proposal version, stored outside the web root under a generated name."""

    __tablename__ = "proposal_attachment"

    id: int | None = Field(default=None, primary_key=True)
    proposal_id: int = Field(foreign_key="proposal.id", index=True)
    version_number: int
    original_name: str = Field(max_length=255)
    stored_name: str = Field(max_length=64, unique=True)
    content_type: str = Field(max_length=100)
    size: int
    sha256: str = Field(max_length=64)
    uploaded_by: int | None = Field(default=None, foreign_key="user.id")
    created_at: datetime = Field(default_factory=utcnow)


class ProposalApproval(SQLModel, table=True):
    """A contract manager's approval of one version (four eyes: two different managers above the
    threshold)."""

    __tablename__ = "proposal_approval"
    __table_args__ = (
        UniqueConstraint("proposal_id", "version_number", "user_id", name="uq_proposal_approval"),
    )

    id: int | None = Field(default=None, primary_key=True)
    proposal_id: int = Field(foreign_key="proposal.id", index=True)
    version_number: int
    user_id: int = Field(foreign_key="user.id")
    at: datetime = Field(default_factory=utcnow)


class CustomTrajectory(SQLModel, table=True):
    """An approved custom trajectory: an additional agreement of the provider, valid for every
    regional municipality from ``valid_from``; it can be realised like a standard trajectory."""

    __tablename__ = "custom_trajectory"
    __scope__ = "organisation_id"

    id: int | None = Field(default=None, primary_key=True)
    region_id: int = Field(foreign_key="region.id", index=True)
    organisation_id: int = Field(foreign_key="organisation.id", index=True)
    proposal_id: int = Field(foreign_key="proposal.id", unique=True)
    standard_trajectory_id: int = Field(foreign_key="standard_trajectory.id")
    segment_key: str = Field(max_length=64)
    code: str = Field(max_length=40)
    name: str = Field(max_length=200)
    intensity: Decimal = Field(sa_column=Column(ExactDecimal(8, 2), nullable=False))
    intensity_period: str = Field(max_length=8)
    duration_months: int
    extra: dict[str, Any] | None = Field(default=None, sa_column=Column(JSON))
    valid_from: date
    valid_until: date | None = Field(default=None)
    created_at: datetime = Field(default_factory=utcnow)
