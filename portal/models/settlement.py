"""The yearly settlement (afrekening) as it is run, published, answered and made final.

A run settles one region's year in one version: one line per budget agreement (provider ×
municipality × segment) with the engine's inputs, the settled value, the amount due and the
explanation, and one cost share per municipality (shared regional costs by realisation, program
costs by the population key). A re-run is a new version of the same region and year; the runs it
replaces stay on record as ``superseded``. A final run, its lines and its cost shares never change
(see :mod:`portal.settlement.runs`, which guards them).
"""
from __future__ import annotations

from datetime import datetime
from decimal import Decimal
from typing import Any

from sqlalchemy import JSON, Column, Text, UniqueConstraint
from sqlmodel import Field, SQLModel

from portal.models.core import utcnow
from portal.models.types import ExactDecimal


class SettlementRun(SQLModel, table=True):
    """One version of a region's settlement of a year.

    ``state``: draft | published | final | superseded. ``shared_costs`` are the region's shared
    costs split over the municipalities by their share of realisation, ``program_costs`` those split
    by the population key. ``final_reason`` is the contract manager's reason for making the run
    final while a provider disputed it or had not answered."""

    __tablename__ = "settlement_run"
    __scope__ = "region_id"
    __table_args__ = (UniqueConstraint("region_id", "year", "version", name="uq_settlement_run_version"),)

    id: int | None = Field(default=None, primary_key=True)
    region_id: int = Field(foreign_key="region.id", index=True)
    year: int
    version: int = Field(default=1)
    state: str = Field(default="draft", max_length=16, index=True)
    shared_costs: Decimal = Field(default=Decimal("0.00"), sa_column=Column(ExactDecimal(14, 2), nullable=False))
    program_costs: Decimal = Field(default=Decimal("0.00"), sa_column=Column(ExactDecimal(14, 2), nullable=False))
    note: str = Field(default="", sa_column=Column(Text, nullable=False))
    final_reason: str | None = Field(default=None, sa_column=Column(Text))
    previous_id: int | None = Field(default=None, foreign_key="settlement_run.id")
    lock_version: int = Field(default=1)
    created_by: int | None = Field(default=None, foreign_key="user.id")
    created_at: datetime = Field(default_factory=utcnow)
    published_by: int | None = Field(default=None, foreign_key="user.id")
    published_at: datetime | None = Field(default=None)
    finalised_by: int | None = Field(default=None, foreign_key="user.id")
    finalised_at: datetime | None = Field(default=None)


class SettlementLine(SQLModel, table=True):
    """One agreement's settlement in a run. ``inputs`` holds what the engine was given (amounts as
    strings, the rules and the result figures), so the line can be explained and recomputed."""

    __tablename__ = "settlement_line"
    __scope__ = ("organisation_id", "municipality_id")
    __table_args__ = (UniqueConstraint("run_id", "budget_agreement_id", name="uq_settlement_line"),)

    id: int | None = Field(default=None, primary_key=True)
    run_id: int = Field(foreign_key="settlement_run.id", index=True)
    budget_agreement_id: int = Field(foreign_key="budget_agreement.id", index=True)
    organisation_id: int = Field(foreign_key="organisation.id", index=True)
    municipality_id: int = Field(foreign_key="organisation.id", index=True)
    segment_key: str = Field(max_length=64)
    kind: str = Field(max_length=16)  # budget | ceiling | population | places
    inputs: dict[str, Any] = Field(default_factory=dict, sa_column=Column(JSON, nullable=False))
    realisation: Decimal = Field(sa_column=Column(ExactDecimal(14, 2), nullable=False))
    settled_value: Decimal = Field(sa_column=Column(ExactDecimal(14, 2), nullable=False))
    paid: Decimal = Field(sa_column=Column(ExactDecimal(14, 2), nullable=False))
    due: Decimal = Field(sa_column=Column(ExactDecimal(14, 2), nullable=False))
    explanation: list[str] = Field(default_factory=list, sa_column=Column(JSON, nullable=False))


class SettlementResponse(SQLModel, table=True):
    """A provider's answer to its statement in a published run: accepted, or disputed with a
    reason. A dispute may later turn into an acceptance; an acceptance is the last word."""

    __tablename__ = "settlement_response"
    __scope__ = "organisation_id"
    __table_args__ = (UniqueConstraint("run_id", "organisation_id", name="uq_settlement_response"),)

    id: int | None = Field(default=None, primary_key=True)
    run_id: int = Field(foreign_key="settlement_run.id", index=True)
    organisation_id: int = Field(foreign_key="organisation.id", index=True)
    state: str = Field(max_length=16)  # accepted | disputed
    reason: str | None = Field(default=None, sa_column=Column(Text))
    responded_by: int | None = Field(default=None, foreign_key="user.id")
    responded_at: datetime = Field(default_factory=utcnow)


class SettlementCostShare(SQLModel, table=True):
    """A municipality's part of the region's shared costs (by its share of the approved
    realisation) and program costs (by the population key) in a run."""

    __tablename__ = "settlement_cost_share"
    __scope__ = "municipality_id"
    __table_args__ = (UniqueConstraint("run_id", "municipality_id", name="uq_settlement_cost_share"),)

    id: int | None = Field(default=None, primary_key=True)
    run_id: int = Field(foreign_key="settlement_run.id", index=True)
    municipality_id: int = Field(foreign_key="organisation.id", index=True)
    residents: int | None = Field(default=None)
    population_share: Decimal | None = Field(default=None, sa_column=Column(ExactDecimal(7, 2)))
    realisation: Decimal = Field(sa_column=Column(ExactDecimal(14, 2), nullable=False))
    shared_costs: Decimal = Field(sa_column=Column(ExactDecimal(14, 2), nullable=False))
    program_costs: Decimal = Field(sa_column=Column(ExactDecimal(14, 2), nullable=False))
