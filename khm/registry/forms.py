from __future__ import annotations

from typing import Any

from django import forms
from django.utils.translation import gettext_lazy as _

from khm.core.forms import ThaiDateField
from khm.engines.ids import is_valid_national_id, normalise_digits
from khm.registry import errors
from khm.registry.models import Disability, Education, Illness, Occupation, Relation, Sex

TITLES = [("", "—"), ("นาย", "นาย"), ("นาง", "นาง"), ("นางสาว", "นางสาว"), ("เด็กชาย", "เด็กชาย"), ("เด็กหญิง", "เด็กหญิง")]


class HouseholdForm(forms.Form):
    village = forms.ChoiceField(label=_("Village"))
    house_no = forms.CharField(label=_("House number"), max_length=20)
    address_extra = forms.CharField(label=_("Address details"), max_length=200, required=False)
    latitude = forms.DecimalField(
        label=_("Latitude"), max_digits=9, decimal_places=6, required=False, min_value=-90, max_value=90
    )
    longitude = forms.DecimalField(
        label=_("Longitude"), max_digits=9, decimal_places=6, required=False, min_value=-180, max_value=180
    )

    def __init__(self, *args: Any, villages: list[tuple[str, str]], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["village"].choices = villages  # type: ignore[attr-defined]


class HouseholdEditForm(HouseholdForm):
    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, villages=[], **kwargs)
        del self.fields["village"]


class PersonForm(forms.Form):
    national_id = forms.CharField(
        label=_("National ID"), max_length=20, required=False,
        widget=forms.TextInput(attrs={"inputmode": "numeric", "autocomplete": "off"}),
    )  # fmt: skip
    title = forms.ChoiceField(label=_("Title"), choices=TITLES, required=False)
    first_name = forms.CharField(label=_("First name"), max_length=100)
    last_name = forms.CharField(label=_("Last name"), max_length=100)
    first_name_en = forms.CharField(label=_("First name (English)"), max_length=100, required=False)
    last_name_en = forms.CharField(label=_("Last name (English)"), max_length=100, required=False)
    sex = forms.ChoiceField(label=_("Sex"), choices=Sex.choices)
    birth_date = ThaiDateField(label=_("Birth date"), required=False)
    relation = forms.ChoiceField(label=_("Relation to head"), choices=Relation.choices)
    disability = forms.ChoiceField(label=_("Disability"), choices=Disability.choices, required=False)
    chronic_illness = forms.ChoiceField(label=_("Chronic illness"), choices=Illness.choices, required=False)
    education = forms.ChoiceField(label=_("Education"), choices=[("", "—"), *Education.choices], required=False)
    occupation = forms.ChoiceField(label=_("Occupation"), choices=[("", "—"), *Occupation.choices], required=False)
    income_year = forms.IntegerField(
        label=_("Income (baht per year)"), required=False, min_value=0, max_value=100_000_000
    )

    def __init__(self, *args: Any, id_required: bool = False, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["national_id"].help_text = (
            _("13 digits; leave empty to keep the current number") if not id_required else ""
        )

    def clean_national_id(self) -> str:
        value = normalise_digits(self.cleaned_data.get("national_id") or "")
        if not value:
            return ""
        if len(value) != 13 or not value.isdigit():
            raise forms.ValidationError(errors.NID_FORMAT)
        if not is_valid_national_id(value):
            raise forms.ValidationError(errors.NID_CHECKSUM)
        return value


class TransferForm(forms.Form):
    village = forms.ChoiceField(label=_("New village"))
    reason = forms.CharField(label=_("Reason"), max_length=500, widget=forms.Textarea(attrs={"rows": 3}))

    def __init__(self, *args: Any, villages: list[tuple[str, str]], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["village"].choices = villages  # type: ignore[attr-defined]


class LeaveForm(forms.Form):
    event = forms.ChoiceField(label=_("What happened"), choices=[("moved_out", _("Moved out")), ("died", _("Died"))])
    on = ThaiDateField(label=_("Date"), required=False)
    note = forms.CharField(label=_("Note"), max_length=200, required=False)
