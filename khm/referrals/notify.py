"""Delivering one queued notification: e-mail through Django's mail backend, LINE through the
Messaging API push endpoint (settings.KHM_LINE_API_URL; a local fake in tests, never the
internet). Returns (ok, error)."""

from __future__ import annotations

import json
import urllib.error
import urllib.request

from django.conf import settings
from django.core.mail import send_mail

from khm.referrals.models import Channel, Notification


def deliver(n: Notification) -> tuple[bool, str]:
    try:
        if n.channel == Channel.EMAIL:
            send_mail(n.subject, n.body, settings.DEFAULT_FROM_EMAIL, [n.to], fail_silently=False)
            return True, ""
        body = json.dumps(
            {"to": n.to, "messages": [{"type": "text", "text": f"{n.subject}\n{n.body}"[:4900]}]}
        ).encode()
        req = urllib.request.Request(  # noqa: S310 (URL from settings, https in production)
            settings.KHM_LINE_API_URL,
            data=body,
            method="POST",
            headers={"Content-Type": "application/json", "Authorization": f"Bearer {settings.KHM_LINE_CHANNEL_TOKEN}"},
        )
        with urllib.request.urlopen(req, timeout=settings.KHM_NOTIFY_TIMEOUT) as resp:  # noqa: S310
            return (200 <= resp.status < 300), f"HTTP {resp.status}"
    except (OSError, urllib.error.URLError) as exc:
        return False, f"{type(exc).__name__}: {exc}"
