"""The portal's printable documents (A4, fpdf2): one page layout for every PDF, whichever domain
makes it (agreement summaries, additional agreements, settlement statements).

The text font is DejaVu Sans when the system has it (Debian's fonts-dejavu-core: it covers "€" and
every Dutch letter, and is embedded as a subset). Without it the PDF falls back to the PDF core font
Helvetica, which only knows Latin-1: "€" is then written as "EUR".
"""
from __future__ import annotations

from pathlib import Path

from flask import current_app
from fpdf import FPDF
from fpdf.enums import XPos, YPos
from fpdf.fonts import FontFace

FONT_DIRS = (
    "/usr/share/fonts/truetype/dejavu",
    "/usr/share/fonts/dejavu",
    "/usr/local/share/fonts/dejavu",
)
FONT_NAME = "DejaVu"
BLUE = (21, 66, 115)  # the portal's header blue
LIGHT = (243, 246, 249)
FALLBACK_REPLACEMENTS = {"€": "EUR", "—": "-", "–": "-", "‘": "'", "’": "'", "“": '"', "”": '"', "…": "..."}


def font_files() -> tuple[Path, Path] | None:
    """Regular and bold DejaVu Sans, if the system has them."""
    configured = current_app.config.get("PDF_FONT_DIRS") if current_app else None
    for folder in configured if configured is not None else FONT_DIRS:
        regular, bold = Path(folder) / "DejaVuSans.ttf", Path(folder) / "DejaVuSans-Bold.ttf"
        if regular.is_file() and bold.is_file():
            return regular, bold
    return None


class SummaryPdf(FPDF):
    def __init__(self, reference: str):
        super().__init__(orientation="portrait", unit="mm", format="A4")
        self.reference = reference
        fonts = font_files()
        self.unicode_font = fonts is not None
        if fonts:
            self.add_font(FONT_NAME, "", str(fonts[0]))
            self.add_font(FONT_NAME, "B", str(fonts[1]))
            self.family = FONT_NAME
        else:
            self.family = "Helvetica"
        self.set_margins(18, 18, 18)
        self.set_auto_page_break(auto=True, margin=20)
        self.set_lang("nl-NL")

    def t(self, text) -> str:
        """Text the chosen font can show."""
        text = "" if text is None else str(text)
        if self.unicode_font:
            return text
        for old, new in FALLBACK_REPLACEMENTS.items():
            text = text.replace(old, new)
        return text.encode("latin-1", errors="replace").decode("latin-1")

    def font(self, size: float = 10, bold: bool = False) -> None:
        self.set_font(self.family, "B" if bold else "", size)

    def footer(self) -> None:
        self.set_y(-14)
        self.font(8)
        self.set_text_color(83, 83, 83)
        self.cell(0, 5, self.t(f"Samenvatting raamovereenkomst {self.reference} — pagina {self.page_no()} "
                               "van {nb}. De getekende overeenkomst is leidend."), align="C")
        self.set_text_color(0, 0, 0)

    def heading(self, text: str) -> None:
        self.ln(3)
        self.font(13, bold=True)
        self.set_text_color(*BLUE)
        self.cell(0, 8, self.t(text), new_x=XPos.LMARGIN, new_y=YPos.NEXT)
        self.set_text_color(0, 0, 0)
        self.font(10)

    def facts(self, pairs: list[tuple[str, str]]) -> None:
        with self.table(col_widths=(55, 119), first_row_as_headings=False, borders_layout="HORIZONTAL_LINES",
                        line_height=6, padding=1, text_align="LEFT") as table:
            for label, value in pairs:
                row = table.row()
                row.cell(self.t(label), style=FontFace(emphasis="BOLD"))
                row.cell(self.t(value))

    def grid(self, headings: tuple[str, ...], rows: list[tuple], widths: tuple[int, ...],
             align: tuple[str, ...]) -> None:
        self.font(9)
        with self.table(col_widths=widths, text_align=align, line_height=5.5, padding=1,
                        borders_layout="HORIZONTAL_LINES",
                        headings_style=FontFace(emphasis="BOLD", color=BLUE, fill_color=LIGHT)) as table:
            heading = table.row()
            for text in headings:
                heading.cell(self.t(text))
            for values in rows:
                row = table.row()
                for value in values:
                    row.cell(self.t(value))
        self.font(10)
