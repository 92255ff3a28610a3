from __future__ import annotations

from django.apps import AppConfig


class Config(AppConfig):
    name = "khm.sources"
    label = "sources"
    default_auto_field = "django.db.models.BigAutoField"
