"""Extension point: capabilities add panels to the household page without the registry
importing them (the registry sits below the capabilities in the layer contract).

A capability registers, in its AppConfig.ready(), a function
``(actor, household) -> Panel | None``; the household page renders every panel returned.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any


@dataclass
class Panel:
    title: str
    template: str
    context: dict[str, Any] = field(default_factory=dict)
    order: int = 100


PanelFn = Callable[[Any, Any], Panel | None]
_HOUSEHOLD_PANELS: list[PanelFn] = []


def register_household_panel(fn: PanelFn) -> PanelFn:
    if fn not in _HOUSEHOLD_PANELS:
        _HOUSEHOLD_PANELS.append(fn)
    return fn


def household_panels(actor: Any, household: Any) -> list[Panel]:
    panels = [p for fn in _HOUSEHOLD_PANELS if (p := fn(actor, household)) is not None]
    return sorted(panels, key=lambda p: p.order)
