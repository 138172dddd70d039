"""The council's report as an A4 PDF (fpdf2, DejaVu Sans with ң ө ү), from the same sheet as
the print page.

    enterprise, title, month
    indicators: indicator | this month | previous month
    six months of tonnage as bars
    collections per settlement against the schedule, with a total row
    how each indicator is computed, sources, when it was made, a signature line
"""

from __future__ import annotations

from fpdf import FPDF
from fpdf.fonts import FontFace

from api.inflow.council_sheet import CouncilSheet, Row
from api.weighbridge.pdf import FONT_DIRS, FontMissing

__all__ = ["council_pdf"]

FAMILY = "DejaVu"
MARGIN = 15
WIDTH = 210 - 2 * MARGIN
INDICATOR_WIDTHS = (110, 35, 35)
SETTLEMENT_WIDTHS = (38, 31, 24, 30, 25, 32)


def _font(name: str) -> str:
    for folder in FONT_DIRS:
        if (folder / name).exists():
            return str(folder / name)
    raise FontMissing(f"{name} not found; install the Debian package fonts-dejavu-core")


def _pdf(title: str) -> FPDF:
    pdf = FPDF(format="A4", unit="mm")
    pdf.set_margins(MARGIN, MARGIN, MARGIN)
    pdf.set_auto_page_break(True, margin=MARGIN)
    pdf.add_font(FAMILY, "", _font("DejaVuSans.ttf"))
    pdf.add_font(FAMILY, "B", _font("DejaVuSans-Bold.ttf"))
    pdf.set_creator("landfill-telemetry")
    pdf.set_title(title)
    pdf.add_page()
    return pdf


def _table(pdf: FPDF, head: tuple[str, ...], rows: list[Row], widths: tuple[int, ...]) -> None:
    """A bordered table whose cells wrap; the first column left, numbers right, totals bold."""
    pdf.set_font(FAMILY, "", 9)
    align = ("LEFT", *("RIGHT" for _ in widths[1:]))
    heading = FontFace(emphasis="BOLD", fill_color=(230, 235, 240), size_pt=8.5)
    with pdf.table(
        col_widths=widths,
        width=sum(widths),
        align="LEFT",
        text_align=align,
        headings_style=heading,
        line_height=5,
    ) as table:
        table.row(head)
        for row in rows:
            table.row(row.cells, style=None if row.key else FontFace(emphasis="BOLD"))


def _trend(pdf: FPDF, bars: list[tuple[str, float, str]]) -> None:
    top = max((value for _, value, _ in bars), default=0) or 1
    pdf.set_font(FAMILY, "", 9)
    for label, value, text in bars:
        y = pdf.get_y()
        pdf.cell(40, 6, label)
        width = 100 * value / top
        if width > 0:
            pdf.set_fill_color(23, 50, 77)
            pdf.rect(MARGIN + 40, y + 1, width, 4, style="F")
        pdf.set_x(MARGIN + 40 + width + 2)
        pdf.cell(35, 6, text, new_x="LMARGIN", new_y="NEXT")
    pdf.set_fill_color(255, 255, 255)  # tables after this fill nothing


def _heading(pdf: FPDF, text: str) -> None:
    pdf.ln(3)
    pdf.set_font(FAMILY, "B", 11)
    pdf.multi_cell(0, 6, text, new_x="LMARGIN", new_y="NEXT")
    pdf.ln(1)


def council_pdf(sheet: CouncilSheet) -> bytes:
    """The report as PDF bytes."""
    pdf = _pdf(f"{sheet.title} {sheet.month}")
    pdf.set_font(FAMILY, "", 9)
    pdf.cell(0, 5, sheet.enterprise, new_x="LMARGIN", new_y="NEXT")
    pdf.set_font(FAMILY, "B", 16)
    pdf.cell(0, 9, sheet.title, new_x="LMARGIN", new_y="NEXT")
    pdf.set_font(FAMILY, "", 9.5)
    pdf.multi_cell(0, 5, f"{sheet.subtitle}. {sheet.audience}.", new_x="LMARGIN", new_y="NEXT")
    pdf.set_font(FAMILY, "B", 13)
    pdf.cell(0, 9, sheet.month, new_x="LMARGIN", new_y="NEXT")
    _table(pdf, sheet.indicator_head, sheet.indicators, INDICATOR_WIDTHS)
    _heading(pdf, sheet.trend_title)
    _trend(pdf, sheet.trend)
    _heading(pdf, sheet.settlements_title)
    _table(pdf, sheet.settlement_head, sheet.settlements, SETTLEMENT_WIDTHS)
    _heading(pdf, sheet.notes_title)
    pdf.set_font(FAMILY, "", 8)
    for note in sheet.notes:
        pdf.multi_cell(0, 4.2, note, new_x="LMARGIN", new_y="NEXT")
        pdf.ln(0.8)
    pdf.ln(6)
    pdf.set_font(FAMILY, "", 9)
    pdf.cell(0, 5, f"{sheet.signature}: ____________________", new_x="LMARGIN", new_y="NEXT")
    pdf.ln(2)
    pdf.set_font(FAMILY, "", 8)
    pdf.cell(0, 5, sheet.footer, new_x="LMARGIN", new_y="NEXT", align="C")
    return bytes(pdf.output())
