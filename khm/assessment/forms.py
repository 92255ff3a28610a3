"""The desk assessment form, built from the current instrument versions (data, not code),
and the instrument editor form."""

from __future__ import annotations

import datetime as dt
import json
from typing import Any

from django import forms
from django.utils.translation import gettext_lazy as _

from khm.assessment.instruments import label
from khm.core.forms import ThaiDateField
from khm.engines import scoring

ANSWER_CHOICES = [("", "—"), ("pass", _("Passes")), ("fail", _("Fails")), ("na", _("Not applicable"))]
INCOME_LABELS = {
    "main": _("Main occupation"),
    "secondary": _("Secondary occupation"),
    "other": _("Other income (remittances, pensions, allowances, rent…)"),
    "home_produce": _("Value of food and goods produced and used at home"),
}


def current_be_year() -> str:
    return str(dt.date.today().year + 543)


class AssessmentForm(forms.Form):
    """Fields: ``round``, ``assessed_on``; ``cap__<item>``; ``bmn__<code>`` (household
    indicators); ``p__<member>__<code>`` (person indicators, only where they apply);
    ``card__<member>``; ``inc__<source>``."""

    round = forms.CharField(label=_("Survey round (Buddhist-Era year)"), max_length=4)
    assessed_on = ThaiDateField(label=_("Assessed on"))

    def __init__(
        self,
        *args: Any,
        capitals: dict[str, Any],
        bmn: dict[str, Any] | None,
        members: list[dict[str, Any]],
        lang: str,
        **kwargs: Any,
    ) -> None:
        super().__init__(*args, **kwargs)
        self.capitals_def, self.bmn_def, self.members, self.lang = capitals, bmn, members, lang
        self.sections: list[tuple[str, list[str]]] = []
        for cap in capitals["capitals"]:
            names = []
            for item in cap["items"]:
                name = f"cap__{item['code']}"
                text = label(item["label"], lang)
                if item["type"] == "number":
                    self.fields[name] = forms.IntegerField(label=text, required=False, min_value=0)
                else:
                    choices = [(o["value"], label(o["label"], lang)) for o in item["options"]]
                    if item["type"] == "choice":
                        self.fields[name] = forms.ChoiceField(label=text, required=False, choices=[("", "—"), *choices])
                    else:
                        self.fields[name] = forms.MultipleChoiceField(
                            label=text, required=False, choices=choices, widget=forms.CheckboxSelectMultiple
                        )
                names.append(name)
            self.sections.append((label(cap["label"], lang), names))
        for m in members:
            self.fields[f"card__{m['key']}"] = forms.BooleanField(
                label=_("Holds the state welfare card"), required=False, initial=m.get("welfare_card", False)
            )
        self.household_indicators: list[str] = []
        self.person_indicators: list[tuple[dict[str, Any], list[str]]] = []
        self.income_fields: list[str] = []
        if bmn is None:
            return
        for ind in bmn["indicators"]:
            if ind["level"] != "household" or (bmn.get("income") and ind["code"] == bmn["income"]["indicator"]):
                continue
            name = f"bmn__{ind['code']}"
            self.fields[name] = forms.ChoiceField(
                label=f"{ind.get('number', '')}. {label(ind['label'], lang)}", required=False, choices=ANSWER_CHOICES
            )
            self.household_indicators.append(name)
        for m in members:
            names = []
            for ind in bmn["indicators"]:
                if ind["level"] != "person" or not scoring.applies(ind, m):
                    continue
                name = f"p__{m['key']}__{ind['code']}"
                self.fields[name] = forms.ChoiceField(
                    label=f"{ind.get('number', '')}. {label(ind['label'], lang)}",
                    required=False,
                    choices=ANSWER_CHOICES,
                )
                names.append(name)
            self.person_indicators.append((m, names))
        for src in (bmn.get("income") or {}).get("sources", []):
            name = f"inc__{src}"
            self.fields[name] = forms.IntegerField(
                label=INCOME_LABELS.get(src, src), required=False, min_value=0, help_text=_("baht per year")
            )
            self.income_fields.append(name)

    def to_data(self) -> dict[str, Any]:
        cd = self.cleaned_data
        members = [{**m, "welfare_card": bool(cd.get(f"card__{m['key']}"))} for m in self.members]
        capitals: dict[str, Any] = {}
        for cap in self.capitals_def["capitals"]:
            answered = any(cd.get(f"cap__{it['code']}") not in (None, "", []) for it in cap["items"])
            for item in cap["items"]:
                v = cd.get(f"cap__{item['code']}")
                if item["type"] == "multi" and answered:
                    # Nothing ticked in a capital that was asked means "none of these" (0
                    # points), not "not asked" (which would shrink the maximum).
                    capitals[item["code"]] = list(v or [])
                elif v not in (None, "", []):
                    capitals[item["code"]] = v
        data: dict[str, Any] = {"members": members, "capitals": capitals}
        if self.bmn_def is not None:
            household = {n.split("__", 1)[1]: cd[n] for n in self.household_indicators if cd.get(n)}
            persons: dict[str, dict[str, str]] = {}
            for m, names in self.person_indicators:
                answers = {n.rsplit("__", 1)[1]: cd[n] for n in names if cd.get(n)}
                if answers:
                    persons[m["key"]] = answers
            income = {n.split("__", 1)[1]: cd[n] for n in self.income_fields if cd.get(n) is not None}
            data["bmn"] = {"household": household, "persons": persons}
            data["income"] = income
        return data

    def add_problems(self, problems: list[scoring.Problem]) -> None:
        """Put each problem on its field (by path), the rest on the form."""
        for p in problems:
            name = _field_for(p.path)
            msg = f"{p.th} / {p.en}"
            if name in self.fields:
                self.add_error(name, msg)
            else:
                self.add_error(None, f"{p.path}: {msg}")


def _field_for(path: str) -> str:
    parts = path.split(".")
    if parts[0] == "capitals" and len(parts) == 2:
        return f"cap__{parts[1]}"
    if parts[:2] == ["bmn", "household"] and len(parts) == 3:
        return f"bmn__{parts[2]}"
    if parts[:2] == ["bmn", "persons"] and len(parts) == 4:
        return f"p__{parts[2]}__{parts[3]}"
    if parts[0] == "income" and len(parts) == 2:
        return f"inc__{parts[1]}"
    return parts[0]


class InstrumentForm(forms.Form):
    definition = forms.CharField(
        label=_("Definition (JSON)"), widget=forms.Textarea(attrs={"rows": 30, "spellcheck": "false", "class": "code"})
    )
    note = forms.CharField(label=_("What changed and why"), max_length=500, widget=forms.Textarea(attrs={"rows": 2}))

    def clean_definition(self) -> dict[str, Any]:
        text = self.cleaned_data["definition"]
        try:
            value = json.loads(text)
        except json.JSONDecodeError as exc:
            raise forms.ValidationError(
                _("Not valid JSON at line %(line)s, column %(col)s: %(msg)s"),
                params={"line": exc.lineno, "col": exc.colno, "msg": exc.msg},
            ) from None
        if not isinstance(value, dict):
            raise forms.ValidationError(_("The definition must be a JSON object."))
        return value
