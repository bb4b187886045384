"""Charts as inline SVG, drawn on the server (no JavaScript): grouped bars, a monthly trend and
percentage bars with reference lines.

Made to be read at a glance and by everyone: each chart is an ``<svg role="img">`` named by its
``<title>`` and ``<desc>``; series differ by pattern as well as colour (and have a legend); every
colour has at least 3:1 contrast on white; axis labels are nl-NL money. Only SVG presentation
attributes are used (no ``style=``), so a strict Content-Security-Policy leaves them intact.
A chart never stands alone: the page shows the table with the same figures below it.
"""
from __future__ import annotations

import math
from dataclasses import dataclass
from decimal import Decimal

from babel.numbers import format_currency, format_decimal
from markupsafe import Markup, escape

LOCALE = "nl_NL"
FONT = "Fira Sans, Segoe UI, Arial, sans-serif"
TEXT = "#1a1a1a"
MUTED = "#535353"
GRID = "#cccccc"
# Each at least 3:1 against white (WCAG 1.4.11): dark blue 10.4:1, green 6.5:1, brown 6.6:1, red 7.3:1.
BLUE = "#154273"
GREEN = "#1a6b2f"
BROWN = "#8a4b00"
RED = "#b30000"
WIDTH = 760


@dataclass
class Series:
    label: str
    values: list
    colour: str
    pattern: str = "solid"  # solid | hatch | dots | cross


def euro(value, digits: bool = False) -> str:
    """€ 1.234 (axis) or € 1.234,56 (values), nl-NL."""
    if digits:
        return format_currency(Decimal(value), "EUR", locale=LOCALE)
    return format_currency(Decimal(value), "EUR", format="¤ #,##0", locale=LOCALE, currency_digits=False)


def percent(value) -> str:
    return format_decimal(Decimal(value), format="#,##0.0", locale=LOCALE) + "%"


def nice_ceiling(value: float, ticks: int = 5) -> tuple[float, float]:
    """A round top for an axis and the step between its ticks (1, 2, 2.5 or 5 × 10^n)."""
    if value <= 0:
        return 1.0, 0.2
    raw = value / ticks
    magnitude = 10 ** math.floor(math.log10(raw))
    for factor in (1, 2, 2.5, 5, 10):
        step = factor * magnitude
        if step * ticks >= value:
            return step * ticks, step
    return 10 * magnitude * ticks, 10 * magnitude


def _fill(chart_id: str, series: Series) -> str:
    return series.colour if series.pattern == "solid" else f"url(#{chart_id}-{series.pattern}-{series.colour[1:]})"


def _patterns(chart_id: str, series: list[Series]) -> str:
    parts = []
    for item in series:
        if item.pattern == "solid":
            continue
        pid = f"{chart_id}-{item.pattern}-{item.colour[1:]}"
        if item.pattern == "hatch":
            body = (f'<rect width="8" height="8" fill="#ffffff"/><rect width="5" height="8" fill="{item.colour}"/>')
            parts.append(f'<pattern id="{pid}" patternUnits="userSpaceOnUse" width="8" height="8" '
                         f'patternTransform="rotate(45)">{body}</pattern>')
        elif item.pattern == "dots":
            parts.append(f'<pattern id="{pid}" patternUnits="userSpaceOnUse" width="7" height="7">'
                         f'<rect width="7" height="7" fill="#ffffff"/>'
                         f'<circle cx="3.5" cy="3.5" r="2.2" fill="{item.colour}"/></pattern>')
        elif item.pattern == "cross":
            parts.append(f'<pattern id="{pid}" patternUnits="userSpaceOnUse" width="8" height="8">'
                         f'<rect width="8" height="8" fill="#ffffff"/>'
                         f'<path d="M0 0L8 8M8 0L0 8" stroke="{item.colour}" stroke-width="2.2"/></pattern>')
    return f"<defs>{''.join(parts)}</defs>" if parts else ""


def _open(chart_id: str, title: str, desc: str, height: int, width: int = WIDTH) -> str:
    return (f'<svg xmlns="http://www.w3.org/2000/svg" class="chart" viewBox="0 0 {width} {height}" '
            f'width="100%" role="img" aria-labelledby="{chart_id}-title {chart_id}-desc" '
            f'font-family="{FONT}" font-size="14" fill="{TEXT}" id="{chart_id}">'
            f'<title id="{chart_id}-title">{escape(title)}</title><desc id="{chart_id}-desc">{escape(desc)}</desc>')


def _legend(chart_id: str, series: list[Series], y: int, x: int = 110) -> str:
    parts = []
    for item in series:
        parts.append(f'<rect x="{x}" y="{y - 12}" width="16" height="16" fill="{_fill(chart_id, item)}" '
                     f'stroke="{item.colour}" stroke-width="1.5"/>'
                     f'<text x="{x + 22}" y="{y + 1}">{escape(item.label)}</text>')
        x += 30 + int(len(item.label) * 7.4)
    return "".join(parts)


def _short(text: str, limit: int) -> str:
    return text if len(text) <= limit else text[:limit - 1] + "…"


def _money_axis(top: float, step: float, left: int, right: int, y_of) -> str:
    parts = []
    value = 0.0
    while value <= top + step / 2:
        y = y_of(value)
        parts.append(f'<line x1="{left}" x2="{right}" y1="{y:.1f}" y2="{y:.1f}" stroke="{GRID}" stroke-width="1"/>'
                     f'<text x="{left - 8}" y="{y + 5:.1f}" text-anchor="end" fill="{MUTED}">'
                     f'{escape(euro(value))}</text>')
        value += step
    return "".join(parts)


def grouped_bars(chart_id: str, title: str, desc: str, categories: list[str], series: list[Series]) -> Markup:
    """Bars per category, one per series side by side, on a euro axis from zero."""
    slanted = len(categories) > 5
    height = 400 if slanted else 340
    left, right, top_y, bottom_y = 110, WIDTH - 16, 56, height - (100 if slanted else 40)
    largest = max([float(v or 0) for s in series for v in s.values] + [0])
    top, step = nice_ceiling(largest)

    def y_of(value: float) -> float:
        return bottom_y - (bottom_y - top_y) * (value / top)

    out = [_open(chart_id, title, desc, height), _patterns(chart_id, series), _legend(chart_id, series, 24, left),
           _money_axis(top, step, left, right, y_of)]
    count = max(len(categories), 1)
    band = (right - left) / count
    bar = min(44.0, band * 0.8 / max(len(series), 1))
    for index, category in enumerate(categories):
        start = left + index * band + (band - bar * len(series)) / 2
        for number, item in enumerate(series):
            value = Decimal(item.values[index] or 0)
            y = y_of(float(value))
            tip = escape(f"{item.label}, {category}: {euro(value, True)}")
            out.append(f'<rect x="{start + number * bar:.1f}" y="{y:.1f}" width="{bar - 2:.1f}" '
                       f'height="{max(bottom_y - y, 0):.1f}" fill="{_fill(chart_id, item)}" stroke="{item.colour}" '
                       f'stroke-width="1.5"><title>{tip}</title></rect>')
        centre = left + index * band + band / 2
        label = escape(_short(category, 22 if slanted else max(8, int(band / 8))))
        if slanted:
            out.append(f'<text x="{centre:.1f}" y="{bottom_y + 18}" text-anchor="end" '
                       f'transform="rotate(-30 {centre:.1f} {bottom_y + 18})">{label}</text>')
        else:
            out.append(f'<text x="{centre:.1f}" y="{bottom_y + 22}" text-anchor="middle">{label}</text>')
    out.append(f'<line x1="{left}" x2="{right}" y1="{bottom_y}" y2="{bottom_y}" stroke="{TEXT}" stroke-width="1.5"/>')
    out.append("</svg>")
    return Markup("".join(out))


def monthly_trend(chart_id: str, title: str, desc: str, months: list[str], approved: list, waiting: list,
                  monthly_agreed=None) -> Markup:
    """Approved value per month as bars, not-yet-reviewed value stacked on top (hatched), and a
    dashed line at the agreed amount per month (budget and ceiling ÷ 12) when there is one."""
    height = 360
    left, right, top_y, bottom_y = 110, WIDTH - 16, 56, height - 48
    approved_series = Series("Goedgekeurd", approved, BLUE)
    waiting_series = Series("Ingediend, nog niet beoordeeld", waiting, BROWN, "hatch")
    largest = max([float((a or 0) + (w or 0)) for a, w in zip(approved, waiting)] + [float(monthly_agreed or 0), 0])
    top, step = nice_ceiling(largest)

    def y_of(value: float) -> float:
        return bottom_y - (bottom_y - top_y) * (value / top)

    series = [approved_series, waiting_series]
    out = [_open(chart_id, title, desc, height), _patterns(chart_id, series), _legend(chart_id, series, 24, left),
           _money_axis(top, step, left, right, y_of)]
    band = (right - left) / max(len(months), 1)
    bar = band * 0.62
    for index, name in enumerate(months):
        x = left + index * band + (band - bar) / 2
        done = Decimal(approved[index] or 0)
        pending = Decimal(waiting[index] or 0)
        y_done = y_of(float(done))
        if done:
            out.append(f'<rect x="{x:.1f}" y="{y_done:.1f}" width="{bar:.1f}" height="{bottom_y - y_done:.1f}" '
                       f'fill="{BLUE}" stroke="{BLUE}" stroke-width="1.5">'
                       f'<title>{escape(f"{name}: goedgekeurd {euro(done, True)}")}</title></rect>')
        if pending:
            y_top = y_of(float(done + pending))
            out.append(f'<rect x="{x:.1f}" y="{y_top:.1f}" width="{bar:.1f}" height="{y_done - y_top:.1f}" '
                       f'fill="{_fill(chart_id, waiting_series)}" stroke="{BROWN}" stroke-width="1.5">'
                       f'<title>{escape(f"{name}: ingediend {euro(pending, True)}")}</title></rect>')
        out.append(f'<text x="{x + bar / 2:.1f}" y="{bottom_y + 22}" text-anchor="middle">{escape(name[:3])}</text>')
    if monthly_agreed:
        y = y_of(float(monthly_agreed))
        label = f"Afgesproken per maand ({euro(monthly_agreed)})"
        x = left + 30 + sum(int(len(item.label) * 7.4) + 30 for item in series)
        out.append(f'<line x1="{left}" x2="{right}" y1="{y:.1f}" y2="{y:.1f}" stroke="{RED}" stroke-width="2.5" '
                   f'stroke-dasharray="8 5"/>'
                   f'<line x1="{x}" x2="{x + 28}" y1="{18}" y2="{18}" stroke="{RED}" stroke-width="2.5" '
                   f'stroke-dasharray="8 5"/><text x="{x + 34}" y="{25}">{escape(label)}</text>')
    out.append(f'<line x1="{left}" x2="{right}" y1="{bottom_y}" y2="{bottom_y}" stroke="{TEXT}" stroke-width="1.5"/>')
    out.append("</svg>")
    return Markup("".join(out))


STATUS_STYLE = {"ok": (GREEN, "solid"), "warning": (BROWN, "hatch"), "over": (RED, "cross"), None: (BLUE, "solid")}


def _two_lines(label: str, limit: int) -> tuple[str, str]:
    """A long "A · B · C" label as two lines: "B · C" (what differs most) over "A"."""
    if label.count(" · ") < 2 and (len(label) <= limit or " · " not in label):
        return _short(label, limit), ""
    head, rest = label.split(" · ", 1)
    return _short(rest, limit), _short(head, limit)


def percent_bars(chart_id: str, title: str, desc: str, items: list[tuple[str, Decimal | None, str, str | None]],
                 marks: tuple[int, ...] = (80, 100)) -> Markup:
    """One horizontal bar per item (label, percentage, direct label, status) on a 0–100+% axis
    with a line at each of ``marks``; the status sets colour and pattern, the direct label (in a
    column of its own, right of the axis) names it in words."""
    width = 900
    row, label_width = 46, 270
    left = label_width + 12
    axis_right = width - 235
    top_y = 44
    height = top_y + row * max(len(items), 1) + 12
    largest = max([float(p or 0) for _, p, _, _ in items] + [100.0])
    scale_top = max(120.0, math.ceil(largest / 20) * 20)

    def x_of(value: float) -> float:
        return left + (axis_right - left) * (min(value, scale_top) / scale_top)

    series = [Series(name, [], colour, pattern) for name, (colour, pattern) in
              (("ok", STATUS_STYLE["ok"]), ("warning", STATUS_STYLE["warning"]), ("over", STATUS_STYLE["over"]),
               ("none", STATUS_STYLE[None]))]
    out = [_open(chart_id, title, desc, height, width), _patterns(chart_id, series)]
    bottom = top_y + row * max(len(items), 1)
    for index in range(1, len(items)):
        y = top_y + index * row
        out.append(f'<line x1="12" x2="{width - 12}" y1="{y}" y2="{y}" stroke="#e6e6e6" stroke-width="1"/>')
    for mark in (0, *marks):
        x = x_of(mark)
        dash = ' stroke-dasharray="6 4"' if mark and mark != 100 else ""
        out.append(f'<line x1="{x:.1f}" x2="{x:.1f}" y1="{top_y - 8}" y2="{bottom}" stroke="{TEXT if mark else GRID}" '
                   f'stroke-width="{2 if mark == 100 else 1.5}"{dash}/>'
                   f'<text x="{x:.1f}" y="{top_y - 14}" text-anchor="middle" fill="{MUTED}">{mark}%</text>')
    for index, (label, value, direct, status) in enumerate(items):
        y = top_y + index * row + (row - 24) / 2
        colour, pattern = STATUS_STYLE.get(status, STATUS_STYLE[None])
        fill = colour if pattern == "solid" else f"url(#{chart_id}-{pattern}-{colour[1:]})"
        first, second = _two_lines(label, 38)
        if second:
            out.append(f'<text x="{label_width}" y="{y + 9}" text-anchor="end">{escape(first)}</text>'
                       f'<text x="{label_width}" y="{y + 26}" text-anchor="end" font-size="12" fill="{MUTED}">'
                       f'{escape(second)}</text>')
        else:
            out.append(f'<text x="{label_width}" y="{y + 17}" text-anchor="end">{escape(first)}</text>')
        width = x_of(float(value or 0)) - left
        out.append(f'<rect x="{left}" y="{y:.1f}" width="{max(width, 0):.1f}" height="24" fill="{fill}" '
                   f'stroke="{colour}" stroke-width="1.5"><title>{escape(f"{label}: {direct}")}</title></rect>')
        if value is not None and float(value) > scale_top:
            out.append(f'<text x="{axis_right - 4:.1f}" y="{y + 17:.1f}" text-anchor="end" fill="#ffffff" '
                       f'font-weight="700">»</text>')
        amount, _, words = direct.partition(" · ")
        if words:
            out.append(f'<text x="{axis_right + 12:.1f}" y="{y + 9:.1f}" font-weight="700">{escape(amount)}</text>'
                       f'<text x="{axis_right + 12:.1f}" y="{y + 26:.1f}" font-size="12">{escape(words)}</text>')
        else:
            out.append(f'<text x="{axis_right + 12:.1f}" y="{y + 17:.1f}" font-weight="700">{escape(direct)}</text>')
    out.append("</svg>")
    return Markup("".join(out))
