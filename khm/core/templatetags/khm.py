from __future__ import annotations

import datetime as dt
from typing import Any

from django import template
from django.utils.translation import get_language

from khm.core.dates import age_on, format_be_numeric, format_thai_date

register = template.Library()


@register.filter
def thaidate(value: dt.date | dt.datetime | None, arg: str = "") -> str:
    if isinstance(value, dt.datetime):
        from django.utils import timezone

        value = timezone.localtime(value) if timezone.is_aware(value) else value
        text = format_thai_date(value.date(), lang=get_language() or "th", short=arg == "short")
        return f"{text} {value:%H:%M}"
    return format_thai_date(value, lang=get_language() or "th", short=arg == "short")


@register.filter
def benumeric(value: dt.date | None) -> str:
    return format_be_numeric(value)


@register.filter
def age(value: dt.date | None) -> str:
    if value is None:
        return ""
    return str(age_on(value, dt.date.today()))


@register.filter
def get_item(mapping: Any, key: Any) -> Any:
    """``{{ dict|get_item:key }}`` for keys that are not identifiers (area codes)."""
    try:
        return mapping.get(key)
    except AttributeError:
        return None


@register.filter
def tr(label: Any) -> str:
    """A {th, en} label of instrument data in the page's language (Thai when no English)."""
    if isinstance(label, dict):
        lang = get_language() or "th"
        return str(label.get("en") if lang.startswith("en") and label.get("en") else label.get("th", ""))
    return "" if label is None else str(label)
