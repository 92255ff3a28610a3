from __future__ import annotations

from django.apps import AppConfig


class Config(AppConfig):
    name = "khm.insights"
    label = "insights"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        from khm.core.changes import on_change
        from khm.insights.refresh import wake

        on_change(wake)
