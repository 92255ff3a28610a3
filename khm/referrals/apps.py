from __future__ import annotations

from django.apps import AppConfig


class Config(AppConfig):
    name = "khm.referrals"
    label = "referrals"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        from khm.core.panels import register_household_panel
        from khm.referrals.panels import referral_panel
        from khm.referrals.timeline import timeline_panel

        register_household_panel(referral_panel)
        register_household_panel(timeline_panel)
