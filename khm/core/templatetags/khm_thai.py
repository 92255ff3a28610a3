"""Thai digits, dates and times for printed documents: ``{% load khm_thai %}``.

``{{ forum.number|thainum }}/{{ forum.year_be|thainum }}`` → ๑/๒๕๖๙,
``{{ d|thaidate_full }}`` → ๕ ธันวาคม ๒๕๖๙, ``{{ d|thaidate_short }}`` → ๕ ธ.ค. ๒๕๖๙,
``{{ d|thaiweekday }}`` → ศุกร์, ``{{ t|thaitime }}`` → ๐๙.๓๐ น.
"""

from __future__ import annotations

import datetime as dt

from django import template

from khm.core.pdf import thai_date_full, thai_digits, thai_time, thai_weekday

register = template.Library()


@register.filter
def thainum(value: object) -> str:
    return thai_digits(value)


@register.filter
def thaidate_full(value: dt.date | dt.datetime | None) -> str:
    return thai_date_full(value)


@register.filter
def thaidate_short(value: dt.date | dt.datetime | None) -> str:
    return thai_date_full(value, short=True)


@register.filter
def thaiweekday(value: dt.date | dt.datetime | None) -> str:
    return thai_weekday(value)


@register.filter
def thaitime(value: dt.time | dt.datetime | None) -> str:
    return thai_time(value)
