"""Printed documents: a Django template to PDF (WeasyPrint) in the Sarabun font, and the Thai
numbers, dates and times official documents use (๕ ธันวาคม ๒๕๖๙, ๐๙.๓๐ น.).

Sarabun comes from the npm package ``@fontsource/sarabun``; ``make static`` copies its Thai and
Latin subsets (regular and bold) to ``static/vendor/fonts/sarabun/``. WeasyPrint only uses an
``@font-face`` font when the CSS and the document share one ``FontConfiguration``, so both are
built together and kept per thread (building them loads the fonts into fontconfig, which is the
slow part; WeasyPrint and fontconfig give no promise that one configuration may be used by two
threads at once).

Templates are rendered with the ordinary template engine, so everything in them is escaped;
the URL fetcher below still refuses anything but local static files and ``data:`` URLs, so a
document can never make the server fetch a network address.
"""

from __future__ import annotations

import atexit
import datetime as dt
import logging
import re
import threading
from pathlib import Path
from typing import Any
from urllib.parse import unquote, urlparse

from django.conf import settings
from django.contrib.staticfiles import finders
from django.core.exceptions import ImproperlyConfigured
from django.http import HttpRequest
from django.template.loader import render_to_string
from django.utils import timezone

from khm.core.dates import format_thai_date
from khm.engines.ids import THAI_DIGITS

# --------------------------------------------------------------------------- Thai numbers, dates

# ids.THAI_DIGITS reads Thai digits (๐-๙) as Arabic ones; printing goes the other way.
TO_THAI_DIGITS = {arabic: thai for thai, arabic in THAI_DIGITS.items()}

WEEKDAYS_TH = ("จันทร์", "อังคาร", "พุธ", "พฤหัสบดี", "ศุกร์", "เสาร์", "อาทิตย์")  # date.weekday() order


def thai_digits(value: object) -> str:
    """``1/2569`` → ``๑/๒๕๖๙``: every Arabic digit of ``str(value)`` as a Thai digit."""
    if value is None:
        return ""
    return str(value).translate(TO_THAI_DIGITS)


def _as_date(value: dt.date | dt.datetime) -> dt.date:
    if isinstance(value, dt.datetime):
        return (timezone.localtime(value) if timezone.is_aware(value) else value).date()
    return value


def thai_date_full(value: dt.date | dt.datetime | None, *, short: bool = False) -> str:
    """``๕ ธันวาคม ๒๕๖๙`` (Buddhist Era, Thai digits); ``short``: ``๕ ธ.ค. ๒๕๖๙``."""
    if value is None:
        return ""
    return thai_digits(format_thai_date(_as_date(value), lang="th", short=short))


def thai_weekday(value: dt.date | dt.datetime | None) -> str:
    """``ศุกร์``, as in ``เมื่อวันศุกร์ที่ ๔ ธันวาคม ๒๕๖๙``."""
    if value is None:
        return ""
    return WEEKDAYS_TH[_as_date(value).weekday()]


def thai_time(value: dt.time | dt.datetime | None) -> str:
    """``๐๙.๓๐ น.``: the time as Thai official documents write it."""
    if value is None:
        return ""
    if isinstance(value, dt.datetime) and timezone.is_aware(value):
        value = timezone.localtime(value)
    return thai_digits(f"{value.hour:02d}.{value.minute:02d} น.")


# --------------------------------------------------------------------------- PDF

FONT_FAMILY = "Sarabun"
FONT_STATIC_DIR = "vendor/fonts/sarabun"
# Each subset file gets a family of its own: WeasyPrint keys the fonts it embeds by family, weight
# and style only, so two files under one family name became one PDF font drawn with the other
# file's glyph numbers (Latin letters printed and copied as Thai ones). Thai first, so the spaces
# inside Thai text come from the Thai file and a Thai line is not cut into runs. Ranges as
# @fontsource/sarabun 5.3.0 declares them (its unicode.json).
_SUBSETS = {
    "thai": (f"{FONT_FAMILY} Thai", "U+02D7, U+0303, U+0331, U+0E01-0E5B, U+200C-200D, U+25CC"),
    "latin": (
        FONT_FAMILY,
        "U+0000-00FF, U+0131, U+0152-0153, U+02BB-02BC, U+02C6, U+02DA, U+02DC, U+0304, U+0308, "
        "U+0329, U+2000-206F, U+20AC, U+2122, U+2191, U+2193, U+2212, U+2215, U+FEFF, U+FFFD",
    ),
}
FONT_STACK = ", ".join(f'"{family}"' for family, _ in _SUBSETS.values())  # for CSS font-family
FONT_WEIGHTS = (400, 700)
# A4 with the margins of Thai official documents (ระเบียบงานสารบรรณ: top 2.5 cm, left 3 cm, right
# 2 cm, bottom 2 cm) and the page number as "- ๒ -" at the top centre from the second page.
# Size: Google's Sarabun is drawn on Latin metrics; its Thai letters are about 1.45 times the
# size of TH Sarabun New's at the same point size (น: 0.596 em against TH Sarabun New's 0.41 em,
# measured through TLWG's Laksaman, TH Sarabun New scaled by 150.42 %). The 16 pt of a TH Sarabun
# letter is therefore about 11 pt of Sarabun; 12 pt keeps that look, a little larger for older
# readers, and line-height 1.6 (19 pt) comes close to the line pitch of TH Sarabun at 16 pt (21 pt).
# At 16 pt, Sarabun would print like TH Sarabun at 23 pt.
BODY_PT = 12
PAGE_CSS = f"""
@page {{
  size: A4; margin: 2.5cm 2cm 2cm 3cm;
  @top-center {{ content: "- " counter(page, thai) " -"; font-family: {FONT_STACK}; font-size: {BODY_PT}pt;
                 vertical-align: bottom; padding-bottom: 0.6cm; }}
}}
@page :first {{ @top-center {{ content: none; }} }}
html {{ font-family: {FONT_STACK}; font-size: {BODY_PT}pt; line-height: 1.6; }}
"""
FONTS_MISSING = "The Sarabun font for PDF documents is missing ({name}): run `make static`."


def font_path(subset: str, weight: int) -> Path:
    """The local file of one Sarabun face (static files first, then the collected ones)."""
    name = f"{FONT_STATIC_DIR}/sarabun-{subset}-{weight}-normal.woff"
    found = finders.find(name)
    if isinstance(found, list):
        found = found[0] if found else None
    if found:
        return Path(found).resolve()
    collected = Path(settings.STATIC_ROOT or "") / name
    if settings.STATIC_ROOT and collected.is_file():
        return collected.resolve()
    raise ImproperlyConfigured(FONTS_MISSING.format(name=name))


def font_face_css() -> str:
    """``@font-face`` rules for Sarabun regular and bold, Thai and Latin subsets (use ``FONT_STACK``)."""
    rules = []
    for weight in FONT_WEIGHTS:
        for subset, (family, ranges) in _SUBSETS.items():
            rules.append(
                f'@font-face {{ font-family: "{family}"; font-style: normal; font-weight: {weight}; '
                f"src: url('{font_path(subset, weight).as_uri()}') format('woff'); unicode-range: {ranges}; }}"
            )
    return "\n".join(rules)


# WeasyPrint gives the text of a cluster drawn with several glyphs to one of them, and each glyph
# keeps the first text it was drawn with (Kozea/WeasyPrint#2841). HarfBuzz draws SARA AM (ำ) as
# NIKHAHIT + SARA AA, moving NIKHAHIT before a tone mark, so "น้ำ" came out of the PDF as "นา" and,
# when it was the first such glyph, turned every later "า" into "น้ำ". Writing SARA AM already
# decomposed in that drawing order gives the same glyphs at the same places (checked glyph by
# glyph in both weights) with one character per glyph, so the text layer stays exact: copying
# gives "นํ้า" (NIKHAHIT, tone mark, SARA AA), which looks the same; see ``pdf_text_normalised``.
_SARA_AM = re.compile("([\u0e48-\u0e4b]?)\u0e33")
_SARA_AM_DRAWN = re.compile("\u0e4d([\u0e48-\u0e4b]?)\u0e32")


def decompose_sara_am(text: str) -> str:
    return _SARA_AM.sub("\u0e4d\\1\u0e32", text)


def pdf_text_normalised(text: str) -> str:
    """Text extracted from one of our PDFs, with SARA AM composed again (for search and tests)."""
    return _SARA_AM_DRAWN.sub("\\1\u0e33", text)


# WeasyPrint logs every layout step at INFO; the server log needs only its warnings.
logging.getLogger("weasyprint.progress").setLevel(logging.WARNING)

_local = threading.local()
# Drop the main thread's fonts before the interpreter tears modules down (FontConfiguration's
# finaliser needs them).
atexit.register(_local.__dict__.clear)


def _fonts() -> tuple[Any, Any]:
    """This thread's (FontConfiguration, font CSS), built once."""
    cached = getattr(_local, "fonts", None)
    if cached is None:
        from weasyprint import CSS
        from weasyprint.text.fonts import FontConfiguration

        font_config = FontConfiguration()
        css = CSS(string=font_face_css() + PAGE_CSS, font_config=font_config, url_fetcher=_fetcher())
        cached = _local.fonts = (font_config, css)
    return cached


def _allowed_roots() -> list[Path]:
    roots = [Path(d).resolve() for d in settings.STATICFILES_DIRS if isinstance(d, str | Path)]
    if settings.STATIC_ROOT:
        roots.append(Path(settings.STATIC_ROOT).resolve())
    return roots


def _fetcher() -> Any:
    """A URL fetcher for local static files and ``data:`` URLs only (no network, no other files)."""
    from weasyprint.urls import URLFetcher

    roots = [*_allowed_roots(), font_path("thai", 400).parent]

    class LocalFetcher(URLFetcher):  # type: ignore[misc]
        def fetch(self, url: str, headers: Any = None) -> Any:
            if url.startswith("file:"):
                path = Path(unquote(urlparse(url).path)).resolve()
                if not any(path.is_relative_to(root) for root in roots):
                    raise ValueError(f"not a static file: {url}")
            return super().fetch(url, headers)

    return LocalFetcher(allowed_protocols={"file", "data"})


def render_pdf(template_name: str, context: dict[str, Any], *, request: HttpRequest | None = None) -> bytes:
    """Render a Django template to an A4 PDF in Sarabun with the page set-up of Thai official
    documents (``PAGE_CSS``; the template's own styles come after it and may override it).
    Relative URLs in the template (images, style sheets) are read from the static files."""
    from weasyprint import HTML

    html = decompose_sara_am(render_to_string(template_name, context, request=request))
    font_config, font_css = _fonts()
    roots = _allowed_roots()
    base_url = (roots[0].as_uri() + "/") if roots else None
    document = HTML(string=html, base_url=base_url, url_fetcher=_fetcher())
    pdf: bytes = document.write_pdf(stylesheets=[font_css], font_config=font_config)
    return pdf
