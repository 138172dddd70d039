"""The ticket as a PDF (fpdf2) on A5, in DejaVu Sans, which has the Kyrgyz letters ң ө ү.

The font comes from Debian's `fonts-dejavu-core` (scripts/setup installs it); it is embedded
as a subset, so the PDF prints the same anywhere and its text can be extracted.
"""

from __future__ import annotations

from pathlib import Path

from fpdf import FPDF

from api.weighbridge.view import TicketSheet

__all__ = ["FONT_DIRS", "FontMissing", "ticket_pdf"]

FONT_DIRS = (
    Path("/usr/share/fonts/truetype/dejavu"),
    Path("/usr/share/fonts/dejavu"),
    Path("/usr/local/share/fonts/dejavu"),
)
FAMILY = "DejaVu"
WIDTH_MM = 148 - 2 * 12  # A5 less the margins


class FontMissing(RuntimeError):
    """DejaVu Sans is not installed (Debian package fonts-dejavu-core)."""


def _font(name: str) -> Path:
    for folder in FONT_DIRS:
        if (folder / name).exists():
            return folder / name
    raise FontMissing(f"{name} not found; install the Debian package fonts-dejavu-core")


def _pdf() -> FPDF:
    pdf = FPDF(format=(148, 210), unit="mm")  # A5
    pdf.set_margins(12, 12, 12)
    pdf.set_auto_page_break(True, margin=12)
    pdf.add_font(FAMILY, "", str(_font("DejaVuSans.ttf")))
    pdf.add_font(FAMILY, "B", str(_font("DejaVuSans-Bold.ttf")))
    pdf.set_creator("landfill-telemetry")
    pdf.add_page()
    return pdf


def _rows(
    pdf: FPDF,
    rows: list[tuple[str, str]],
    size: float,
    label_share: float = 0.38,
    bold: bool = False,
) -> None:
    for label, value in rows:
        pdf.set_font(FAMILY, "", size)
        pdf.cell(WIDTH_MM * label_share, size * 0.6, label)
        pdf.set_font(FAMILY, "B" if bold else "", size)
        width = WIDTH_MM * (1 - label_share)
        pdf.multi_cell(width, size * 0.6, value, align="L", new_x="LMARGIN", new_y="NEXT")


def ticket_pdf(sheet: TicketSheet) -> bytes:
    """The printed ticket."""
    pdf = _pdf()
    pdf.set_title(f"{sheet.title} {sheet.number}")
    pdf.set_font(FAMILY, "", 9)
    pdf.cell(0, 5, sheet.enterprise, new_x="LMARGIN", new_y="NEXT")
    pdf.set_font(FAMILY, "B", 15)
    pdf.cell(0, 9, f"{sheet.title}  {sheet.number}", new_x="LMARGIN", new_y="NEXT")
    for mark in sheet.marks:
        pdf.set_text_color(170, 0, 0)
        pdf.set_font(FAMILY, "B", 12)
        pdf.cell(0, 7, mark, border=1, new_x="LMARGIN", new_y="NEXT", align="C")
    pdf.set_text_color(0, 0, 0)
    pdf.ln(2)
    _rows(pdf, [(x.label, x.value) for x in sheet.details], 10)
    pdf.ln(2)
    _rows(pdf, [(x.label, x.value) for x in sheet.weights], 12, label_share=0.62, bold=True)
    pdf.ln(2)
    _rows(pdf, [(x.label, x.value) for x in sheet.passes], 8)
    for line in sheet.events + sheet.notes:
        pdf.set_font(FAMILY, "", 8)
        pdf.multi_cell(0, 4.5, line, align="L", new_x="LMARGIN", new_y="NEXT")
    pdf.ln(8)
    pdf.set_font(FAMILY, "", 9)
    for signature in sheet.signatures:
        pdf.cell(WIDTH_MM / 2, 5, f"{signature}: ________")
    pdf.ln(9)
    pdf.set_font(FAMILY, "", 8)
    pdf.cell(0, 5, sheet.footer, new_x="LMARGIN", new_y="NEXT", align="C")
    return bytes(pdf.output())
