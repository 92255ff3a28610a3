"""Protecting national IDs at rest.

A national ID is stored twice, never in clear: AES-256-GCM ciphertext (readable only with
``KHM_FIELD_KEY``) and an HMAC-SHA256 keyed hash (``KHM_LOOKUP_KEY``) for exact lookup and
uniqueness. A database dump without the keys reveals neither; the hash cannot be
brute-forced over the 10^12 possible IDs without the lookup key.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import os
from functools import cache

from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from django.conf import settings

_NONCE = 12
_VERSION = b"\x01"


def _b64key(value: str, name: str) -> bytes:
    try:
        raw = base64.urlsafe_b64decode(value + "=" * (-len(value) % 4))
    except ValueError as exc:  # pragma: no cover - misconfiguration
        raise RuntimeError(f"{name} must be urlsafe base64") from exc
    if len(raw) != 32:
        raise RuntimeError(f"{name} must decode to 32 bytes (make writes one into .env)")
    return raw


@cache
def _aead() -> AESGCM:
    return AESGCM(_b64key(settings.KHM_FIELD_KEY, "KHM_FIELD_KEY"))


@cache
def _lookup_key() -> bytes:
    return _b64key(settings.KHM_LOOKUP_KEY, "KHM_LOOKUP_KEY")


def encrypt(plaintext: str) -> str:
    nonce = os.urandom(_NONCE)
    ct = _aead().encrypt(nonce, plaintext.encode("utf-8"), None)
    return base64.b64encode(_VERSION + nonce + ct).decode("ascii")


def decrypt(token: str) -> str:
    raw = base64.b64decode(token)
    if raw[:1] != _VERSION:
        raise ValueError("unknown ciphertext version")
    nonce, ct = raw[1 : 1 + _NONCE], raw[1 + _NONCE :]
    return _aead().decrypt(nonce, ct, None).decode("utf-8")


def lookup_hash(value: str) -> str:
    return hmac.new(_lookup_key(), value.encode("utf-8"), hashlib.sha256).hexdigest()


def new_key() -> str:
    return base64.urlsafe_b64encode(os.urandom(32)).decode("ascii").rstrip("=")
