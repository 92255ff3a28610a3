from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand

from khm.insights.refresh import pending, refresh


class Command(BaseCommand):
    help = "Refresh the pre-aggregated figures of the areas that changed (--all: everything)."

    def add_arguments(self, parser: Any) -> None:
        parser.add_argument("--all", action="store_true", help="recompute every village and area")

    def handle(self, *args: Any, **o: Any) -> None:
        run = refresh(full=o["all"])
        self.stdout.write(f"{run.villages} villages refreshed in {run.seconds:.1f} s; {pending()} areas still waiting")
