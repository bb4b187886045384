"""What a provider agreed with the region: framework agreements (with their bow-wave history),
budget agreements and ceilings per municipality, extra capacity, and each municipality's choices
per segment. Also the API tokens that read them."""
from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal
from typing import Any

from sqlalchemy import JSON, BigInteger, Column, Text, UniqueConstraint
from sqlmodel import Field, SQLModel

from portal.models.core import utcnow
from portal.models.types import ExactDecimal


class FrameworkAgreement(SQLModel, table=True):
    """A provider's framework agreement (raamovereenkomst) for one domain and lot.

    Its end date follows from the start, the initial term, the extension options used and, under
    the bow-wave principle, the evaluations (see :mod:`portal.contracts.terms`)."""

    __tablename__ = "framework_agreement"
    __scope__ = "organisation_id"

    id: int | None = Field(default=None, primary_key=True)
    region_id: int = Field(foreign_key="region.id", index=True)
    organisation_id: int = Field(foreign_key="organisation.id", index=True)
    reference: str = Field(max_length=64)
    domain: str = Field(max_length=32)
    lot: str = Field(max_length=16)  # regional | local | open_house
    contract_form: str = Field(max_length=1)  # a | b | c | d (DOMAIN.md §4)
    start_date: date
    initial_years: int
    extension_options: list[int] = Field(default_factory=list, sa_column=Column(JSON, nullable=False))
    extensions_used: int = Field(default=0)
    bow_wave: bool = Field(default=False)
    terminated_on: date | None = Field(default=None)
    # The contract value (opdrachtwaarde) over the whole agreement, in whole cents; None while
    # unknown. Obligations such as social return are a share of it (``portal_agreement_obligations``).
    contract_value_cents: int | None = Field(default=None, sa_column=Column(BigInteger, nullable=True))
    created_at: datetime = Field(default_factory=utcnow)


class FrameworkSegment(SQLModel, table=True):
    """A segment a framework agreement covers."""

    __tablename__ = "framework_segment"
    __table_args__ = (UniqueConstraint("framework_agreement_id", "segment_key", name="uq_framework_segment"),)

    id: int | None = Field(default=None, primary_key=True)
    framework_agreement_id: int = Field(foreign_key="framework_agreement.id", index=True)
    segment_key: str = Field(max_length=64)


class BowWaveEvaluation(SQLModel, table=True):
    """One yearly evaluation under the bow-wave principle, with the end date before and after."""

    __tablename__ = "bow_wave_evaluation"
    __table_args__ = (UniqueConstraint("framework_agreement_id", "year", name="uq_bow_wave_year"),)

    id: int | None = Field(default=None, primary_key=True)
    framework_agreement_id: int = Field(foreign_key="framework_agreement.id", index=True)
    year: int
    satisfactory: bool
    end_before: date
    end_after: date
    note: str = Field(default="", sa_column=Column(Text, nullable=False))
    decided_by: int | None = Field(default=None, foreign_key="user.id")
    decided_at: datetime = Field(default_factory=utcnow)


class ObligationReport(SQLModel, table=True):
    """What a provider realised of one obligation of a framework agreement (social return, say)
    in one year, in whole cents. One row per agreement × obligation × year: a correction replaces
    the figures (the audit trail keeps the before and after)."""

    __tablename__ = "obligation_report"
    __scope__ = "organisation_id"
    __table_args__ = (UniqueConstraint("framework_agreement_id", "obligation_id", "year",
                                       name="uq_obligation_report"),)

    id: int | None = Field(default=None, primary_key=True)
    region_id: int = Field(foreign_key="region.id", index=True)
    organisation_id: int = Field(foreign_key="organisation.id", index=True)
    framework_agreement_id: int = Field(foreign_key="framework_agreement.id", index=True)
    obligation_id: str = Field(max_length=64)
    year: int
    realised_cents: int = Field(sa_column=Column(BigInteger, nullable=False))
    note: str = Field(default="", sa_column=Column(Text, nullable=False))
    reported_by: int | None = Field(default=None, foreign_key="user.id")
    reported_at: datetime = Field(default_factory=utcnow)


class BudgetAgreement(SQLModel, table=True):
    """An additional agreement of a regional provider with one municipality for one segment and
    year: a budget agreement (budget, advances, bandwidth) or a budget ceiling."""

    __tablename__ = "budget_agreement"
    __scope__ = ("organisation_id", "municipality_id")
    __table_args__ = (
        UniqueConstraint("organisation_id", "municipality_id", "segment_key", "year",
                         name="uq_budget_agreement"),
    )

    id: int | None = Field(default=None, primary_key=True)
    region_id: int = Field(foreign_key="region.id", index=True)
    organisation_id: int = Field(foreign_key="organisation.id", index=True)
    municipality_id: int = Field(foreign_key="organisation.id", index=True)
    framework_agreement_id: int = Field(foreign_key="framework_agreement.id")
    segment_key: str = Field(max_length=64)
    year: int
    kind: str = Field(max_length=16)  # budget | ceiling
    amount: Decimal = Field(sa_column=Column(ExactDecimal(14, 2), nullable=False))
    bandwidth_percentage: Decimal | None = Field(default=None, sa_column=Column(ExactDecimal(5, 2)))
    advance_installments: int | None = Field(default=None)  # 12 monthly, 4 quarterly, 1 yearly
    created_at: datetime = Field(default_factory=utcnow)
    updated_at: datetime = Field(default_factory=utcnow)


class ExtraCapacity(SQLModel, table=True):
    """Capacity bought outside the framework because framework providers cannot deliver; its
    value may never pass 10% of the contracted value of the segment and year."""

    __tablename__ = "extra_capacity"
    __scope__ = ("organisation_id", "municipality_id")

    id: int | None = Field(default=None, primary_key=True)
    region_id: int = Field(foreign_key="region.id", index=True)
    organisation_id: int = Field(foreign_key="organisation.id", index=True)
    municipality_id: int | None = Field(default=None, foreign_key="organisation.id")
    segment_key: str = Field(max_length=64)
    year: int
    amount: Decimal = Field(sa_column=Column(ExactDecimal(14, 2), nullable=False))
    reason: str = Field(sa_column=Column(Text, nullable=False))
    created_at: datetime = Field(default_factory=utcnow)


class MunicipalChoice(SQLModel, table=True):
    """A municipality's choice for one segment from a date on: the lots it joins, whether it buys
    trajectories or places, and its one funding form. A new choice is a new row (versioned)."""

    __tablename__ = "municipal_choice"
    __scope__ = "municipality_id"
    __table_args__ = (
        UniqueConstraint("municipality_id", "segment_key", "effective_from", name="uq_municipal_choice"),
    )

    id: int | None = Field(default=None, primary_key=True)
    region_id: int = Field(foreign_key="region.id", index=True)
    municipality_id: int = Field(foreign_key="organisation.id", index=True)
    segment_key: str = Field(max_length=64)
    effective_from: date
    lots: list[str] = Field(default_factory=list, sa_column=Column(JSON, nullable=False))
    volume_basis: str = Field(max_length=16)  # trajectories | places
    funding_form: str = Field(max_length=32)
    details: dict[str, Any] | None = Field(default=None, sa_column=Column(JSON))
    created_by: int | None = Field(default=None, foreign_key="user.id")
    created_at: datetime = Field(default_factory=utcnow)


class ApiToken(SQLModel, table=True):
    """A bearer token for the JSON API; only its SHA-256 is stored. Revoked tokens stay on record."""

    __tablename__ = "api_token"

    id: int | None = Field(default=None, primary_key=True)
    token_hash: str = Field(max_length=64, unique=True)
    user_id: int = Field(foreign_key="user.id", index=True)
    membership_id: int = Field(foreign_key="membership.id")
    label: str = Field(default="", max_length=200)
    created_at: datetime = Field(default_factory=utcnow)
    last_used_at: datetime | None = Field(default=None)
    revoked_at: datetime | None = Field(default=None)
