"""The printable additional agreement of an approved custom trajectory (PDF, A4), made with fpdf2
in the same layout as the framework agreement summary (:mod:`portal.pdf`)."""
from __future__ import annotations

from decimal import Decimal, InvalidOperation

from fpdf.enums import XPos, YPos
from sqlmodel import select

from portal import clock, db
from portal.formatting import money, nl_date, nl_datetime, number
from portal.models import FrameworkAgreement, Organisation, Region, StandardTrajectory, User
from portal.models.proposals import CustomTrajectory, Proposal, ProposalApproval
from portal.pdf import BLUE, SummaryPdf
from portal.proposals import service
from portal.registry import current_registry

PERIODS = {"week": "per week", "month": "per maand"}


class AgreementPdf(SummaryPdf):
    def footer(self) -> None:
        self.set_y(-14)
        self.font(8)
        self.set_text_color(83, 83, 83)
        self.cell(0, 5, self.t(f"Aanvullende afspraak maatwerktraject {self.reference} — pagina "
                               f"{self.page_no()} van {{nb}}."), align="C")
        self.set_text_color(0, 0, 0)


def _extra_labels(segment_key: str) -> dict[str, str]:
    """Labels of the fields plugins add to a segment's trajectories and proposals."""

    registry = current_registry()
    fields = list(getattr(registry.pricing.get(segment_key), "fields", ()) or ())
    rules = (getattr(registry, "proposal_rules", None) or {}).get(segment_key)
    fields += list(getattr(rules, "fields", ()) or ())
    return {field.name: field.label for field in fields}


def _display(value) -> str:
    try:
        return number(Decimal(str(value)))
    except (InvalidOperation, ValueError):
        return str(value)


def custom_trajectory_pdf(proposal: Proposal, custom: CustomTrajectory) -> bytes:
    """The additional agreement; the caller has checked that the user may see the proposal."""
    session = db.session()
    provider = session.get(Organisation, proposal.organisation_id)
    region = session.get(Region, proposal.region_id)
    standard = session.get(StandardTrajectory, custom.standard_trajectory_id)
    framework = session.get(FrameworkAgreement, proposal.framework_agreement_id)
    versions = service.versions(proposal)
    final = versions[-1] if versions else None
    approvers = session.exec(select(User).join(ProposalApproval, ProposalApproval.user_id == User.id).where(
        ProposalApproval.proposal_id == proposal.id,
        ProposalApproval.version_number == proposal.current_version).order_by(ProposalApproval.at)).all()

    counter_author = None
    if final is not None and final.side == "region" and final.author_id:
        counter_author = session.get(User, final.author_id)
        if counter_author in approvers:
            counter_author = None
    pdf = AgreementPdf(custom.code)
    title = f"Aanvullende afspraak maatwerktraject {custom.code}"
    pdf.set_title(pdf.t(title))
    pdf.set_author(pdf.t(f"Aanbiedersportaal sociaal domein {region.name}"))
    pdf.set_creator("Aanbiedersportaal sociaal domein")
    pdf.set_subject(pdf.t(f"Maatwerktraject van {provider.name}"))
    pdf.add_page()

    pdf.font(9)
    pdf.set_text_color(83, 83, 83)
    pdf.cell(0, 5, pdf.t(f"Aanbiedersportaal sociaal domein · regio {region.name}"),
             new_x=XPos.LMARGIN, new_y=YPos.NEXT)
    pdf.font(18, bold=True)
    pdf.set_text_color(*BLUE)
    pdf.multi_cell(0, 9, pdf.t(title), new_x=XPos.LMARGIN, new_y=YPos.NEXT, align="L")
    pdf.set_text_color(0, 0, 0)
    pdf.font(10)
    pdf.multi_cell(0, 5, pdf.t(f"{provider.name} · gemaakt op {nl_datetime(clock.local_now())}"),
                   new_x=XPos.LMARGIN, new_y=YPos.NEXT, align="L")

    pdf.heading("Partijen")
    pdf.facts([
        ("Zorgaanbieder", provider.name),
        ("KvK-nummer", provider.kvk_number or "—"),
        ("AGB-code", provider.agb_code or "—"),
        ("Opdrachtgever", f"Alle gemeenten van de regio {region.name}"),
        ("Raamovereenkomst", framework.reference if framework else "—"),
    ])

    pdf.heading("Maatwerktraject")
    facts = [
        ("Code", custom.code),
        ("Naam", custom.name),
        ("Segment", current_registry().segment_label(custom.segment_key)),
        ("Afgeleid van", f"{standard.code} {standard.name}" if standard else "—"),
        ("Intensiteit", f"{number(custom.intensity)} {PERIODS.get(custom.intensity_period, custom.intensity_period)}"),
        ("Doorlooptijd", f"{custom.duration_months} maanden"),
    ]
    labels = _extra_labels(custom.segment_key)
    for key, value in (custom.extra or {}).items():
        facts.append((labels.get(key, str(key)), _display(value)))
    if standard is not None:
        facts.append(("Standaardtraject", f"{number(standard.intensity)} "
                      f"{PERIODS.get(standard.intensity_period, standard.intensity_period)}, "
                      f"{standard.duration_months} maanden"))
    if final is not None:
        try:
            breakdown = service.price(proposal, {
                "intensity": custom.intensity, "intensity_period": custom.intensity_period,
                "duration_months": custom.duration_months, "extra": dict(custom.extra or {}),
                "expected_per_year": final.expected_per_year, "substantiation": final.substantiation},
                proposal.organisation_id)
            facts.append(("Prijs per traject", money(breakdown.total)))
            facts.append(("Verwacht aantal per jaar", str(final.expected_per_year)))
            facts.append(("Verwachte waarde per jaar",
                          money(service.yearly_value(breakdown, final.expected_per_year))))
        except Exception:  # noqa: BLE001 — the agreement prints without a price rather than not at all
            facts.append(("Prijs per traject", "zie de catalogus"))
    facts += [
        ("Geldig vanaf", nl_date(custom.valid_from)),
        ("Geldig tot en met", nl_date(custom.valid_until) if custom.valid_until else "einde raamovereenkomst"),
        ("Geldig voor", "iedere gemeente in de regio"),
    ]
    pdf.facts(facts)

    pdf.heading("Onderbouwing en besluit")
    if final is not None and final.substantiation:
        pdf.multi_cell(0, 5, pdf.t(final.substantiation), new_x=XPos.LMARGIN, new_y=YPos.NEXT, align="L")
        pdf.ln(2)
    decided = nl_datetime(proposal.decided_at) if proposal.decided_at else "—"
    pdf.facts([
        ("Voorstel", f"{proposal.title} (versie {proposal.current_version})"),
        ("Goedgekeurd op", decided),
        ("Goedgekeurd door", ", ".join(getattr(u, "name", None) or u.email for u in approvers) or "—"),
        *([("Tegenvoorstel van", f"{counter_author.name} (telt als goedkeuring)")] if counter_author else []),
    ])
    pdf.ln(3)
    pdf.multi_cell(0, 5, pdf.t("Deze aanvullende afspraak hoort bij de raamovereenkomst en geldt onder dezelfde "
                               "voorwaarden. De prijs rust op dezelfde tarieven als de standaardtrajecten."),
                   new_x=XPos.LMARGIN, new_y=YPos.NEXT, align="L")
    return bytes(pdf.output())
