"""Roles named after real jobs, and the role × action matrix (``role_matrix.csv``).

The matrix is data, read once; :func:`role_allows` is the only way code asks it. Every
permission is additionally limited to the area of the role assignment that grants it
(see :mod:`khm.accounts.scoping`).
"""

from __future__ import annotations

import csv
from functools import cache
from pathlib import Path

from django.db import models
from django.utils.translation import gettext_lazy as _

MATRIX_FILE = Path(__file__).with_name("role_matrix.csv")


class Role(models.TextChoices):
    PROVINCE_ADMIN = "province_admin", _("Province administrator")
    DISTRICT_OFFICER = "district_officer", _("District officer")
    LOCAL_OFFICER = "local_officer", _("Local-government officer")
    AGENCY_WORKER = "agency_worker", _("Agency worker")
    VILLAGE_VOLUNTEER = "village_volunteer", _("Village volunteer")
    FORUM_SECRETARY = "forum_secretary", _("Forum secretary")
    ANALYST = "analyst", _("Analyst (aggregates only)")
    SYSTEM_ADMIN = "system_admin", _("System administrator")


@cache
def role_matrix() -> dict[str, frozenset[str]]:
    """action → the roles allowed to do it."""
    with MATRIX_FILE.open(encoding="utf-8", newline="") as fh:
        reader = csv.DictReader(fh)
        roles = [r for r in (reader.fieldnames or []) if r != "action"]
        unknown = set(roles) - set(Role.values)
        if unknown:
            raise ValueError(f"role_matrix.csv names unknown roles: {sorted(unknown)}")
        matrix: dict[str, frozenset[str]] = {}
        for row in reader:
            cells = {r: (row[r] or "").strip().upper() for r in roles}
            bad = {r: v for r, v in cells.items() if v not in {"", "Y"}}
            if bad:
                raise ValueError(f"role_matrix.csv row {row['action']}: cells must be Y or empty: {bad}")
            matrix[row["action"]] = frozenset(r for r, v in cells.items() if v == "Y")
    return matrix


def actions() -> list[str]:
    return list(role_matrix())


def role_allows(role: str, action: str) -> bool:
    try:
        return role in role_matrix()[action]
    except KeyError:
        raise KeyError(f"unknown action {action!r}: add it to role_matrix.csv") from None
