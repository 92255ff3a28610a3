from __future__ import annotations

from typing import Any

from django.http import HttpRequest

from khm.accounts.scoping import current_roles


def access(request: HttpRequest) -> dict[str, Any]:
    user = getattr(request, "user", None)
    if user is None or not user.is_authenticated:
        return {"khm_roles": []}
    return {"khm_roles": current_roles(user)}
