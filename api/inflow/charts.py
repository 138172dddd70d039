"""Charts as SVG made on the server: no script, no external asset, printable as they are.

    bar_chart   ┌─────────────── one <rect class="bar"> per bucket, tallest = the plot's top
                │ ▂ ▅ █ ▃ ▆      y grid at 1, 2 or 5 x 10^k; every n-th bucket labelled below
                └───────────────
    share_chart  label ████████ value    one row per tag value, longest = the widest bar

Each bar carries ``data-key`` and ``data-value`` (the raw number) and a <title> tooltip. Every
text is escaped: labels are tag values (client codes, plates) that came from people.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass

from markupsafe import Markup, escape

__all__ = ["Bar", "bar_chart", "nice_step", "share_chart"]

Format = Callable[[float], str]


@dataclass(frozen=True)
class Bar:
    """One bar: a key for scripts and tests, the text shown, the value."""

    key: str
    label: str
    value: float


def nice_step(top: float, lines: int = 4) -> float:
    """A grid step of 1, 2 or 5 x 10^k such that ``lines`` steps reach at least ``top``."""
    if top <= 0:
        return 1.0
    raw = top / lines
    power = 10 ** math.floor(math.log10(raw))
    return float(next(m * power for m in (1, 2, 5, 10) if m * power >= raw))


def _svg(width: int, height: int, label: str, body: list[str], css: str) -> Markup:
    head = (
        f'<svg class="chart {css}" xmlns="http://www.w3.org/2000/svg" role="img" '
        f'viewBox="0 0 {width} {height}" aria-label="{escape(label)}">'
    )
    return Markup(head + "".join(body) + "</svg>")  # noqa: S704 - every text above is escaped


def bar_chart(
    bars: Sequence[Bar], *, label: str, fmt: Format, width: int = 760, height: int = 240
) -> Markup:
    """Vertical bars over time with a y grid; ``fmt`` writes the numbers."""
    left, right, top, bottom = 64, 8, 10, 34
    plot_w, plot_h = width - left - right, height - top - bottom
    step = nice_step(max((b.value for b in bars), default=0))
    ceiling = step * max(1, math.ceil(max((b.value for b in bars), default=0) / step))
    body = []
    for i in range(round(ceiling / step) + 1):
        y = top + plot_h - plot_h * i * step / ceiling
        body.append(
            f'<line class="grid" x1="{left}" x2="{width - right}" y1="{y:.1f}" y2="{y:.1f}"/>'
            f'<text class="y" x="{left - 6}" y="{y + 4:.1f}" text-anchor="end">'
            f"{escape(fmt(i * step))}</text>"
        )
    slot = plot_w / max(1, len(bars))
    every = max(1, math.ceil(len(bars) / 12))
    for i, bar in enumerate(bars):
        h = plot_h * bar.value / ceiling
        x = left + i * slot + slot * 0.1
        body.append(
            f'<rect class="bar" data-key="{escape(bar.key)}" data-value="{bar.value:g}" '
            f'x="{x:.1f}" y="{top + plot_h - h:.1f}" width="{slot * 0.8:.1f}" height="{h:.1f}">'
            f"<title>{escape(bar.label)}: {escape(fmt(bar.value))}</title></rect>"
        )
        if i % every == 0:
            cx = left + (i + 0.5) * slot
            body.append(
                f'<text class="x" x="{cx:.1f}" y="{height - bottom + 16}" text-anchor="middle">'
                f"{escape(bar.label)}</text>"
            )
    return _svg(width, height, label, body, "bars")


def share_chart(
    bars: Sequence[Bar], *, label: str, fmt: Format, width: int = 560, row: int = 22
) -> Markup:
    """Horizontal bars, one row per tag value, in the order given."""
    name_w, value_w = 150, 90
    plot_w = width - name_w - value_w
    top = max((b.value for b in bars), default=0) or 1
    body = []
    for i, bar in enumerate(bars):
        y = i * row + 4
        w = plot_w * bar.value / top
        name = bar.label if len(bar.label) <= 22 else bar.label[:21] + "…"
        body.append(
            f'<text class="name" x="{name_w - 6}" y="{y + 14}" text-anchor="end">'
            f"{escape(name)}</text>"
            f'<rect class="bar" data-key="{escape(bar.key)}" data-value="{bar.value:g}" '
            f'x="{name_w}" y="{y + 2}" width="{w:.1f}" height="{row - 6}">'
            f"<title>{escape(bar.label)}: {escape(fmt(bar.value))}</title></rect>"
            f'<text class="value" x="{name_w + w + 6:.1f}" y="{y + 14}">'
            f"{escape(fmt(bar.value))}</text>"
        )
    return _svg(width, len(bars) * row + 8, label, body, "shares")
