from __future__ import annotations

import time
from typing import Any

from django.core.management.base import BaseCommand, CommandError

from khm.areas.models import Area, AreaLevel, code_range
from khm.engines.synth import generate, village_weights_from_population
from khm.registry.bulk import load_households


class Command(BaseCommand):
    help = "Generate a deterministic synthetic population (real villages, real name corpus) into the registry."

    def add_arguments(self, parser: Any) -> None:
        parser.add_argument("--people", type=int, default=10000)
        parser.add_argument("--seed", type=int, default=46)
        parser.add_argument(
            "--area", default="46", help="area code whose villages receive the population (default Kalasin)"
        )
        parser.add_argument("--batch", type=int, default=5000)

    def handle(self, *args: Any, **o: Any) -> None:
        low, high = code_range(o["area"])
        villages = list(
            Area.objects.filter(level=AreaLevel.VILLAGE, active=True, path__gte=low, path__lte=high)
            .order_by("code")
            .values_list("code", "parent__code")
        )
        if not villages:
            raise CommandError(f"no villages under {o['area']}: run `manage.py load_areas` first")
        pop = dict(
            Area.objects.filter(
                level=AreaLevel.SUBDISTRICT, population__isnull=False, path__gte=low, path__lte=high
            ).values_list("code", "population")
        )
        weights = village_weights_from_population(villages, {k: v for k, v in pop.items() if v is not None})
        started = time.perf_counter()
        result = load_households(
            generate(villages=weights, people=o["people"], seed=o["seed"]),
            batch=o["batch"],
            note=f"generate_population people={o['people']} seed={o['seed']} area={o['area']}",
        )
        secs = time.perf_counter() - started
        self.stdout.write(
            f"generated {result.people:,} people in {result.households:,} households over {len(villages):,} villages "
            f"in {secs:.1f} s ({result.people / max(secs, 1e-9):,.0f} people/s incl. database writes)"
        )
