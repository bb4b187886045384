"""The settlement statements as PDF (A4, fpdf2, the layout of :mod:`portal.pdf`): a
provider's statement (its lines with their explanation) and a municipality's statement (its lines
with every provider, its share of the region's costs and what it pays in total). The rows and totals
come from :mod:`portal.settlement.statements`, as on screen.

The caller has checked that the signed-in user may see the statement."""
from __future__ import annotations

from fpdf.enums import XPos, YPos

from portal import clock, db
from portal.formatting import balance, money, nl_date, nl_datetime, number
from portal.models import Organisation, Region
from portal.models.settlement import SettlementRun
from portal.pdf import SummaryPdf
from portal.settlement import runs as runs_service
from portal.settlement.engine import direction_label
from portal.settlement.glossary import TERMS
from portal.settlement.statements import LineRow, MunicipalityStatement, ProviderStatement


class StatementPdf(SummaryPdf):
    def __init__(self, title: str):
        super().__init__(title)
        self.title_text = title

    def footer(self) -> None:
        self.set_y(-14)
        self.font(8)
        self.set_text_color(83, 83, 83)
        self.cell(0, 5, self.t(f"{self.title_text} — pagina {self.page_no()} van {{nb}}"), align="C")
        self.set_text_color(0, 0, 0)

    def text_line(self, text: str, size: float = 10, bold: bool = False) -> None:
        self.font(size, bold)
        self.multi_cell(0, 5, self.t(text), new_x=XPos.LMARGIN, new_y=YPos.NEXT, align="L")
        self.font(10)


def _start(run: SettlementRun, title: str, subject: str) -> StatementPdf:
    region = db.session().get(Region, run.region_id)
    pdf = StatementPdf(title)
    pdf.set_title(pdf.t(title))
    pdf.set_author(pdf.t(f"Aanbiedersportaal sociaal domein {region.name}"))
    pdf.set_creator("Aanbiedersportaal sociaal domein")
    pdf.set_subject(pdf.t(subject))
    pdf.add_page()
    pdf.font(9)
    pdf.set_text_color(83, 83, 83)
    pdf.cell(0, 5, pdf.t(f"Aanbiedersportaal sociaal domein · regio {region.name}"),
             new_x=XPos.LMARGIN, new_y=YPos.NEXT)
    pdf.set_text_color(0, 0, 0)
    pdf.font(18, bold=True)
    pdf.set_text_color(21, 66, 115)
    pdf.multi_cell(0, 9, pdf.t(title), new_x=XPos.LMARGIN, new_y=YPos.NEXT, align="L")
    pdf.set_text_color(0, 0, 0)
    pdf.font(10)
    state = runs_service.STATE_LABELS[run.state]
    if run.state != "final" and not runs_service.year_has_ended(run.year):
        state += " (voorlopig: het jaar is nog niet voorbij)"
    pdf.facts([("Regio", region.name), ("Jaar", str(run.year)), ("Versie", str(run.version)), ("Status", state),
               ("Gepubliceerd", nl_date(run.published_at) if run.published_at else "Nog niet"),
               ("Definitief", nl_date(run.finalised_at) if run.finalised_at else "Nog niet"),
               ("Gemaakt op", nl_datetime(clock.local_now()))])
    return pdf


def _totals(pdf: StatementPdf, totals, party: str) -> None:
    pdf.facts([("Afgerekend", money(totals.settled_value)), ("Al betaald", money(totals.paid)),
               ("Nabetalingen", money(totals.additional_payments)), ("Terugbetalingen", money(totals.repayments)),
               ("Saldo", f"{balance(totals.due)} ({direction_label(totals.due).lower()}{party if totals.due else ''})")])


def _lines(pdf: StatementPdf, rows: list[LineRow], with_provider: bool) -> None:
    for row in rows:
        line = row.line
        title = " · ".join(([row.provider] if with_provider else []) + [row.municipality, row.segment, row.kind])
        pdf.ln(2)
        pdf.text_line(title, 11, bold=True)
        pdf.grid(("Realisatie", "Afgerekend", "Al betaald", "Saldo", "Richting"),
                 [(money(line.realisation), money(line.settled_value), money(line.paid), money(abs(line.due)),
                   row.direction)],
                 widths=(35, 35, 35, 35, 34), align=("RIGHT", "RIGHT", "RIGHT", "RIGHT", "LEFT"))
        pdf.font(9)
        for number_, step in enumerate(line.explanation, 1):
            pdf.multi_cell(0, 4.8, pdf.t(f"{number_}. {step}"), new_x=XPos.LMARGIN, new_y=YPos.NEXT, align="L")
        pdf.font(10)


def _glossary(pdf: StatementPdf) -> None:
    """The settlement's words explained in plain Dutch, after the figures."""
    pdf.heading("Wat betekenen deze begrippen?")
    for term in TERMS:
        pdf.text_line(term.word, bold=True)
        pdf.multi_cell(0, 4.8, pdf.t(term.meaning), new_x=XPos.LMARGIN, new_y=YPos.NEXT, align="L")
        pdf.ln(1)


def provider_statement_pdf(run: SettlementRun, provider: Organisation, statement: ProviderStatement) -> bytes:
    """The provider's statement: its totals, its answer and every line with its explanation."""
    title = f"Afrekening {run.year} — {provider.name}"
    pdf = _start(run, title, f"Afrekening {run.year} versie {run.version} van {provider.name}")
    rows, summed, answer = statement.rows, statement.totals, statement.answer
    pdf.heading("Totalen")
    _totals(pdf, summed, " aan de zorgaanbieder" if summed.due > 0 else " door de zorgaanbieder")
    pdf.ln(1)
    pdf.text_line("Antwoord van de zorgaanbieder: " + runs_service.RESPONSE_LABELS[answer.state if answer else None]
                  + (f" ({nl_datetime(answer.responded_at)})" if answer else "")
                  + (f". Reden: {answer.reason}" if answer and answer.reason else ""))
    pdf.heading(f"Afrekening per afspraak ({len(rows)})")
    _lines(pdf, rows, with_provider=False)
    _glossary(pdf)
    return bytes(pdf.output())


def municipality_statement_pdf(run: SettlementRun, municipality: Organisation,
                               statement: MunicipalityStatement) -> bytes:
    """The municipality's statement: what it pays, its cost share, the totals and every line."""
    title = f"Afrekening {run.year} — gemeente {municipality.name}"
    pdf = _start(run, title, f"Afrekening {run.year} versie {run.version} van {municipality.name}")
    summed, share, to_pay = statement.totals, statement.share, statement.to_pay
    pdf.heading("Te betalen")
    facts = [("Saldo afrekening met aanbieders", balance(summed.due))]
    if share:
        s = share.share
        facts += [("Gedeelde regionale kosten", f"{money(s.shared_costs)} (naar realisatie {money(s.realisation)}; "
                                                 f"regio {money(run.shared_costs)})"),
                  ("Programmakosten", f"{money(s.program_costs)} (naar inwonertal "
                                      f"{number(s.residents) if s.residents is not None else 'onbekend'}, "
                                      f"{number(s.population_share) if s.population_share is not None else '—'}%; "
                                      f"regio {money(run.program_costs)})")]
    facts.append(("Totaal " + ("te betalen" if to_pay >= 0 else "te ontvangen"), money(abs(to_pay))))
    pdf.facts(facts)
    pdf.heading("Afrekening met de zorgaanbieders")
    _totals(pdf, summed, " aan aanbieders" if summed.due > 0 else " door aanbieders")
    pdf.heading(f"Afrekening per afspraak ({len(statement.rows)})")
    _lines(pdf, statement.rows, with_provider=True)
    _glossary(pdf)
    return bytes(pdf.output())
