"""Send the queued referral notifications (retries the ones that failed before)."""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand

from khm.referrals.models import Notification
from khm.referrals.services import send_pending

MAX_ATTEMPTS = 5  # as in services.send_pending


class Command(BaseCommand):
    help = "Send queued referral notifications (e-mail and LINE); failures stay queued for the next run."

    def add_arguments(self, parser: Any) -> None:
        parser.add_argument("--limit", type=int, default=200, help="at most this many per run")

    def handle(self, *args: Any, **o: Any) -> None:
        sent = send_pending(limit=o["limit"])
        waiting = Notification.objects.filter(sent_at__isnull=True, attempts__lt=MAX_ATTEMPTS).count()
        given_up = Notification.objects.filter(sent_at__isnull=True, attempts__gte=MAX_ATTEMPTS).count()
        self.stdout.write(
            f"sent {sent} notification(s); {waiting} waiting; {given_up} given up after {MAX_ATTEMPTS} tries"
        )
