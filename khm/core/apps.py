from __future__ import annotations

from django.apps import AppConfig


class Config(AppConfig):
    name = "khm.core"
    label = "core"
    default_auto_field = "django.db.models.BigAutoField"
