from __future__ import annotations

from django.apps import AppConfig


class Config(AppConfig):
    name = "khm.fieldwork"
    label = "fieldwork"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        from khm.core.panels import register_household_panel
        from khm.fieldwork.panels import verification_panel

        register_household_panel(verification_panel)
