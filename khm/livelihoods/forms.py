"""Forms of the livelihood pages. Choices come from the views (read through selectors);
error messages are in Thai and English, like the problems the services raise."""

from __future__ import annotations

import datetime as dt
from typing import Any

from django import forms
from django.utils.translation import gettext_lazy as _

from khm.core.forms import ThaiDateField
from khm.livelihoods.imports import parse_month
from khm.livelihoods.models import EnterpriseKind, IncomeSource, LinkRole, NeedKind, Stage, SupportKind
from khm.livelihoods.services import month_end, parse_baht

Choices = list[tuple[Any, Any]]

MESSAGES = {
    "required": "ต้องกรอกช่องนี้ / this field is required",
    "invalid_choice": "ไม่ใช่ตัวเลือกที่มีให้ / not one of the choices",
    "invalid": "รูปแบบไม่ถูกต้อง / not valid",
    "max_length": "ยาวเกินไป / too long",
    "min_value": "น้อยเกินไป / too small",
    "max_value": "มากเกินไป / too large",
}
BAHT_ERROR = "ต้องเป็นจำนวนบาท 0–10,000,000 / baht from 0 to 10,000,000"


def _both(**extra: str) -> dict[str, str]:
    return {**MESSAGES, **extra}


class EnterpriseForm(forms.Form):
    name_th = forms.CharField(label=_("Thai name"), max_length=200, error_messages=_both())
    name_en = forms.CharField(label=_("English name"), max_length=200, required=False, error_messages=_both())
    registration_no = forms.CharField(
        label=_("Registration number"), max_length=40, required=False, error_messages=_both(),
        help_text=_("As on the community enterprise registration certificate, e.g. 4-46-01-01/1-0012"),
    )  # fmt: skip
    kind = forms.ChoiceField(label=_("Kind"), choices=EnterpriseKind.choices, error_messages=_both())
    village = forms.CharField(
        label=_("Village code"), max_length=8, min_length=8, error_messages=_both(),
        help_text=_("The 8-digit code of the village where it is registered"),
    )  # fmt: skip
    products = forms.CharField(
        label=_("Products"), max_length=500, required=False, error_messages=_both(),
        help_text=_("Separated by commas, e.g. silk cloth, dried fish"),
    )  # fmt: skip
    stages = forms.MultipleChoiceField(
        label=_("Value-chain stages"), choices=Stage.choices, widget=forms.CheckboxSelectMultiple,
        error_messages=_both(required="ต้องเลือกอย่างน้อยหนึ่งขั้น / choose at least one stage"),
    )  # fmt: skip
    lead_agency = forms.ChoiceField(
        label=_("Lead agency"), required=False, error_messages=_both(),
        help_text=_("The agency that supports it; a household's link is recorded as help in its name"),
    )  # fmt: skip
    active = forms.BooleanField(label=_("Active"), required=False, initial=True)

    def __init__(self, *args: Any, agencies: Choices, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["lead_agency"].choices = [("", "—"), *agencies]  # type: ignore[attr-defined]
        self.fields["village"].widget.attrs["inputmode"] = "numeric"


class NeedForm(forms.Form):
    kind = forms.ChoiceField(label=_("Kind of need"), choices=NeedKind.choices, error_messages=_both())
    stage = forms.ChoiceField(label=_("Value-chain stage"), choices=Stage.choices, error_messages=_both())
    quantity = forms.IntegerField(
        label=_("How many people or households"), min_value=1, max_value=500, initial=1, error_messages=_both()
    )
    description = forms.CharField(label=_("Description"), max_length=300, required=False, error_messages=_both())


class SupportForm(forms.Form):
    kind = forms.ChoiceField(label=_("Kind of support"), choices=SupportKind.choices, error_messages=_both())
    agency = forms.ChoiceField(label=_("Agency"), required=False, error_messages=_both())
    provider = forms.CharField(label=_("Or another provider"), max_length=200, required=False, error_messages=_both())
    programme = forms.CharField(label=_("Programme"), max_length=200, required=False, error_messages=_both())
    started_on = ThaiDateField(label=_("From"), error_messages=_both())
    ended_on = ThaiDateField(label=_("Until"), required=False, error_messages=_both())
    value_baht = forms.CharField(label=_("Value (baht)"), max_length=20, required=False, initial="0")

    def __init__(self, *args: Any, agencies: Choices, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["agency"].choices = [("", "—"), *agencies]  # type: ignore[attr-defined]


class LinkForm(forms.Form):
    enterprise = forms.ChoiceField(label=_("Enterprise"), error_messages=_both())
    role = forms.ChoiceField(label=_("Role"), choices=LinkRole.choices, error_messages=_both())
    person = forms.ChoiceField(label=_("Member (optional)"), required=False, error_messages=_both())
    started_on = ThaiDateField(label=_("Started on"), error_messages=_both())
    programme = forms.CharField(label=_("Programme"), max_length=200, required=False, error_messages=_both())
    referral = forms.ChoiceField(label=_("From a referral (optional)"), required=False, error_messages=_both())

    def __init__(self, *args: Any, enterprises: Choices, people: Choices, referrals: Choices, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["enterprise"].choices = [("", "—"), *enterprises]  # type: ignore[attr-defined]
        self.fields["person"].choices = [("", _("The whole household")), *people]  # type: ignore[attr-defined]
        self.fields["referral"].choices = [("", "—"), *referrals]  # type: ignore[attr-defined]


class EndLinkForm(forms.Form):
    ended_on = ThaiDateField(label=_("Ended on"), error_messages=_both())
    reason = forms.CharField(label=_("Why it ended"), max_length=300, required=False, error_messages=_both())


class MonthField(forms.CharField):
    """A month typed as 1/2567, 01/2567, 2567-01 or ม.ค. 2567 (Buddhist or Common Era)."""

    def __init__(self, *, last: bool = False, **kwargs: Any) -> None:
        self.last = last
        kwargs.setdefault("max_length", 20)
        kwargs.setdefault("help_text", _("month/Buddhist year, e.g. 1/2567"))
        super().__init__(**kwargs)
        self.widget.attrs.update({"placeholder": "ดด/ปปปป", "inputmode": "numeric"})

    def clean(self, value: Any) -> dt.date | None:  # type: ignore[override]
        text = super().clean(value)
        if not text:
            return None
        found = parse_month(text)
        if found is None:
            raise forms.ValidationError("ไม่ใช่เดือน (เช่น 1/2567) / not a month (e.g. 1/2567)")
        first = dt.date(found[0], found[1], 1)
        return month_end(first) if self.last else first


class IncomeForm(forms.Form):
    """One period with an amount per source (the phone form and the household page)."""

    period_start = MonthField(label=_("First month"), error_messages=_both())
    period_end = MonthField(label=_("Last month"), last=True, error_messages=_both())
    note = forms.CharField(label=_("Note"), max_length=300, required=False, error_messages=_both())

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        for value, label in IncomeSource.choices:
            f = forms.CharField(label=label, max_length=20, required=False)
            f.widget.attrs.update({"inputmode": "decimal", "placeholder": "0"})
            self.fields[f"src_{value}"] = f

    def source_fields(self) -> list[Any]:
        return [self[f"src_{v}"] for v in IncomeSource.values]

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        amounts = {}
        for v in IncomeSource.values:
            raw = (data.get(f"src_{v}") or "").strip()
            if not raw:
                continue
            value = parse_baht(raw)
            if value is None:
                self.add_error(f"src_{v}", BAHT_ERROR)
            else:
                amounts[v] = value
        if not amounts and not self.errors:
            raise forms.ValidationError(
                "กรอกรายได้อย่างน้อยหนึ่งแหล่ง (0 ได้) / enter the income of at least one source (0 is fine)"
            )
        data["amounts"] = amounts
        return data


class ImportForm(forms.Form):
    file = forms.FileField(
        label=_("File (CSV or XLSX)"), error_messages=_both(),
        help_text=_("Columns: household, source, from, to, amount (or รหัสครัวเรือน, แหล่งรายได้, เดือนเริ่ม, เดือนสุดท้าย, รายได้)"),
    )  # fmt: skip

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["file"].widget.attrs["accept"] = ".csv,.xlsx,.txt"
