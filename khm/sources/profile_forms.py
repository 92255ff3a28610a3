"""Forms of the source-list and mapping-profile pages.

Every error names its field in Thai and in English (``BilingualForm``), like the row
errors of an import: an officer may forward a message to someone who reads the other
language, and both name the same field.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from django import forms
from django.core.exceptions import ValidationError
from django.utils.translation import gettext_lazy as _

from khm.accounts.models import Organisation
from khm.sources.forms import MAX_UPLOAD
from khm.sources.models import SourceKind
from khm.sources.profile_services import (
    COLUMN_ROLES,
    LOCKED_WHEN_USED,
    MULTI_ROLES,
    PREVIEW_ROWS,
    ROLE_LABELS,
    SAMPLE_SUFFIXES,
    SAMPLE_TYPE,
    SOURCE_LABELS,
    THRESHOLDS,
    Sample,
    bilingual,
    build_mapping,
    mapping_problems,
    order_address,
    thresholds_ok,
)

BILINGUAL = "bilingual"
SAMPLE_TOO_BIG = _("The file is larger than 200 MB: a few hundred rows are enough for a sample.")
SAMPLE_MISSING = _("Choose the file first, then press “Read the columns”.")
NOT_IN_FILE = _("— not in this file —")
# The shared stylesheet sizes every input as a full-width box; a checkbox needs its own size.
CHECKBOX_STYLE = "display:inline-block;width:1.5rem;height:1.5rem;min-height:0;margin:0"

ID_SCHEMES = [
    ("thai_national_id", _("Thai national ID (13 digits, check digit verified)")),
    ("none", _("Another number (not checked)")),
]
DATE_FORMATS = [
    ("", _("Recognise automatically")),
    ("%d/%m/%Y BE", _("day/month/Buddhist year, e.g. 25/12/2530")),
    ("%d/%m/%Y", _("day/month/Common Era year, e.g. 25/12/1987")),
    ("%Y-%m-%d", _("year-month-day (Common Era), e.g. 1987-12-25")),
]
HELP: dict[str, Any] = {
    "record_id": _("Optional: a column that differs on every row, to find a row again."),
    "id_number": _("The 13-digit national ID."),
    "full_name": _("Only when first and last name share one column; a title such as นาย is taken off."),
    "nickname": _("Optional; helps the matching."),
    "sex": _("ชาย/หญิง, M/F or 1/2."),
    "address": _(
        "Tick every column that is part of the address. The village number (หมู่) is read from it "
        "when there is no village number column."
    ),
    "area_code": _("8-digit village code, or 6-digit subdistrict code together with the village number."),
    "title": _("นาย, นาง, นางสาว …: gives the sex when there is no sex column."),
    "village_no": _("Needed with a 6-digit subdistrict code, unless the address columns hold หมู่."),
    "relation": _("Relation to the head of household."),
    "household_key": _("Rows with the same household code become one household; without it, the house number is used."),
    "sheet": _("Only for Excel files with several sheets: the sheet to read. Empty means the first sheet."),
    "date_format": _("How the file writes dates; automatic recognition reads most Thai forms."),
}
ADDRESS_TEXT_HELP = _("Column names separated by commas, in the order of the address.")
GROUPS: list[tuple[Any, list[str]]] = [
    (_("Identity"), ["record_id", "id_number", "id_scheme"]),
    (_("Name"), ["title", "first_name", "last_name", "full_name", "nickname"]),
    (_("Birth date and sex"), ["birth_date", "date_format", "sex"]),
    (_("Address and area"), ["house_no", "address", "village_no", "area_code", "postcode"]),
    (_("Household"), ["household_key", "relation"]),
    (_("Excel"), ["sheet"]),
]


def _bilingual_error(label: Any, error: ValidationError) -> ValidationError:
    if error.code == BILINGUAL:
        return error
    return ValidationError(bilingual(label, error.message, **(error.params or {})), code=BILINGUAL)


class BilingualForm(forms.Form):
    """A form whose error messages name the field in Thai and in English."""

    def full_clean(self) -> None:
        super().full_clean()
        for name, errs in (getattr(self, "_errors", None) or {}).items():
            label = self.fields[name].label if name in self.fields else ""
            errs.data = [_bilingual_error(label, e) for e in errs.as_data()]


class ProfileForm(BilingualForm):
    """Which column holds which role. With the header of a sample file (``columns``) every
    role is a choice of its columns; without one, column names are typed."""

    name = forms.CharField(label=ROLE_LABELS["name"], max_length=100)
    kind = forms.ChoiceField(label=ROLE_LABELS["kind"], choices=SourceKind.choices)
    id_scheme = forms.ChoiceField(
        label=ROLE_LABELS["id_scheme"], choices=ID_SCHEMES, required=False, initial="thai_national_id"
    )
    date_format = forms.ChoiceField(
        label=ROLE_LABELS["date_format"], choices=DATE_FORMATS, required=False, help_text=HELP["date_format"]
    )
    sheet = forms.CharField(label=ROLE_LABELS["sheet"], max_length=100, required=False, help_text=HELP["sheet"])

    def __init__(
        self, *args: Any, columns: list[str] | None = None, missing: dict[str, str] | None = None, **kwargs: Any
    ) -> None:
        super().__init__(*args, **kwargs)
        self.columns = columns
        for role in COLUMN_ROLES:
            self.fields[role] = self._column_field(role)
        # A saved format the list does not offer stays selectable.
        current = self.data.get("date_format") if self.is_bound else self.initial.get("date_format")
        if current and current not in dict(DATE_FORMATS):
            self.fields["date_format"].choices = [*DATE_FORMATS, (current, current)]  # type: ignore[attr-defined]
        if columns is None and isinstance(self.initial.get("address"), list | tuple):
            self.initial["address"] = ", ".join(self.initial["address"])
        for role, gone in (missing or {}).items():
            # A saved column the sample file does not have: the page says so beside the role.
            self.fields[role].saved_missing = gone  # type: ignore[attr-defined]

    def _column_field(self, role: str) -> forms.Field:
        label, help_text = ROLE_LABELS[role], HELP.get(role, "")
        if self.columns is None:
            if role in MULTI_ROLES:
                help_text = ADDRESS_TEXT_HELP
            return forms.CharField(
                label=label, required=False, max_length=1000 if role in MULTI_ROLES else 200, help_text=help_text,
                widget=forms.TextInput(attrs={"autocomplete": "off"}),
            )  # fmt: skip
        choices = [(c, c) for c in self.columns]
        if role in MULTI_ROLES:
            return forms.MultipleChoiceField(
                label=label, required=False, choices=choices, help_text=help_text,
                widget=forms.CheckboxSelectMultiple(attrs={"style": CHECKBOX_STYLE}),
            )  # fmt: skip
        return forms.ChoiceField(
            label=label, required=False, choices=[("", NOT_IN_FILE), *choices], help_text=help_text,
            widget=forms.Select(attrs={"autocomplete": "off"}),
        )  # fmt: skip

    @property
    def groups(self) -> list[tuple[Any, list[forms.BoundField]]]:
        return [(title, [self[name] for name in names]) for title, names in GROUPS]

    def current_values(self) -> dict[str, Any]:
        """What the officer has entered so far (bound or not), roles as column names."""
        out: dict[str, Any] = {}
        for name in self.fields:
            value = self[name].value()
            if name in MULTI_ROLES:
                if isinstance(value, str):
                    value = value.split(",")
                out[name] = [str(v).strip() for v in value or [] if str(v).strip()]
            else:
                out[name] = str(value).strip() if value not in (None, "") else ""
        return out

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        fields, extra = build_mapping(self._ordered(data))
        for key, messages in mapping_problems(fields, extra).items():
            for m in messages:
                self.add_error(None if key == "__all__" else key, ValidationError(m, code=BILINGUAL))
        return data

    def mapping(self) -> tuple[dict[str, Any], dict[str, str]]:
        return build_mapping(self._ordered(self.cleaned_data))

    def _ordered(self, data: dict[str, Any]) -> dict[str, Any]:
        # Ticked boxes arrive in the file's column order; typed names keep the officer's order.
        if self.columns is not None and data.get("address"):
            return {**data, "address": order_address(data["address"])}
        return data


class SampleForm(BilingualForm):
    sample = forms.FileField(
        label=ROLE_LABELS["sample"],
        required=False,  # the page is saved without one; reading the columns needs it (clean_sample)
        help_text=_("CSV in UTF-8 or TIS-620, or Excel .xlsx / .xls. The file is only read, not kept."),
        widget=forms.ClearableFileInput(attrs={"accept": ",".join(SAMPLE_SUFFIXES)}),
    )

    def clean_sample(self) -> Any:
        f = self.cleaned_data["sample"]
        if not f:
            raise ValidationError(SAMPLE_MISSING)
        if Path(f.name).suffix.lower() not in SAMPLE_SUFFIXES:
            raise ValidationError(SAMPLE_TYPE)
        if f.size > MAX_UPLOAD:
            raise ValidationError(SAMPLE_TOO_BIG)
        return f


def sample_from_post(data: Any) -> Sample | None:
    """The sample header and preview the page carried along in hidden fields (the file
    is read once; the officer then picks columns over several requests)."""
    try:
        columns = json.loads(data.get("sample_columns") or "null")
        rows = json.loads(data.get("sample_rows") or "[]")
    except (TypeError, ValueError):
        return None
    if not (isinstance(columns, list) and 0 < len(columns) <= 500 and all(isinstance(c, str) for c in columns)):
        return None
    if not isinstance(rows, list):
        rows = []
    clean_rows = [
        [str(v)[:300] for v in row][: len(columns)]
        for row in rows[:PREVIEW_ROWS]
        if isinstance(row, list) and all(isinstance(v, str) for v in row)
    ]
    return Sample(columns=[c[:300] for c in columns], rows=clean_rows)


def sample_to_hidden(sample: Sample) -> dict[str, str]:
    return {
        "sample_columns": json.dumps(sample.columns, ensure_ascii=False),
        "sample_rows": json.dumps(sample.rows, ensure_ascii=False),
    }


class SourceForm(BilingualForm):
    code = forms.SlugField(
        label=SOURCE_LABELS["code"], max_length=40,
        help_text=_("Short, without spaces, e.g. tpmap-2567; the import API names the list by it."),
    )  # fmt: skip
    kind = forms.ChoiceField(label=SOURCE_LABELS["kind"], choices=SourceKind.choices)
    name_th = forms.CharField(label=SOURCE_LABELS["name_th"], max_length=200)
    name_en = forms.CharField(label=SOURCE_LABELS["name_en"], max_length=200, required=False)
    owner = forms.ModelChoiceField(
        label=SOURCE_LABELS["owner"], queryset=Organisation.objects.order_by("name_th"), required=False, empty_label="—",
        help_text=_("The agency that sends this list."),
    )  # fmt: skip
    round_label = forms.CharField(
        label=SOURCE_LABELS["round_label"], max_length=20,
        help_text=_("Buddhist year, e.g. 2567, or 2567/1 for the first round of the year."),
    )  # fmt: skip
    match_threshold = forms.FloatField(
        label=SOURCE_LABELS["match_threshold"], min_value=0, max_value=1, initial=0.95,
        help_text=_("At or above this probability a row is the same person as in the registry."),
        widget=forms.NumberInput(attrs={"step": "0.01", "inputmode": "decimal"}),
    )  # fmt: skip
    review_threshold = forms.FloatField(
        label=SOURCE_LABELS["review_threshold"], min_value=0, max_value=1, initial=0.5,
        help_text=_("Between this and the match threshold a person decides; below it the row is a new person."),
        widget=forms.NumberInput(attrs={"step": "0.01", "inputmode": "decimal"}),
    )  # fmt: skip

    def __init__(self, *args: Any, locked: bool = False, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.locked = locked
        if locked:
            for name in LOCKED_WHEN_USED:
                self.fields[name].disabled = True

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        match, review = data.get("match_threshold"), data.get("review_threshold")
        if match is not None and review is not None and not thresholds_ok(match, review):
            message = bilingual(SOURCE_LABELS["review_threshold"], THRESHOLDS)
            self.add_error("review_threshold", ValidationError(message, code=BILINGUAL))
        return data
