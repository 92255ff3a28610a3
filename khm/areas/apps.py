from __future__ import annotations

from django.apps import AppConfig


class Config(AppConfig):
    name = "khm.areas"
    label = "areas"
    default_auto_field = "django.db.models.BigAutoField"
