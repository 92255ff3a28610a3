"""Escalate overdue referrals, then send what is queued (run daily, e.g. from cron)."""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand
from django.utils import timezone

from khm.referrals.models import Notification
from khm.referrals.services import referrals_escalate, send_pending

MAX_ATTEMPTS = 5  # as in services.send_pending


class Command(BaseCommand):
    help = (
        "Escalate open referrals past their due date (once each) to the district officers of the area and "
        "the agency's escalation address, then send the queued notifications."
    )

    def handle(self, *args: Any, **o: Any) -> None:
        started = timezone.now()
        escalated = referrals_escalate()
        send_pending()
        # Counted from the outbox: referrals_escalate already sends on commit when it can.
        sent = Notification.objects.filter(sent_at__gte=started).count()
        waiting = Notification.objects.filter(sent_at__isnull=True, attempts__lt=MAX_ATTEMPTS).count()
        self.stdout.write(f"escalated {escalated} referral(s); sent {sent} notification(s); {waiting} waiting")
