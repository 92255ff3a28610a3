"""Declared access: every view says how it is scoped, or it is refused.

``DeclaredAccessMiddleware`` (in accounts) refuses any view that carries no declaration,
so a new page cannot forget to think about Local Data Ownership.

- ``public``: anyone, no personal data (login page, open aggregates).
- ``authenticated``: any signed-in user, no personal data (area search, own profile).
- ``scoped(action)``: signed-in user whose role allows ``action`` (role matrix); the view
  must read protected records only through selectors/access functions, which apply the
  area scope of the user.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, Literal, TypeVar

F = TypeVar("F", bound=Callable[..., Any])

AccessKind = Literal["public", "authenticated", "scoped"]
ACCESS_ATTR = "khm_access"


def _declare(kind: AccessKind, action: str | None = None) -> Callable[[F], F]:
    def decorator(view: F) -> F:
        setattr(view, ACCESS_ATTR, (kind, action))
        return view

    return decorator


def public(view: F) -> F:
    return _declare("public")(view)


def authenticated(view: F) -> F:
    return _declare("authenticated")(view)


def scoped(action: str) -> Callable[[F], F]:
    return _declare("scoped", action)


def declared_access(view: Any) -> tuple[AccessKind, str | None] | None:
    """The declaration of a view function or class-based view, or None."""
    for candidate in (view, getattr(view, "view_class", None), getattr(view, "cls", None)):
        if candidate is not None and hasattr(candidate, ACCESS_ATTR):
            value: tuple[AccessKind, str | None] = getattr(candidate, ACCESS_ATTR)
            return value
    return None
