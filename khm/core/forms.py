from __future__ import annotations

import datetime as dt
from typing import Any

from django import forms
from django.core.exceptions import ValidationError
from django.utils.translation import gettext_lazy as _

from khm.core.dates import ThaiDateError, format_be_numeric, parse_thai_date

DATE_MESSAGES = {
    "format": _("Date not understood: type day/month/Buddhist year, for example 25/12/2530."),
    "year": _("Year not understood: use the Buddhist Era (for example 2530) or the Common Era (1987)."),
    "invalid": _("This date does not exist."),
}


class ThaiDateInput(forms.TextInput):
    def format_value(self, value: Any) -> str | None:
        if isinstance(value, dt.date):
            return format_be_numeric(value)
        return super().format_value(value)


class ThaiDateField(forms.Field):
    """A date typed in the Buddhist Era (25/12/2530), Thai digits welcome."""

    widget = ThaiDateInput

    def __init__(self, **kwargs: Any) -> None:
        kwargs.setdefault("help_text", _("day/month/Buddhist year, e.g. 25/12/2530"))
        super().__init__(**kwargs)
        self.widget.attrs.setdefault("placeholder", "วว/ดด/ปปปป")
        self.widget.attrs.setdefault("inputmode", "numeric")

    def to_python(self, value: Any) -> dt.date | None:
        if value in (None, ""):
            return None
        if isinstance(value, dt.date):
            return value
        try:
            return parse_thai_date(str(value))
        except ThaiDateError as exc:
            raise ValidationError(DATE_MESSAGES[exc.code], code=exc.code) from None


def apply_service_errors(form: forms.Form, exc: ValidationError) -> None:
    """Put a service's ValidationError on the form fields it names."""
    if hasattr(exc, "error_dict"):
        for field, errs in exc.error_dict.items():
            target = field if field in form.fields else None
            for e in errs:
                form.add_error(target, e)
    else:
        for msg in exc.messages:
            form.add_error(None, msg)
