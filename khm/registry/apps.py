from __future__ import annotations

from django.apps import AppConfig


class Config(AppConfig):
    name = "khm.registry"
    label = "registry"
    default_auto_field = "django.db.models.BigAutoField"
