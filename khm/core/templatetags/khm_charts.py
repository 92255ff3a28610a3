"""Server-rendered, dependency-free SVG charts for assessment pages.

    {% load khm_charts %}
    {% radar_chart axes series max_value=4 min_value=1 size=280 title="…" %}
    {% bar_chart rows value_format="{:,.0f}" max_value=None title="…" width=320 %}
    {% stacked_bar parts title="…" width=320 %}

Each tag returns ``<figure class="khm-chart …">`` holding an ``<svg role="img">`` whose ``<title>`` and
``<desc>`` carry every number as text, plus an HTML legend where one is needed. All text is escaped;
a colour that is not a plain CSS colour (hex, name, rgb()/hsl()) falls back to the default.
Nothing to show gives ``<p class="khm-chart-empty">ไม่มีข้อมูล / No data</p>`` instead of an empty chart.
"""

from __future__ import annotations

import math
import re
import unicodedata
import uuid
from collections.abc import Iterable, Mapping, Sequence
from typing import Any

from django import template
from django.utils.html import escape
from django.utils.safestring import SafeString, mark_safe

register = template.Library()

BRAND = "#0b5d3b"
INK = "#1a1a1a"
MUTED = "#5a5a5a"
GRID = "#c8c8c8"
NO_DATA = "ไม่มีข้อมูล / No data"
MISSING = "ไม่มีข้อมูล"
# ColorBrewer RdBu ramp (colour-blind safe): 1 อยู่ลำบาก (worst) … 4 อยู่ดี (best).
# 1 is dark and 2 light (grey contrast 3.4:1), so they also differ in greyscale; 1 and 4 take white text, 2 and 3 dark text.
LEVEL_COLORS: dict[int, str] = {1: "#b2182b", 2: "#f4a582", 3: "#92c5de", 4: "#2166ac"}
# stroke, fill, fill-opacity, dash pattern, stroke width — per series style; drawn in this order (primary on top).
_SERIES_STYLES: dict[str, tuple[str, str, str, str, str]] = {
    "reference": ("#6b6b6b", "none", "0", "0.5 4", "2"),
    "secondary": ("#5e3c99", "none", "0", "6 4", "2"),
    "primary": (BRAND, BRAND, "0.25", "", "2.5"),
}
_COLOR_RE = re.compile(r"#[0-9a-fA-F]{3,8}|[a-zA-Z]{3,24}|(?:rgba?|hsla?)\([0-9.,%\s]+\)")
_LABEL_CHARS = 42  # longer bar labels are cut (full text stays in the tooltip and <desc>)


def _num(value: Any) -> float | None:
    if value is None or value == "":
        return None
    try:
        number = float(value)
    except (TypeError, ValueError):
        return None
    return number if math.isfinite(number) else None


def _color(value: Any, default: str) -> str:
    text = str(value or "").strip()
    return text if _COLOR_RE.fullmatch(text) else default


def _text_on(color: str) -> str:
    """White or ink, whichever contrasts more with a #rgb/#rrggbb background (ink for other colours)."""
    digits = color.lstrip("#")
    if not re.fullmatch(r"[0-9a-fA-F]{3}|[0-9a-fA-F]{6}", digits) or not color.startswith("#"):
        return INK
    if len(digits) == 3:
        digits = "".join(c * 2 for c in digits)
    channels = [int(digits[i : i + 2], 16) / 255 for i in (0, 2, 4)]
    lin = [c / 12.92 if c <= 0.04045 else ((c + 0.055) / 1.055) ** 2.4 for c in channels]
    lum = 0.2126 * lin[0] + 0.7152 * lin[1] + 0.0722 * lin[2]
    return "#fff" if 1.05 / (lum + 0.05) >= (lum + 0.05) / 0.0603 else INK


def _text_width(text: str, font_size: float) -> float:
    """Rough rendered width: Thai vowel/tone marks (category Mn) take no room; 0.62 em per other character."""
    return sum(unicodedata.category(c) != "Mn" for c in text) * 0.62 * font_size


def _p(value: float) -> str:
    return f"{value:.1f}"


def _uid() -> str:
    return f"khm-chart-{uuid.uuid4().hex[:12]}"


def _empty() -> SafeString:
    return mark_safe(f'<p class="khm-chart-empty">{escape(NO_DATA)}</p>')  # noqa: S308 - constant text


def _figure(
    kind: str, uid: str, view_box: str, max_width: float, title: str, desc: str, body: Iterable[str], legend: str = ""
) -> SafeString:
    svg = (
        f'<svg xmlns="http://www.w3.org/2000/svg" viewBox="{view_box}" width="100%" style="max-width:{max_width:g}px" '
        f'role="img" aria-labelledby="{uid}-title {uid}-desc" id="{uid}">'
        f'<title id="{uid}-title">{escape(title)}</title><desc id="{uid}-desc">{escape(desc)}</desc>{"".join(body)}</svg>'
    )
    # Every piece of text above went through escape(); the markup itself is ours.
    return mark_safe(f'<figure class="khm-chart khm-chart-{kind}">{svg}{legend}</figure>')  # noqa: S308


def _legend(items: Iterable[tuple[str, str]]) -> str:
    """HTML legend; items are (swatch markup, already-escaped text)."""
    return (
        '<ul class="khm-chart-legend">'
        + "".join(f"<li>{swatch}<span>{text}</span></li>" for swatch, text in items)
        + "</ul>"
    )


def _swatch(color: str) -> str:
    return f'<span class="khm-swatch" style="background:{color}" aria-hidden="true"></span>'


def _line_swatch(style: str) -> str:
    stroke, fill, opacity, dash, width = _SERIES_STYLES[style]
    return (
        f'<svg class="khm-line-swatch" width="28" height="12" viewBox="0 0 28 12" aria-hidden="true">'
        f'<rect x="0" y="2" width="28" height="8" fill="{fill}" fill-opacity="{opacity}"/>'
        f'<line x1="1" y1="6" x2="27" y2="6" stroke="{stroke}" stroke-width="{width}" stroke-dasharray="{dash or "none"}" stroke-linecap="round"/></svg>'
    )


@register.simple_tag
def radar_chart(
    axes: Iterable[Sequence[Any]],
    series: Iterable[Mapping[str, Any]],
    max_value: float = 4,
    min_value: float = 1,
    size: float = 280,
    title: str = "แผนภาพทุน / Radar chart",
) -> SafeString:
    """Radar ("capital pentagon"): axes are (code, label) pairs; series up to 3 dicts label/values/style."""
    axis_list = [(str(code), str(label)) for code, label in axes]
    series_list = list(series)[:3]
    if len(axis_list) < 3 or not series_list:
        return _empty()
    lo, hi, size = float(min_value), float(max_value), float(size)
    hi = hi if hi > lo else lo + 1
    cx = cy = size / 2
    radius = size * 0.26
    n = len(axis_list)
    units = [(math.sin(2 * math.pi * i / n), -math.cos(2 * math.pi * i / n)) for i in range(n)]

    def at(i: int, value: float | None) -> tuple[float, float]:
        frac = 0.0 if value is None else min(max((value - lo) / (hi - lo), 0.0), 1.0)
        return cx + units[i][0] * radius * frac, cy + units[i][1] * radius * frac

    def points(values: Sequence[float | None]) -> str:
        return " ".join(f"{_p(x)},{_p(y)}" for x, y in (at(i, v) for i, v in enumerate(values)))

    body: list[str] = []
    ticks = list(range(math.ceil(lo), math.floor(hi) + 1))
    for tick in ticks:
        if tick > lo:
            body.append(
                f'<polygon class="khm-radar-ring" data-value="{tick}" points="{points([tick] * n)}" fill="none" stroke="{GRID}" stroke-width="1"/>'
            )
    for i in range(n):
        x, y = at(i, hi)
        body.append(f'<line x1="{_p(cx)}" y1="{_p(cy)}" x2="{_p(x)}" y2="{_p(y)}" stroke="{GRID}" stroke-width="1"/>')
    for tick in ticks:
        x, y = at(0, tick)
        body.append(
            f'<text class="khm-radar-tick" x="{_p(x - 5)}" y="{_p(y + 3.5)}" text-anchor="end" font-size="10" fill="{MUTED}">{tick}</text>'
        )

    rows: list[tuple[str, str, list[float | None]]] = []
    for s in series_list:
        style = str(s.get("style") or "primary")
        style = style if style in _SERIES_STYLES else "primary"
        values_map = s.get("values") or {}
        rows.append((str(s.get("label") or ""), style, [_num(values_map.get(code)) for code, _ in axis_list]))
    for label, style, values in sorted(rows, key=lambda row: list(_SERIES_STYLES).index(row[1])):
        stroke, fill, opacity, dash, width = _SERIES_STYLES[style]
        dash_attr = f' stroke-dasharray="{dash}" stroke-linecap="round"' if dash else ""
        body.append(
            f'<polygon class="khm-radar-series khm-radar-{style}" points="{points(values)}" fill="{fill}" '
            f'fill-opacity="{opacity}" stroke="{stroke}" stroke-width="{width}" stroke-linejoin="round"{dash_attr}/>'
        )
        for i, value in enumerate(values):
            x, y = at(i, value)
            shown = MISSING if value is None else f"{value:.2f}"
            tip = escape(f"{axis_list[i][1]}: {shown} ({label})")
            kind, dot_fill = (
                ("khm-radar-point khm-radar-missing", "#fff") if value is None else ("khm-radar-point", stroke)
            )
            body.append(
                f'<circle class="{kind} khm-radar-{style}" cx="{_p(x)}" cy="{_p(y)}" r="{4.5 if value is None else 3.5}" '
                f'fill="{dot_fill}" stroke="{stroke}" stroke-width="1.5"><title>{tip}</title></circle>'
            )

    lead = next((values for _, style, values in rows if style == "primary"), rows[0][2])
    top, bottom, left, right = cy - radius, cy + radius, 0.0, size
    for i, (_, label) in enumerate(axis_list):
        ux, uy = units[i]
        x, y = cx + ux * (radius + 12), cy + uy * (radius + 12)
        anchor = "middle" if abs(ux) < 0.3 else ("start" if ux > 0 else "end")
        first = y - 15 if uy < -0.5 else (y + 11 if uy > 0.5 else y - 3)
        shown = "–" if lead[i] is None else f"{lead[i]:.2f}"
        body.append(
            f'<text class="khm-radar-label" x="{_p(x)}" y="{_p(first)}" text-anchor="{anchor}" font-size="13" fill="{INK}">{escape(label)}</text>'
            f'<text class="khm-radar-value" x="{_p(x)}" y="{_p(first + 15)}" text-anchor="{anchor}" font-size="12" font-weight="700" fill="{INK}">{shown}</text>'
        )
        top, bottom = min(top, first - 14), max(bottom, first + 20)
        wide = max(_text_width(label, 13), _text_width(shown, 12))
        start = x - wide / 2 if anchor == "middle" else (x if anchor == "start" else x - wide)
        left, right = min(left, start - 2), max(right, start + wide + 2)

    desc = "; ".join(
        f"{label}: "
        + ", ".join(
            f"{axis} {MISSING if v is None else f'{v:.2f}'}" for (_, axis), v in zip(axis_list, values, strict=True)
        )
        for label, _, values in rows
    )
    legend = _legend((_line_swatch(style), escape(label)) for label, style, _ in rows) if len(rows) > 1 else ""
    uid = _uid()
    return _figure(
        "radar", uid, f"{_p(left)} {_p(top)} {_p(right - left)} {_p(bottom - top)}", size, title, desc, body, legend
    )


@register.simple_tag
def bar_chart(
    rows: Iterable[Mapping[str, Any]],
    value_format: str = "{:,.0f}",
    max_value: float | None = None,
    title: str = "แผนภูมิแท่ง / Bar chart",
    width: float = 320,
) -> SafeString:
    """Horizontal bars, label above each bar and the formatted value at its end."""
    items = [
        (str(r.get("label") or ""), _num(r.get("value")), str(r.get("note") or ""), _color(r.get("color"), BRAND))
        for r in rows
    ]
    if not items:
        return _empty()
    width = float(width)
    top = _num(max_value) or max([v for _, v, _, _ in items if v is not None] + [0.0])
    top = top if top > 0 else 1.0
    span = width - 76  # room for the value text after the longest bar
    row_h = 44
    body: list[str] = []
    described: list[str] = []
    for i, (label, value, note, color) in enumerate(items):
        shown = "–" if value is None else value_format.format(value)
        length = 0.0 if value is None else span * min(max(value / top, 0.0), 1.0)
        length = 1.0 if value and value > 0 and length < 1 else length
        y = i * row_h
        cut = label if len(label) <= _LABEL_CHARS else label[: _LABEL_CHARS - 1] + "…"
        note_span = f'<tspan fill="{MUTED}" font-size="12"> · {escape(note)}</tspan>' if note else ""
        full = f"{label}: {shown}" + (f" ({note})" if note else "")
        described.append(full)
        body.append(
            f'<text class="khm-bar-label" x="0" y="{y + 14}" font-size="14" fill="{INK}">{escape(cut)}{note_span}</text>'
            f'<rect class="khm-bar" x="0" y="{y + 19}" width="{length:.2f}" height="16" rx="2" fill="{escape(color)}">'
            f"<title>{escape(full)}</title></rect>"
            f'<text class="khm-bar-value" x="{_p(length + 6)}" y="{y + 32}" font-size="13" font-weight="700" fill="{INK}">{escape(shown)}</text>'
        )
    uid = _uid()
    return _figure("bar", uid, f"0 0 {width:g} {len(items) * row_h}", width, title, "; ".join(described), body)


def _tenths(values: Sequence[float], total: float) -> list[int]:
    """Shares in tenths of a percent that add up to exactly 1000 (largest-remainder rounding)."""
    raw = [v * 1000 / total for v in values]
    shares = [math.floor(r) for r in raw]
    by_remainder = sorted(range(len(raw)), key=lambda i: raw[i] - shares[i], reverse=True)
    for i in by_remainder[: 1000 - sum(shares)]:
        shares[i] += 1
    return shares


@register.simple_tag
def stacked_bar(
    parts: Iterable[Mapping[str, Any]],
    title: str = "สัดส่วน / Distribution",
    width: float = 320,
) -> SafeString:
    """One 100 % bar: parts are label/value (a count)/color; percentages (one decimal) add up to 100.0."""
    items = [
        (
            str(p.get("label") or ""),
            max(_num(p.get("value")) or 0.0, 0.0),
            _color(p.get("color"), LEVEL_COLORS[i % 4 + 1]),
        )
        for i, p in enumerate(parts)
    ]
    total = sum(v for _, v, _ in items)
    if total <= 0:
        return _empty()
    width = float(width)
    shares = _tenths([v for _, v, _ in items], total)
    body: list[str] = []
    legend: list[tuple[str, str]] = []
    described: list[str] = []
    x = 0.0
    for (label, value, color), share in zip(items, shares, strict=True):
        pct = f"{share / 10:.1f}%"
        text = f"{label} {value:,.0f} ({pct})"
        described.append(text)
        legend.append((_swatch(escape(color)), escape(text)))
        if value <= 0:
            continue
        seg = width * value / total
        body.append(
            f'<rect class="khm-stack-part" x="{x:.2f}" y="0" width="{seg:.2f}" height="30" fill="{escape(color)}" '
            f'stroke="#fff" stroke-width="1"><title>{escape(text)}</title></rect>'
        )
        if seg >= len(pct) * 6.5 + 4:  # room for the text (12 px, bold digits)
            body.append(
                f'<text class="khm-stack-pct" x="{_p(x + seg / 2)}" y="20" text-anchor="middle" font-size="12" '
                f'font-weight="700" fill="{_text_on(color)}">{pct}</text>'
            )
        x += seg
    uid = _uid()
    return _figure("stack", uid, f"0 0 {width:g} 30", width, title, ", ".join(described), body, _legend(legend))
