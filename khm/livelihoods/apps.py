from __future__ import annotations

from django.apps import AppConfig


class Config(AppConfig):
    name = "khm.livelihoods"
    label = "livelihoods"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        from khm.core.panels import register_household_panel
        from khm.livelihoods.panels import livelihood_panel

        register_household_panel(livelihood_panel)
