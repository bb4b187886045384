"""Catalogue test data built in the tests themselves (codes start with ``T-`` so they never clash
with a plugin's demo catalogue): a few care forms, tariffs with versions, a surcharge and
standard trajectories in a region, written straight to the tables."""
from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from decimal import Decimal

from sqlmodel import select

from portal import db
from portal.models import (
    CareForm,
    Organisation,
    Region,
    StandardTrajectory,
    Surcharge,
    SurchargeQualification,
    Tariff,
    TariffVersion,
)

D = Decimal
YEAR = 2024


@dataclass
class Catalogue:
    region_id: int
    care_form: CareForm  # jeugd.S4
    care_form_s3: CareForm  # jeugd.S3
    tariff: Tariff  # per hour, 2024 and 2025 versions
    version_2024: TariffVersion
    version_2025: TariffVersion
    contact_tariff: Tariff  # per contact, only from 2025
    surcharge: Surcharge  # 10% on jeugd.S4
    trajectory: StandardTrajectory  # jeugd.S4, 2 hours a week, 6 months, 65.00 an hour
    trajectory_s3: StandardTrajectory


def build_catalogue(session, region_id: int, prefix: str = "T") -> Catalogue:
    def add(obj):
        session.add(obj)
        session.flush()
        return obj

    care_form = add(CareForm(region_id=region_id, segment_key="jeugd.S4", code=f"{prefix}-AMB",
                             name="Ambulante begeleiding"))
    care_form_s3 = add(CareForm(region_id=region_id, segment_key="jeugd.S3", code=f"{prefix}-DB",
                                name="Dagbehandeling"))
    tariff = add(Tariff(region_id=region_id, code=f"{prefix}-UUR", name="Begeleiding per uur", unit="hour"))
    version_2024 = add(TariffVersion(tariff_id=tariff.id, valid_from=date(2024, 1, 1),
                                     valid_until=date(2024, 12, 31), unit_rate=D("65.00")))
    version_2025 = add(TariffVersion(tariff_id=tariff.id, valid_from=date(2025, 1, 1), valid_until=None,
                                     unit_rate=D("67.60")))
    contact_tariff = add(Tariff(region_id=region_id, code=f"{prefix}-CONTACT", name="Behandelcontact",
                                unit="contact"))
    add(TariffVersion(tariff_id=contact_tariff.id, valid_from=date(2025, 1, 1), unit_rate=D("95.00")))
    surcharge = add(Surcharge(region_id=region_id, code=f"{prefix}-SPEC", name="Specialistische inzet",
                              percentage=D("10.000"), segment_key="jeugd.S4", valid_from=date(2022, 1, 1)))
    trajectory = add(StandardTrajectory(
        region_id=region_id, year=YEAR, segment_key="jeugd.S4", care_form_id=care_form.id, code=f"{prefix}-S4-6",
        name="Ambulante begeleiding zes maanden", expertise="HBO", intensity=D("2.00"), intensity_period="week",
        duration_months=6, tariff_id=tariff.id))
    trajectory_s3 = add(StandardTrajectory(
        region_id=region_id, year=YEAR, segment_key="jeugd.S3", care_form_id=care_form_s3.id, code=f"{prefix}-S3-4",
        name="Dagbehandeling vier maanden", expertise="HBO", intensity=D("3.00"), intensity_period="week",
        duration_months=4, tariff_id=tariff.id,
        extra={"opvang_days_per_week": "2", "opvang_day_rate": "40.00", "parental_contribution_per_day": "5.00"}))
    return Catalogue(region_id, care_form, care_form_s3, tariff, version_2024, version_2025, contact_tariff,
                     surcharge, trajectory, trajectory_s3)


def demo_region_catalogue(app) -> Catalogue:
    """The test catalogue in the demo region (load the demo first)."""
    with app.app_context():
        session = db.session()
        region = session.exec(select(Region).where(Region.code == "noord-limburg")).one()
        catalogue = build_catalogue(session, region.id)
        session.commit()
        return catalogue


def qualify(app, surcharge_id: int, organisation_name: str) -> None:
    with app.app_context():
        session = db.session()
        organisation = session.exec(select(Organisation).where(Organisation.name == organisation_name)).one()
        session.add(SurchargeQualification(surcharge_id=surcharge_id, organisation_id=organisation.id))
        session.commit()


def other_region_catalogue(app) -> Catalogue:
    with app.app_context():
        session = db.session()
        region = Region(code="andere-regio", name="Andere regio")
        session.add(region)
        session.flush()
        catalogue = build_catalogue(session, region.id, prefix="X")
        session.commit()
        return catalogue
