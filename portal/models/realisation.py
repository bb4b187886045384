"""Realisation (what a provider delivered) as reported per municipality, segment and period.

A report is one provider × municipality × segment × period; a correction is a new version of the
same report, and the version it replaces stays on record as ``superseded``. Each report holds one
line per (custom) trajectory with the volumes delivered and the value that follows from the agreed
prices. An upload records one file's journey (checking, stored or refused) and its progress.
"""
from __future__ import annotations

from datetime import datetime
from decimal import Decimal
from typing import Any

from sqlalchemy import JSON, BigInteger, Column, Index, Integer, Text, UniqueConstraint
from sqlmodel import Field, SQLModel

from portal.models.core import utcnow
from portal.models.types import ExactDecimal


class RealisationUpload(SQLModel, table=True):
    """One file (or API call, or form) offered as realisation, with the result of its check.

    ``state``: queued | checking | storing | stored | refused | failed. ``errors`` holds the first
    errors found (row, column, message); ``error_count`` counts all of them."""

    __tablename__ = "realisation_upload"
    __scope__ = "organisation_id"

    id: int | None = Field(default=None, primary_key=True)
    region_id: int = Field(foreign_key="region.id", index=True)
    organisation_id: int = Field(foreign_key="organisation.id", index=True)
    source: str = Field(max_length=16)  # form | csv | xlsx | api | 323
    original_name: str = Field(default="", max_length=255)
    stored_name: str | None = Field(default=None, max_length=64)
    sha256: str = Field(max_length=64, index=True)
    state: str = Field(default="queued", max_length=16, index=True)
    rows_total: int | None = Field(default=None)
    rows_done: int = Field(default=0)
    error_count: int = Field(default=0)
    errors: list[dict[str, Any]] | None = Field(default=None, sa_column=Column(JSON))
    report_count: int = Field(default=0)
    message: str | None = Field(default=None, sa_column=Column(Text))
    created_by: int | None = Field(default=None, foreign_key="user.id")
    created_at: datetime = Field(default_factory=utcnow)
    finished_at: datetime | None = Field(default=None)


class RealisationReport(SQLModel, table=True):
    """A provider's realisation for one municipality, segment and period, in one version.

    ``period_kind`` month (``period`` 1–12) or quarter (1–4). ``state``: submitted | approved |
    rejected | superseded. Approved reports are locked: no correction replaces them."""

    __tablename__ = "realisation_report"
    __scope__ = ("organisation_id", "municipality_id")
    __table_args__ = (
        # Also the index for lookups by provider (and municipality, segment, year): its leading columns.
        UniqueConstraint("organisation_id", "municipality_id", "segment_key", "year", "period_kind",
                         "period", "version", name="uq_realisation_report_version"),
    )

    id: int | None = Field(default=None, primary_key=True)
    region_id: int = Field(foreign_key="region.id", index=True)
    organisation_id: int = Field(foreign_key="organisation.id")
    municipality_id: int = Field(foreign_key="organisation.id", index=True)
    segment_key: str = Field(max_length=64)
    year: int
    period_kind: str = Field(max_length=8)  # month | quarter
    period: int
    version: int = Field(default=1)
    state: str = Field(default="submitted", max_length=16, index=True)
    upload_id: int | None = Field(default=None, foreign_key="realisation_upload.id", index=True)
    total_value: Decimal = Field(sa_column=Column(ExactDecimal(14, 2), nullable=False))
    line_count: int = Field(default=0)
    # The sums of the report's lines that the yearly settlement needs, written with the lines so a
    # national year is settled from its reports, not by adding up millions of lines again:
    # occupied place-days, trajectories ended, and each result figure (the segment's declared extra
    # columns) that any line reported, as decimal strings.
    place_days_total: int = Field(default=0, sa_column=Column(Integer, nullable=False, server_default="0"))
    ended_total: int = Field(default=0, sa_column=Column(Integer, nullable=False, server_default="0"))
    figures: dict[str, str] | None = Field(default=None, sa_column=Column(JSON(none_as_null=True)))
    warnings: list[str] | None = Field(default=None, sa_column=Column(JSON))
    rejection_reason: str | None = Field(default=None, sa_column=Column(Text))
    lock_version: int = Field(default=1)
    submitted_by: int | None = Field(default=None, foreign_key="user.id")
    submitted_at: datetime = Field(default_factory=utcnow)
    reviewed_by: int | None = Field(default=None, foreign_key="user.id")
    reviewed_at: datetime | None = Field(default=None)


class RealisationLine(SQLModel, table=True):
    """One (custom) trajectory's volumes in a report, and their value at the agreed price."""

    __tablename__ = "realisation_line"

    id: int | None = Field(default=None, primary_key=True)
    report_id: int = Field(foreign_key="realisation_report.id", index=True)
    trajectory_code: str = Field(max_length=40)
    started: int = Field(default=0)
    running: int = Field(default=0)
    ended: int = Field(default=0)
    clients: int = Field(default=0)
    units: Decimal | None = Field(default=None, sa_column=Column(ExactDecimal(12, 2)))
    place_days: int | None = Field(default=None)
    unit_price: Decimal = Field(sa_column=Column(ExactDecimal(14, 2), nullable=False))
    value: Decimal = Field(sa_column=Column(ExactDecimal(14, 2), nullable=False))
    extra: dict[str, Any] | None = Field(default=None, sa_column=Column(JSON))
    source_row: int | None = Field(default=None)


class RealisationYearTotal(SQLModel, table=True):
    """The approved realisation of one provider × municipality × segment × year, kept up to date by
    the database itself: a trigger on ``realisation_report`` adds a report's total value (in
    cents), place-days and trajectories ended when it becomes approved (inserted as approved, or
    updated to approved) and takes them off again if an approved report changes or goes. The yearly
    settlement reads these rows instead of adding up a year's reports (see the migration
    ``a7e3c1f2d9b4`` for the triggers on PostgreSQL and SQLite). ``reports`` counts the approved
    reports in it. Never written by the application."""

    __tablename__ = "realisation_year_total"
    __scope__ = ("organisation_id", "municipality_id")
    __table_args__ = (
        UniqueConstraint("organisation_id", "municipality_id", "segment_key", "year", name="uq_realisation_year_total"),
        Index("ix_realisation_year_total_region_year", "region_id", "year"),
    )

    id: int | None = Field(default=None, primary_key=True)
    region_id: int = Field(foreign_key="region.id")
    organisation_id: int = Field(foreign_key="organisation.id")
    municipality_id: int = Field(foreign_key="organisation.id")
    segment_key: str = Field(max_length=64)
    year: int
    value_cents: int = Field(default=0, sa_column=Column(BigInteger, nullable=False))
    place_days: int = Field(default=0, sa_column=Column(BigInteger, nullable=False))
    ended: int = Field(default=0, sa_column=Column(BigInteger, nullable=False))
    reports: int = Field(default=0)


class RealisationYearFigure(SQLModel, table=True):
    """One result figure (a declared extra column such as ``resultaat_behaald``) of the approved
    realisation of one provider × municipality × segment × year, kept up to date by the database
    like :class:`RealisationYearTotal`: triggers on ``realisation_report`` add the figures of a
    report's ``figures`` that are written as a decimal number when it becomes approved, and take
    them off again if an approved report changes or goes (migration ``d8b3f6a2c915``).

    The sum is kept exactly on both databases as a whole number of hundredths (a figure has two
    decimals at most: :class:`portal.registry.RealisationField`) with ``scale``, the most decimals
    any report wrote it with, so that it reads back as the same ``Decimal`` a sum of the reports'
    figures gives (``3`` stays ``3``, ``2.50`` stays ``2.50``). ``reports`` counts the approved
    reports that reported the figure: at 0 the figure is absent, not 0. Never written by the
    application."""

    __tablename__ = "realisation_year_figure"
    __scope__ = ("organisation_id", "municipality_id")
    __table_args__ = (
        UniqueConstraint("organisation_id", "municipality_id", "segment_key", "year", "name",
                         name="uq_realisation_year_figure"),
        Index("ix_realisation_year_figure_region_year", "region_id", "year"),
    )

    id: int | None = Field(default=None, primary_key=True)
    region_id: int = Field(foreign_key="region.id")
    organisation_id: int = Field(foreign_key="organisation.id")
    municipality_id: int = Field(foreign_key="organisation.id")
    segment_key: str = Field(max_length=64)
    year: int
    name: str = Field(max_length=64)
    hundredths: int = Field(default=0, sa_column=Column(BigInteger, nullable=False))
    scale: int = Field(default=0)
    reports: int = Field(default=0)
