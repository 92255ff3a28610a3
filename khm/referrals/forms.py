"""Forms of the referral pages and the agency directory. Choices come from the views (which
read them through the selectors); error messages are in Thai and English, like the
problems the services raise."""

from __future__ import annotations

import re
from typing import Any

from django import forms
from django.utils.translation import gettext_lazy as _

Choices = list[tuple[Any, Any]]

MESSAGES = {
    "required": "ต้องกรอกช่องนี้ / this field is required",
    "invalid_choice": "ไม่ใช่ตัวเลือกที่มีให้ / not one of the choices",
    "invalid": "รูปแบบไม่ถูกต้อง / not valid",
    "max_length": "ยาวเกินไป / too long",
    "min_value": "น้อยเกินไป / too small",
    "max_value": "มากเกินไป / too large",
}


def _both(**extra: str) -> dict[str, str]:
    return {**MESSAGES, **extra}


class ReferralForm(forms.Form):
    need = forms.ChoiceField(label=_("Need"), error_messages=_both(required="ต้องเลือกความจำเป็น / choose a need"))
    person = forms.ChoiceField(label=_("Member concerned (optional)"), required=False, error_messages=_both())
    agency = forms.ChoiceField(label=_("Agency"), error_messages=_both(required="ต้องเลือกหน่วยงาน / choose an agency"))
    service = forms.ChoiceField(label=_("Service"), required=False, error_messages=_both())
    note = forms.CharField(
        label=_("What is needed"),
        required=False,
        max_length=2000,
        widget=forms.Textarea(attrs={"rows": 3}),
        error_messages=_both(),
    )

    def __init__(
        self,
        *args: Any,
        needs: Choices,
        people: Choices,
        agencies: Choices,
        services: Choices,
        refresh_url: str = "",
        **kwargs: Any,
    ) -> None:
        super().__init__(*args, **kwargs)
        self.fields["need"].choices = [("", "—"), *needs]  # type: ignore[attr-defined]
        self.fields["person"].choices = [("", _("The whole household")), *people]  # type: ignore[attr-defined]
        self.fields["agency"].choices = [("", "—"), *agencies]  # type: ignore[attr-defined]
        self.fields["service"].choices = [("", _("No particular service")), *services]  # type: ignore[attr-defined]
        if refresh_url:
            # Choosing a need reorders the agencies; choosing an agency lists its services.
            for name in ("need", "agency"):
                self.fields[name].widget.attrs.update(
                    {
                        "hx-post": refresh_url,
                        "hx-trigger": "change",
                        "hx-target": "#referral-form",
                        "hx-swap": "outerHTML",
                        "hx-vals": f'{{"refresh": "{name}"}}',
                    }
                )


class CommentForm(forms.Form):
    text = forms.CharField(
        label=_("Comment"), required=False, max_length=4000, widget=forms.Textarea(attrs={"rows": 3})
    )
    attachment = forms.FileField(label=_("Attach a file (optional)"), required=False)


AREA_CODE = re.compile(r"^\d{2}(\d{2}){0,3}$")


class AgencyForm(forms.Form):
    code = forms.SlugField(
        label=_("Code"),
        max_length=40,
        help_text=_("Short and unique, in Latin letters, e.g. agency-pso."),
        error_messages=_both(invalid="ใช้ได้เฉพาะอักษรละติน ตัวเลข - และ _ / letters, digits, - and _ only"),
    )
    name_th = forms.CharField(label=_("Thai name"), max_length=200, error_messages=_both())
    name_en = forms.CharField(label=_("English name"), max_length=200, required=False, error_messages=_both())
    type = forms.ChoiceField(label=_("Type"), error_messages=_both())
    organisation = forms.ChoiceField(
        label=_("Organisation"),
        required=False,
        help_text=_("Its agency workers are the users with the agency-worker role in this organisation."),
        error_messages=_both(),
    )
    areas = forms.CharField(
        label=_("Areas covered"),
        help_text=_("Area codes separated by spaces or commas: 46 (the province), 4601 (a district)…"),
        error_messages=_both(),
    )
    email = forms.EmailField(label=_("E-mail"), required=False, error_messages=_both())
    line_to = forms.CharField(label=_("LINE user or group ID"), max_length=64, required=False, error_messages=_both())
    escalation_email = forms.EmailField(
        label=_("District officer e-mail for overdue referrals"), required=False, error_messages=_both()
    )
    active = forms.BooleanField(label=_("Active (takes referrals)"), required=False, initial=True)

    def __init__(self, *args: Any, types: Choices, organisations: Choices | None, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["type"].choices = [("", "—"), *types]  # type: ignore[attr-defined]
        if organisations is None:  # editing: the code and the organisation stay
            del self.fields["organisation"]
            self.fields["code"].disabled = True
        else:
            self.fields["organisation"].choices = [  # type: ignore[attr-defined]
                ("", _("Create a new organisation for this agency")),
                *organisations,
            ]

    def clean_areas(self) -> list[str]:
        codes = [c for c in re.split(r"[\s,;]+", self.cleaned_data["areas"]) if c]
        wrong = [c for c in codes if not AREA_CODE.match(c)]
        if wrong:
            raise forms.ValidationError(f"รหัสพื้นที่ไม่ถูกต้อง: {', '.join(wrong)} / not area codes: {', '.join(wrong)}")
        if not codes:
            raise forms.ValidationError(MESSAGES["required"])
        return sorted(set(codes))


class ServiceForm(forms.Form):
    name_th = forms.CharField(label=_("Thai name"), max_length=200, error_messages=_both())
    name_en = forms.CharField(label=_("English name"), max_length=200, required=False, error_messages=_both())
    needs = forms.MultipleChoiceField(
        label=_("Needs it meets"), widget=forms.CheckboxSelectMultiple, error_messages=_both()
    )
    due_days = forms.IntegerField(
        label=_("Days to act"), min_value=1, max_value=365, initial=30, error_messages=_both()
    )
    active = forms.BooleanField(label=_("Active"), required=False, initial=True)

    def __init__(self, *args: Any, needs: Choices, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["needs"].choices = needs  # type: ignore[attr-defined]
