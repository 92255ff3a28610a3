from __future__ import annotations

from django.apps import AppConfig


class Config(AppConfig):
    name = "khm.forums"
    label = "forums"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        from khm.core.panels import register_household_panel
        from khm.forums.panels import standing_panel

        register_household_panel(standing_panel)
