"""The regional catalogue: care forms, tariffs with dated versions, surcharges and standard
trajectories. Segments are named by their key ``"domain.code"`` as the plugins registered them."""
from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal
from typing import Any

from sqlalchemy import JSON, Column, UniqueConstraint
from sqlmodel import Field, SQLModel

from portal.models.core import utcnow
from portal.models.types import ExactDecimal


def money_column(nullable: bool = False) -> Column:
    return Column(ExactDecimal(14, 2), nullable=nullable)


class CareForm(SQLModel, table=True):
    """A care form (zorgvorm / product group) within one segment of a region."""

    __tablename__ = "care_form"
    __scope__ = "region_id"
    __table_args__ = (UniqueConstraint("region_id", "segment_key", "code", name="uq_care_form_code"),)

    id: int | None = Field(default=None, primary_key=True)
    region_id: int = Field(foreign_key="region.id", index=True)
    segment_key: str = Field(max_length=64)
    code: str = Field(max_length=32)
    name: str = Field(max_length=200)


class Tariff(SQLModel, table=True):
    """A tariff basis: what one unit (hour, contact, day) costs; its amount lives in versions."""

    __scope__ = "region_id"
    __table_args__ = (UniqueConstraint("region_id", "code", name="uq_tariff_code"),)

    id: int | None = Field(default=None, primary_key=True)
    region_id: int = Field(foreign_key="region.id", index=True)
    code: str = Field(max_length=32)
    name: str = Field(max_length=200)
    unit: str = Field(max_length=16)  # hour | contact | day


class TariffVersion(SQLModel, table=True):
    """The unit rate of a tariff during a validity period (both dates inclusive; open-ended when
    ``valid_until`` is None). Periods of one tariff never overlap."""

    __tablename__ = "tariff_version"

    id: int | None = Field(default=None, primary_key=True)
    tariff_id: int = Field(foreign_key="tariff.id", index=True)
    valid_from: date
    valid_until: date | None = Field(default=None)
    unit_rate: Decimal = Field(sa_column=Column(ExactDecimal(12, 2), nullable=False))
    created_at: datetime = Field(default_factory=utcnow)


class Surcharge(SQLModel, table=True):
    """A surcharge (opslag) on the base price, defined once and applied alike to every provider
    that qualifies for it; optionally limited to one segment."""

    __scope__ = "region_id"
    __table_args__ = (UniqueConstraint("region_id", "code", name="uq_surcharge_code"),)

    id: int | None = Field(default=None, primary_key=True)
    region_id: int = Field(foreign_key="region.id", index=True)
    code: str = Field(max_length=32)
    name: str = Field(max_length=200)
    percentage: Decimal = Field(sa_column=Column(ExactDecimal(6, 3), nullable=False))
    segment_key: str | None = Field(default=None, max_length=64)
    valid_from: date
    valid_until: date | None = Field(default=None)


class SurchargeQualification(SQLModel, table=True):
    """A provider qualifies for a surcharge."""

    __tablename__ = "surcharge_qualification"
    __scope__ = "organisation_id"
    __table_args__ = (UniqueConstraint("surcharge_id", "organisation_id", name="uq_surcharge_provider"),)

    id: int | None = Field(default=None, primary_key=True)
    surcharge_id: int = Field(foreign_key="surcharge.id", index=True)
    organisation_id: int = Field(foreign_key="organisation.id", index=True)


class StandardTrajectory(SQLModel, table=True):
    """A standard trajectory of a catalogue year: care form + expertise + intensity + duration +
    tariff basis. Its price is computed (:mod:`portal.catalogue.pricing`), never stored or typed."""

    __tablename__ = "standard_trajectory"
    __scope__ = "region_id"
    __table_args__ = (
        UniqueConstraint("region_id", "year", "segment_key", "code", name="uq_trajectory_code"),
    )

    id: int | None = Field(default=None, primary_key=True)
    region_id: int = Field(foreign_key="region.id", index=True)
    year: int = Field(index=True)
    segment_key: str = Field(max_length=64, index=True)
    care_form_id: int = Field(foreign_key="care_form.id")
    code: str = Field(max_length=32)
    name: str = Field(max_length=200)
    expertise: str = Field(max_length=64)
    intensity: Decimal = Field(sa_column=Column(ExactDecimal(8, 2), nullable=False))
    intensity_period: str = Field(max_length=8)  # week | month
    duration_months: int
    tariff_id: int = Field(foreign_key="tariff.id")
    # Values of the fields the segment's plugin adds (see portal_segment_pricing).
    extra: dict[str, Any] | None = Field(default=None, sa_column=Column(JSON))
    created_at: datetime = Field(default_factory=utcnow)
