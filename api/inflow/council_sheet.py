"""The council's report as texts in one language: what the print page and the PDF both show.

Every figure is formatted here once, so the HTML print and the PDF cannot disagree. A value
that cannot be computed (no collections due, no billing figure) is a dash, never 0.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from zoneinfo import ZoneInfo

from api.i18n import catalogue, translate
from api.inflow.council import CouncilReport, MonthFigures
from api.inflow.view import number, tonnes_text
from landfill.language import Language
from landfill.texts import settlement_name

__all__ = ["CouncilSheet", "Row", "council_sheet", "month_name"]


@dataclass(frozen=True)
class Row:
    """One line of a table: a key for scripts and tests, the cells people read."""

    key: str
    cells: tuple[str, ...]


@dataclass(frozen=True)
class CouncilSheet:
    """Everything the report prints, in one language."""

    lang: Language
    enterprise: str
    title: str
    subtitle: str
    audience: str
    month: str
    indicator_head: tuple[str, ...]
    indicators: list[Row]
    trend_title: str
    trend: list[tuple[str, float, str]]  # month, tonnes, text
    settlements_title: str
    settlement_head: tuple[str, ...]
    settlements: list[Row]
    notes_title: str
    notes: list[str]
    footer: str
    signature: str


def month_name(first: date, lang: Language) -> str:
    """``октябрь 2026``."""
    return f"{catalogue(lang)[f'month.{first.month}']} {first.year}"


def _pct(value: float | None, lang: Language) -> str:
    return "—" if value is None else number(value, 1, lang)


def _signed(value: float | None, lang: Language) -> str:
    return "—" if value is None else ("+" if value > 0 else "") + number(value, 1, lang) + " %"


def _money(value: Decimal | None, lang: Language, none: str) -> str:
    return none if value is None else number(float(value), 2, lang)


def _indicators(report: CouncilReport, lang: Language) -> list[Row]:
    t = catalogue(lang)
    now, before = report.month, report.previous

    def both(key: str, fmt: Callable[[MonthFigures], str]) -> Row:
        return Row(key, (t[f"council.{key}"], fmt(now), fmt(before)))

    def kg(m: MonthFigures) -> str:
        return tonnes_text(m.net_kg, lang)

    return [
        both("tonnage", kg),
        Row("change_prev", (t["council.change_prev"], _signed(report.change_pct, lang), "")),
        Row("change_avg3", (t["council.change_avg3"], _signed(report.change_avg3_pct, lang), "")),
        both("tickets", lambda m: str(m.tickets)),
        both("legal_tickets", lambda m: str(m.legal_tickets)),
        both("legal_tonnage", lambda m: tonnes_text(m.legal_kg, lang)),
        both("revenue", lambda m: _money(m.revenue, lang, t["council.revenue_none"])),
        both("collections", lambda m: str(m.collections)),
        both("before_full", lambda m: _pct(m.before_full_pct, lang)),
        both("overflow_hours", lambda m: str(m.overflow_hours)),
        both("overflow_containers", lambda m: str(m.overflow_containers)),
        both("on_schedule", lambda m: _pct(m.on_schedule_pct, lang)),
    ]


def _settlements(month: MonthFigures, lang: Language) -> list[Row]:
    rows = [
        Row(
            s.settlement,
            (
                settlement_name(lang, s.settlement),
                str(s.containers),
                str(s.scheduled),
                str(s.on_schedule),
                str(s.other_days),
                _pct(s.share_pct, lang),
            ),
        )
        for s in month.settlements
    ]
    total = (
        catalogue(lang)["council.total"],
        str(sum(s.containers for s in month.settlements)),
        str(month.scheduled),
        str(month.on_schedule),
        str(sum(s.other_days for s in month.settlements)),
        _pct(month.on_schedule_pct, lang),
    )
    return [*rows, Row("", total)]


def council_sheet(report: CouncilReport, lang: Language) -> CouncilSheet:
    """The report's texts in ``lang``."""
    t = catalogue(lang)
    local = report.generated_at.astimezone(ZoneInfo(report.timezone))
    return CouncilSheet(
        lang=lang,
        enterprise=t["app.enterprise"],
        title=t["council.title"],
        subtitle=t["council.subtitle"],
        audience=t["council.for"],
        month=month_name(report.month.period.first, lang),
        indicator_head=tuple(
            t[f"council.{k}"] for k in ("indicator", "this_month", "previous_month")
        ),
        indicators=_indicators(report, lang),
        trend_title=t["council.trend"],
        trend=[
            (month_name(m.start, lang), m.net_kg / 1000, tonnes_text(m.net_kg, lang))
            for m in report.trend
        ],
        settlements_title=t["council.settlements"],
        settlement_head=(
            t["col.settlement"],
            t["council.col.containers"],
            t["council.col.scheduled"],
            t["council.col.on_day"],
            t["council.col.other_days"],
            t["council.col.share"],
        ),
        settlements=_settlements(report.month, lang),
        notes_title=t["council.notes"],
        notes=[
            translate(lang, "council.note.tonnage", tz=report.timezone),
            t["council.note.revenue"],
            t["council.note.before_full"],
            t["council.note.overflow"],
            t["council.note.schedule"],
            t["council.sources"],
        ],
        footer=translate(
            lang, "council.generated", at=f"{local:%Y-%m-%d %H:%M} ({report.timezone})"
        ),
        signature=t["council.signature"],
    )
