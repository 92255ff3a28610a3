"""Forms of the forum pages. Lists people type line by line (attendees, signatures, plan
tasks) are one textarea each, "a | b | c" per line: quick on a phone, and every bad line is
named by its number."""

from __future__ import annotations

import datetime as dt
from typing import Any

from django import forms
from django.utils.translation import gettext_lazy as _

from khm.core.dates import ThaiDateError, parse_thai_date
from khm.core.forms import ThaiDateField
from khm.forums.models import AppealCategory, ResolutionKind

LINES_HELP = _("One per line; separate the parts with |")


def split_lines(text: str) -> list[list[str]]:
    return [[part.strip() for part in line.split("|")] for line in text.splitlines() if line.strip()]


class ForumForm(forms.Form):
    area = forms.ChoiceField(label=_("Area"))
    round = forms.CharField(label=_("Survey round (Buddhist-Era year)"), max_length=4)
    title = forms.CharField(label=_("Title"), max_length=300)
    held_on = ThaiDateField(label=_("Date"))
    starts_at = forms.TimeField(label=_("Starts at"), required=False, widget=forms.TimeInput(attrs={"type": "time"}))
    ends_at = forms.TimeField(label=_("Ends at"), required=False, widget=forms.TimeInput(attrs={"type": "time"}))
    place = forms.CharField(label=_("Place"), max_length=300)
    organisations = forms.MultipleChoiceField(
        label=_("Participating organisations"), required=False, widget=forms.CheckboxSelectMultiple
    )
    chair_name = forms.CharField(label=_("Chair"), max_length=200, required=False)
    chair_position = forms.CharField(label=_("Chair's position"), max_length=200, required=False)
    recorder_name = forms.CharField(label=_("Minutes taken by"), max_length=200, required=False)
    recorder_position = forms.CharField(label=_("Recorder's position"), max_length=200, required=False)
    opening = forms.CharField(
        label=_("Matters the chair informs the meeting of"), required=False, widget=forms.Textarea(attrs={"rows": 3})
    )
    attendees = forms.CharField(
        label=_("Attendance: name | position | organisation | absent: reason"),
        required=False,
        widget=forms.Textarea(attrs={"rows": 6}),
        help_text=LINES_HELP,
    )

    def __init__(
        self, *args: Any, areas: list[tuple[str, str]], organisations: list[tuple[str, str]], **kwargs: Any
    ) -> None:
        super().__init__(*args, **kwargs)
        self.fields["area"].choices = areas  # type: ignore[attr-defined]
        self.fields["organisations"].choices = organisations  # type: ignore[attr-defined]

    def clean_attendees(self) -> list[dict[str, Any]]:
        rows = []
        for i, parts in enumerate(split_lines(self.cleaned_data.get("attendees") or ""), start=1):
            parts += [""] * (4 - len(parts))
            if not parts[0]:
                raise forms.ValidationError(f"บรรทัดที่ {i}: ต้องมีชื่อ / line {i}: a name is required")
            note = parts[3]
            absent = note.lower().startswith(("absent", "ไม่มา", "ลา"))
            rows.append(
                {"name": parts[0], "position": parts[1], "org_text": parts[2], "present": not absent, "note": note}
            )
        return rows


class ItemForm(forms.Form):
    title = forms.CharField(label=_("Matter"), max_length=300)
    detail = forms.CharField(label=_("Detail"), required=False, widget=forms.Textarea(attrs={"rows": 3}))
    household = forms.CharField(label=_("Household code (if about one household)"), max_length=24, required=False)


class DropForm(forms.Form):
    reason = forms.CharField(label=_("Why take it off the agenda"), max_length=300)


class ResolutionForm(forms.Form):
    kind = forms.ChoiceField(label=_("Resolution"), widget=forms.RadioSelect)
    text = forms.CharField(label=_("Resolution text (as in the minutes)"), widget=forms.Textarea(attrs={"rows": 3}))
    decided_on = ThaiDateField(label=_("Decided on"))
    agencies = forms.MultipleChoiceField(
        label=_("Refer to these agencies"), required=False, widget=forms.CheckboxSelectMultiple
    )
    need = forms.ChoiceField(label=_("Need"), required=False)
    tasks = forms.CharField(
        label=_("Help plan: task | agency code or who is responsible | due date | need"),
        required=False,
        widget=forms.Textarea(attrs={"rows": 4}),
        help_text=LINES_HELP,
    )
    enterprise = forms.ChoiceField(label=_("Community enterprise"), required=False)
    link_role = forms.ChoiceField(label=_("Joins as"), required=False)
    household = forms.CharField(
        label=_("Household to put on the list (code) — for an appeal that a household is missing"),
        max_length=24,
        required=False,
    )
    house_no = forms.CharField(label=_("Corrected house number"), max_length=20, required=False)
    address_extra = forms.CharField(label=_("Corrected address details"), max_length=200, required=False)
    signatures = forms.CharField(
        label=_("Signed by: name | role"),
        required=False,
        widget=forms.Textarea(attrs={"rows": 3}),
        help_text=LINES_HELP,
    )

    def __init__(
        self,
        *args: Any,
        kinds: list[str],
        agencies: list[tuple[str, str]],
        needs: list[tuple[str, str]],
        enterprises: list[tuple[str, str]] = (),  # type: ignore[assignment]
        roles: list[tuple[str, str]] = (),  # type: ignore[assignment]
        appeal_category: str = "",
        **kwargs: Any,
    ) -> None:
        super().__init__(*args, **kwargs)
        # Only the parts the resolutions open to this item need.
        drop = set()
        if "refer" not in kinds:
            drop |= {"agencies", "need"}
        if "help_plan" not in kinds:
            drop.add("tasks")
        if "uphold_appeal" not in kinds:
            drop |= {"household", "house_no", "address_extra"}
        elif appeal_category != "wrong_data":
            drop |= {"house_no", "address_extra"}
        for name in drop:
            del self.fields[name]
        self.fields["enterprise"].choices = [("", "—"), *enterprises]  # type: ignore[attr-defined]
        self.fields["link_role"].choices = list(roles)  # type: ignore[attr-defined]
        if not enterprises:
            del self.fields["enterprise"], self.fields["link_role"]
        labels = dict(ResolutionKind.choices)
        self.fields["kind"].choices = [(k, labels[k]) for k in kinds]  # type: ignore[attr-defined]
        if "agencies" in self.fields:
            self.fields["agencies"].choices = agencies  # type: ignore[attr-defined]
            self.fields["need"].choices = [("", "—"), *needs]  # type: ignore[attr-defined]

    def clean_signatures(self) -> list[dict[str, str]]:
        out = []
        for parts in split_lines(self.cleaned_data.get("signatures") or ""):
            out.append({"name": parts[0], "role": parts[1] if len(parts) > 1 else ""})
        return out

    def clean_tasks(self) -> list[dict[str, Any]]:
        out = []
        errors = []
        for i, parts in enumerate(split_lines(self.cleaned_data.get("tasks") or ""), start=1):
            parts += [""] * (4 - len(parts))
            due: dt.date | None = None
            try:
                due = parse_thai_date(parts[2]) if parts[2] else None
            except ThaiDateError:
                errors.append(f"บรรทัดที่ {i}: วันที่อ่านไม่ได้ / line {i}: the date cannot be read")
            if due is None and not errors:
                errors.append(f"บรรทัดที่ {i}: ต้องมีวันกำหนดเสร็จ / line {i}: a due date is required")
            out.append({"task": parts[0], "who": parts[1], "due_on": due, "need": parts[3], "line": i})
        if errors:
            raise forms.ValidationError(errors)
        return out


class PostingForm(forms.Form):
    village = forms.ChoiceField(label=_("Village"))
    round = forms.CharField(label=_("Survey round (Buddhist-Era year)"), max_length=4)
    opens_on = ThaiDateField(label=_("Posted on"))
    days = forms.IntegerField(label=_("Days open for appeals"), min_value=1, max_value=365, initial=15)
    appeal_days = forms.IntegerField(
        label=_("Days for the forum to decide an appeal"), min_value=1, max_value=365, initial=15
    )

    def __init__(self, *args: Any, villages: list[tuple[str, str]], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["village"].choices = villages  # type: ignore[attr-defined]


class AppealForm(forms.Form):
    category = forms.ChoiceField(label=_("What is wrong"), choices=AppealCategory.choices, widget=forms.RadioSelect)
    entry_number = forms.IntegerField(label=_("Number on the posted list"), required=False, min_value=1)
    about = forms.CharField(
        label=_("Household concerned (name, house number) — for a missing household"), max_length=300, required=False
    )
    description = forms.CharField(label=_("Tell us what is wrong"), widget=forms.Textarea(attrs={"rows": 4}))
    name = forms.CharField(label=_("Your name (optional)"), max_length=200, required=False)
    contact = forms.CharField(label=_("Phone or address for the answer (optional)"), max_length=200, required=False)
    # A field people never see: forms that fill it are from robots.
    website = forms.CharField(required=False, widget=forms.TextInput(attrs={"tabindex": "-1", "autocomplete": "off"}))


class AgreementForm(forms.Form):
    title = forms.CharField(label=_("Title"), max_length=300)
    parties = forms.MultipleChoiceField(label=_("Parties"), widget=forms.CheckboxSelectMultiple)
    scope = forms.CharField(label=_("Scope of cooperation"), widget=forms.Textarea(attrs={"rows": 3}))
    areas = forms.CharField(label=_("Areas (codes, separated by spaces)"), max_length=400)
    signed_on = ThaiDateField(label=_("Signed on"))
    starts_on = ThaiDateField(label=_("Valid from"))
    ends_on = ThaiDateField(label=_("Valid until"), required=False)

    def __init__(self, *args: Any, organisations: list[tuple[str, str]], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["parties"].choices = organisations  # type: ignore[attr-defined]


class CriteriaForm(forms.Form):
    definition = forms.CharField(label=_("Criteria (JSON)"), widget=forms.Textarea(attrs={"rows": 24}))
    note = forms.CharField(label=_("What changed and why"), max_length=300)
