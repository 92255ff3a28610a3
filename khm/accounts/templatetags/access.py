from __future__ import annotations

from typing import Any

from django import template

from khm.accounts.scoping import can as _can

register = template.Library()


@register.simple_tag(takes_context=True)
def can(context: Any, action: str, area_code: str | None = None) -> bool:
    """{% can "household.view" as may_view %}: does the role matrix and area allow it."""
    return _can(context["request"].user, action, area_code)
