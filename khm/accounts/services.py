from __future__ import annotations

import datetime as dt
import hashlib
import secrets
from typing import Any

from django.db import transaction
from django.utils import timezone

from khm.accounts.models import ApiToken, User
from khm.audit.services import audit_record


def api_token_create(*, actor: Any, user: User, name: str, days: int | None = 365) -> str:
    """Create a token and return it once, in clear; only its hash is kept."""
    raw = "khm_" + secrets.token_urlsafe(32)
    with transaction.atomic():
        ApiToken.objects.create(
            user=user,
            name=name,
            token_hash=hashlib.sha256(raw.encode()).hexdigest(),
            expires_at=timezone.now() + dt.timedelta(days=days) if days else None,
        )
        audit_record(actor=actor, action="api_token.create", object_type="user", object_ref=str(user.pk), note=name)
    return raw


def api_token_user(raw: str) -> User | None:
    digest = hashlib.sha256(raw.encode()).hexdigest()
    token = ApiToken.objects.select_related("user").filter(token_hash=digest).first()
    if token is None or not token.user.is_active:
        return None
    now = timezone.now()
    if token.expires_at and token.expires_at <= now:
        return None
    ApiToken.objects.filter(pk=token.pk).update(last_used_at=now)
    return token.user
