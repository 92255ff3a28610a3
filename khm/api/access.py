"""Declared access for API operations, like khm.core.access for pages."""

from __future__ import annotations

import functools
from collections.abc import Callable
from typing import Any, TypeVar

from django.http import HttpRequest
from ninja.errors import HttpError

from khm.accounts.scoping import can
from khm.core.access import ACCESS_ATTR

F = TypeVar("F", bound=Callable[..., Any])


def api_scoped(action: str) -> Callable[[F], F]:
    def decorator(func: F) -> F:
        @functools.wraps(func)
        def wrapper(request: HttpRequest, *args: Any, **kwargs: Any) -> Any:
            if not can(request.auth, action):  # type: ignore[attr-defined]
                raise HttpError(403, "forbidden")
            return func(request, *args, **kwargs)

        setattr(wrapper, ACCESS_ATTR, ("scoped", action))
        return wrapper  # type: ignore[return-value]

    return decorator


def api_authenticated(func: F) -> F:
    setattr(func, ACCESS_ATTR, ("authenticated", None))
    return func


def api_public(func: F) -> F:
    """An operation anyone may call without logging in (declare it with ``auth=None`` too):
    open aggregates only, never personal data."""
    setattr(func, ACCESS_ATTR, ("public", None))
    return func
