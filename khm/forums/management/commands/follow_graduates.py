from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand

from khm.forums.graduation import follow_up


class Command(BaseCommand):
    help = "Return to the poor list every graduated household still followed whose later assessment falls back."

    def add_arguments(self, parser: Any) -> None:
        parser.add_argument("--area", default="", help="area code prefix (default: everywhere)")

    def handle(self, *args: Any, **o: Any) -> None:
        back = follow_up(area_code=o["area"])
        for household, why in back:
            self.stdout.write(f"{household.code}: {why}")
        self.stdout.write(f"{len(back)} household(s) back on the list")
