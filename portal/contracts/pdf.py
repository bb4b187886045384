"""The printable summary of a framework agreement (PDF, A4), in the layout of :mod:`portal.pdf`."""
from __future__ import annotations

from fpdf.enums import XPos, YPos
from sqlalchemy.orm import aliased
from sqlmodel import select

from portal import clock, db
from portal.accounts.scoping import scoped
from portal.contracts import obligations, rules, service, terms
from portal.formatting import money, nl_date, nl_datetime, number
from portal.models import BudgetAgreement, FrameworkAgreement, Organisation, Region
from portal.pdf import BLUE, SummaryPdf
from portal.registry import LOTS, current_registry


def _scheme_text(agreement: FrameworkAgreement) -> str:
    if agreement.bow_wave:
        text = f"Boeggolfprincipe, horizon {agreement.initial_years} jaar"
        if agreement.extension_options:  # the options cap the rolling horizon
            text += f", binnen de looptijd van {'+'.join(map(str, [agreement.initial_years, *agreement.extension_options]))} jaar"
        return text
    text = f"{agreement.initial_years} jaar"
    if agreement.extension_options:
        options = " + ".join(str(years) for years in agreement.extension_options)
        text += f", met verlengingsopties van {options} jaar ({agreement.initial_years}+{'+'.join(map(str, agreement.extension_options))})"
    return text


def framework_summary_pdf(agreement: FrameworkAgreement) -> bytes:
    """The summary of one framework agreement; the caller has checked that the user may see it."""
    session = db.session()
    registry = current_registry()
    provider = session.get(Organisation, agreement.organisation_id)
    region = session.get(Region, agreement.region_id)
    evaluations = service.evaluations_of(agreement)
    term = service.term_of(agreement, evaluations)
    domain = registry.domains.get(agreement.domain)
    municipality = aliased(Organisation)
    budgets = session.exec(
        scoped(select(BudgetAgreement, municipality.name), BudgetAgreement)
        .join(municipality, municipality.id == BudgetAgreement.municipality_id)
        .where(BudgetAgreement.framework_agreement_id == agreement.id)
        .order_by(BudgetAgreement.year, municipality.name, BudgetAgreement.segment_key)).all()

    pdf = SummaryPdf(agreement.reference)
    pdf.set_title(pdf.t(f"Samenvatting raamovereenkomst {agreement.reference}"))
    pdf.set_author(pdf.t(f"Aanbiedersportaal sociaal domein {region.name}"))
    pdf.set_creator("Aanbiedersportaal sociaal domein")
    pdf.set_subject(pdf.t(f"Raamovereenkomst van {provider.name}"))
    pdf.add_page()

    pdf.font(9)
    pdf.set_text_color(83, 83, 83)
    pdf.cell(0, 5, pdf.t(f"Aanbiedersportaal sociaal domein · regio {region.name}"),
             new_x=XPos.LMARGIN, new_y=YPos.NEXT)
    pdf.set_text_color(0, 0, 0)
    pdf.font(18, bold=True)
    pdf.set_text_color(*BLUE)
    pdf.multi_cell(0, 9, pdf.t(f"Samenvatting raamovereenkomst {agreement.reference}"),
                   new_x=XPos.LMARGIN, new_y=YPos.NEXT, align="L")
    pdf.set_text_color(0, 0, 0)
    pdf.font(10)
    pdf.multi_cell(0, 5, pdf.t(f"{provider.name} · gemaakt op {nl_datetime(clock.local_now())}"),
                   new_x=XPos.LMARGIN, new_y=YPos.NEXT, align="L")

    pdf.heading("Partijen")
    pdf.facts([
        ("Zorgaanbieder", provider.name),
        ("KvK-nummer", provider.kvk_number or "—"),
        ("AGB-code", provider.agb_code or "—"),
        ("Opdrachtgever", f"De gemeenten van de regio {region.name}"),
    ])

    pdf.heading("Overeenkomst")
    facts = [
        ("Kenmerk", agreement.reference),
        ("Domein", domain.name if domain else agreement.domain),
        ("Segmenten", "\n".join(current_registry().segment_label(key) for key in service.segments_of(agreement))),
        ("Perceel", LOTS.get(agreement.lot, agreement.lot)),
        ("Contractvorm", f"{agreement.contract_form}. {terms.CONTRACT_FORMS.get(agreement.contract_form, '')}"),
        ("Ingangsdatum", nl_date(agreement.start_date)),
        ("Looptijd", _scheme_text(agreement)),
    ]
    if not agreement.bow_wave:
        left = ", ".join(f"{years} jaar" for years in term.extensions_left) or "geen"
        facts += [("Verlengingen gebruikt", f"{term.extensions_used} van {len(agreement.extension_options)}"),
                  ("Verlengingsopties over", left)]
    else:
        facts += [("Horizon", f"{term.horizon} jaar"),
                  ("Jaren verdiend", f"{term.years_earned} (voldoende evaluaties)")]
    facts += [("Einddatum", nl_date(term.end)), ("Status", term.status_label)]
    value = service.contract_value(agreement)
    facts.append(("Contractwaarde", money(value) if value is not None else "niet vastgelegd"))
    if agreement.terminated_on:
        facts.append(("Beëindigd per", nl_date(agreement.terminated_on)))
    if term.extensions_left:
        facts.append(("Uiterste einddatum", f"{nl_date(term.latest_end)} (als alle opties worden gebruikt)"))
    pdf.facts(facts)

    in_force = obligations.in_force(agreement)
    if in_force:
        pdf.heading("Verplichtingen")
        for item in in_force:
            pdf.multi_cell(0, 5, pdf.t(item.text), new_x=XPos.LMARGIN, new_y=YPos.NEXT, align="L")

    if agreement.bow_wave:
        pdf.heading("Boeggolfevaluaties")
        if evaluations:
            pdf.grid(("Jaar", "Oordeel", "Einde vóór", "Einde na", "Toelichting"),
                     [(str(e.year), "Voldoende" if e.satisfactory else "Onvoldoende", nl_date(e.end_before),
                       nl_date(e.end_after), e.note or "") for e in evaluations],
                     widths=(14, 26, 33, 33, 68), align=("LEFT",) * 5)
        else:
            pdf.multi_cell(0, 5, pdf.t("Er is nog geen jaar geëvalueerd."), new_x=XPos.LMARGIN, new_y=YPos.NEXT)

    pdf.heading("Aanvullende afspraken (budgetafspraken en budgetplafonds)")
    if budgets:
        rows = []
        for budget, municipality_name in budgets:
            advances = ""
            if budget.advance_installments:
                parts = rules.advance_schedule(budget.amount, budget.advance_installments)
                about = "" if len(set(parts)) == 1 else "ca. "
                advances = f"{len(parts)} × {about}{money(parts[0])}"
            rows.append((str(budget.year), municipality_name, current_registry().segment_short_label(budget.segment_key),
                         rules.KINDS[budget.kind], money(budget.amount),
                         "" if budget.bandwidth_percentage is None else f"{number(budget.bandwidth_percentage)}%",
                         advances))
        pdf.grid(("Jaar", "Gemeente", "Segment", "Soort", "Bedrag", "Band", "Voorschotten"), rows,
                 widths=(11, 33, 19, 29, 30, 12, 40),
                 align=("LEFT", "LEFT", "LEFT", "LEFT", "RIGHT", "RIGHT", "LEFT"))
        totals = {}
        for budget, _name in budgets:
            totals[budget.year] = totals.get(budget.year, 0) + budget.amount
        pdf.ln(2)
        for year, total in sorted(totals.items()):
            pdf.cell(0, 5, pdf.t(f"Totaal {year}: {money(total)}"), new_x=XPos.LMARGIN, new_y=YPos.NEXT)
    else:
        pdf.multi_cell(0, 5, pdf.t("Er zijn geen aanvullende afspraken onder deze raamovereenkomst."),
                       new_x=XPos.LMARGIN, new_y=YPos.NEXT)
    return bytes(pdf.output())
