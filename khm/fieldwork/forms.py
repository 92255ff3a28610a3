from __future__ import annotations

from typing import Any

from django import forms
from django.utils.translation import gettext_lazy as _

from khm.core.forms import ThaiDateField
from khm.fieldwork.models import Outcome, Selection


class CampaignForm(forms.Form):
    name = forms.CharField(label=_("Name"), max_length=200)
    area = forms.ChoiceField(label=_("Area"))
    round = forms.CharField(label=_("Survey round (Buddhist-Era year)"), max_length=4)
    selection = forms.ChoiceField(label=_("Households"), choices=Selection.choices)
    due_on = ThaiDateField(label=_("Due on"), required=False)

    def __init__(self, *args: Any, areas: list[tuple[str, str]], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["area"].choices = areas  # type: ignore[attr-defined]


class AssignForm(forms.Form):
    assignee = forms.ChoiceField(label=_("Give to"))
    villages = forms.MultipleChoiceField(label=_("Villages"), widget=forms.CheckboxSelectMultiple)

    def __init__(
        self, *args: Any, people: list[tuple[str, str]], villages: list[tuple[str, str]], **kwargs: Any
    ) -> None:
        super().__init__(*args, **kwargs)
        self.fields["assignee"].choices = people  # type: ignore[attr-defined]
        self.fields["villages"].choices = villages  # type: ignore[attr-defined]


class VerificationForm(forms.Form):
    """The desk verification: the same outcomes as the phone (the questionnaire is the
    assessment form, shown below it)."""

    outcome = forms.ChoiceField(label=_("Outcome"), choices=Outcome.choices, widget=forms.RadioSelect)
    verified_on = ThaiDateField(label=_("Verified on"))
    moved_to = forms.CharField(label=_("Moved to (where)"), max_length=200, required=False)
    duplicate_of = forms.CharField(label=_("Duplicate of household (code)"), max_length=24, required=False)
    notes = forms.CharField(label=_("Notes"), widget=forms.Textarea(attrs={"rows": 3}), required=False)
