"""The one area-scoping primitive of KHM (Local Data Ownership).

:func:`scope_for` turns a user's current role assignments into the set of areas where an
action is allowed; :meth:`Scope.q` turns that set into a query filter on an 8-digit area
code column. Every selector, access function, export, search and API endpoint that reads
households or people goes through here — a test fails the build when a view or API module
queries a protected model directly.

Deny by default: no assignment, an expired assignment, or a role the matrix does not allow
for the action gives the empty scope, which matches nothing.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from django.db.models import Q
from django.utils import timezone

from khm.accounts.roles import role_allows
from khm.areas.models import VILLAGE_CODE_LENGTH, code_range

_CACHE_ATTR = "_khm_scope_cache"


@dataclass(frozen=True)
class Scope:
    """A set of areas: code prefixes (any level) and explicit village codes."""

    prefixes: frozenset[str] = field(default_factory=frozenset)
    villages: frozenset[str] = field(default_factory=frozenset)

    @property
    def empty(self) -> bool:
        return not self.prefixes and not self.villages

    def contains(self, area_code: str) -> bool:
        return area_code in self.villages or any(area_code.startswith(p) for p in self.prefixes)

    def covers_area(self, area_code: str) -> bool:
        """True when the whole area ``area_code`` (any level) lies inside the scope."""
        if len(area_code) == VILLAGE_CODE_LENGTH:
            return self.contains(area_code)
        return any(area_code.startswith(p) for p in self.prefixes)

    def q(self, field_name: str = "area_code", *, start: str | None = None) -> Q:
        """Filter rows whose 8-digit ``field_name`` is inside the scope.

        Each prefix is one range on the indexed column; explicit villages are one IN.
        ``start`` (a village code) drops everything before it, so a keyset page deep in a
        large scope starts its index range at the cursor instead of filtering from the top.
        The empty scope yields a filter that matches nothing.
        """
        if self.empty:
            return Q(pk__in=[])
        q = Q(pk__in=[])
        for prefix in sorted(self.prefixes):
            low, high = code_range(prefix)
            if start is not None:
                if high < start:
                    continue
                low = max(low, start)
            q |= Q(**{f"{field_name}__gte": low, f"{field_name}__lte": high})
        villages = sorted(v for v in self.villages if start is None or v >= start)
        if villages:
            q |= Q(**{f"{field_name}__in": villages})
        return q

    def restricted_to(self, area_code: str) -> Scope:
        """The part of this scope inside ``area_code`` (used for area filters)."""
        prefixes: set[str] = set()
        villages = {v for v in self.villages if v.startswith(area_code)}
        for p in self.prefixes:
            if area_code.startswith(p):
                prefixes.add(area_code)  # the filter area lies inside a granted area
            elif p.startswith(area_code):
                prefixes.add(p)  # a granted area lies inside the filter area
        return Scope(frozenset(prefixes), frozenset(villages))


EMPTY = Scope()


def _assignment_scope(assignment: object) -> Scope:
    from khm.accounts.models import OrganisationKind, RoleAssignment
    from khm.accounts.roles import Role

    assert isinstance(assignment, RoleAssignment)
    if assignment.role == Role.SYSTEM_ADMIN and assignment.area_id is None:
        # A system administrator works on the whole installation; the role matrix keeps
        # personal data out of their reach.
        return Scope(prefixes=frozenset({""}))
    if assignment.area_id is not None:
        return Scope(prefixes=frozenset({assignment.area.code}))  # type: ignore[union-attr]
    org = assignment.organisation
    if org.kind == OrganisationKind.LOCAL_GOVERNMENT:
        if org.lg_type == "PAO" and org.area_id is not None:
            return Scope(prefixes=frozenset({org.area.code}))  # type: ignore[union-attr]
        codes = frozenset(org.jurisdiction.values_list("code", flat=True))
        return Scope(villages=codes)
    if org.area_id is not None:
        return Scope(prefixes=frozenset({org.area.code}))  # type: ignore[union-attr]
    return EMPTY


def _normalise(prefixes: set[str], villages: set[str]) -> Scope:
    # Drop prefixes covered by a shorter prefix and villages covered by any prefix.
    kept = {p for p in prefixes if not any(p != o and p.startswith(o) for o in prefixes)}
    vs = {v for v in villages if not any(v.startswith(p) for p in kept)}
    return Scope(frozenset(kept), frozenset(vs))


_ASSIGNMENTS_ATTR = "_khm_assignment_scopes"


def _assignment_scopes(user: object) -> list[tuple[str, Scope]]:
    """The user's current assignments as (role, areas), read once per user object (one
    request): a page asks for many actions (the menu alone for a dozen)."""
    found: list[tuple[str, Scope]] | None = getattr(user, _ASSIGNMENTS_ATTR, None)
    if found is None:
        now = timezone.now()
        assignments = user.assignments.select_related("area", "organisation", "organisation__area")  # type: ignore[attr-defined]
        found = [(a.role, _assignment_scope(a)) for a in assignments if a.is_current(now)]
        setattr(user, _ASSIGNMENTS_ATTR, found)
    return found


def scope_for(user: object, action: str) -> Scope:
    """The areas where ``user`` may do ``action``; the empty scope when none."""
    if user is None or not getattr(user, "is_authenticated", False) or not getattr(user, "is_active", False):
        return EMPTY
    cache: dict[str, Scope] = getattr(user, _CACHE_ATTR, None) or {}
    if action in cache:
        return cache[action]
    prefixes: set[str] = set()
    villages: set[str] = set()
    for role, s in _assignment_scopes(user):
        if role_allows(role, action):
            prefixes |= s.prefixes
            villages |= s.villages
    scope = _normalise(prefixes, villages)
    cache[action] = scope
    setattr(user, _CACHE_ATTR, cache)
    return scope


def can(user: object, action: str, area_code: str | None = None) -> bool:
    """May ``user`` do ``action`` at all (area_code None) or in that area."""
    scope = scope_for(user, action)
    if area_code is None:
        return not scope.empty
    return scope.contains(area_code) if len(area_code) == VILLAGE_CODE_LENGTH else scope.covers_area(area_code)


def current_roles(user: object) -> list[str]:
    if not getattr(user, "is_authenticated", False):
        return []
    now = timezone.now()
    return sorted({a.role for a in user.assignments.all() if a.is_current(now)})  # type: ignore[attr-defined]
