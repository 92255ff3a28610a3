from __future__ import annotations

from django.apps import AppConfig


class Config(AppConfig):
    name = "khm.sources"
    label = "sources"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        from khm.core.panels import register_household_panel
        from khm.sources.panels import lists_panel

        register_household_panel(lists_panel)
