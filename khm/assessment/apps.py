from __future__ import annotations

from django.apps import AppConfig


class Config(AppConfig):
    name = "khm.assessment"
    label = "assessment"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        from khm.assessment.panels import assessment_panel
        from khm.core.panels import register_household_panel

        register_household_panel(assessment_panel)
