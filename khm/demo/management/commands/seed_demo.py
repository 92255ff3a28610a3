from __future__ import annotations

from pathlib import Path
from typing import Any

from django.conf import settings
from django.core.management import call_command
from django.core.management.base import BaseCommand

from khm.assessment.services import instruments_install_defaults
from khm.demo.assessments import seed_assessments
from khm.demo.fieldwork import seed_fieldwork
from khm.demo.forums import seed_forums
from khm.demo.livelihoods import seed_livelihoods
from khm.demo.referrals import seed_referrals
from khm.demo.seed import DEMO_PASSWORD, import_demo_lists, locate_households, seed_organisations_and_users
from khm.registry.bulk import registry_is_empty


class Command(BaseCommand):
    help = "Create Kalasin demo organisations, one user per role and a synthetic population (idempotent)."

    def add_arguments(self, parser: Any) -> None:
        parser.add_argument("--people", type=int, default=12000)
        parser.add_argument("--seed", type=int, default=46)
        parser.add_argument(
            "--no-assessments",
            action="store_true",
            help="skip the demo assessments, verification campaign, referrals, enterprises and forums (benchmarks)",
        )

    def handle(self, *args: Any, **o: Any) -> None:
        # The figures are built once at the end: no background refresh racing the seed's writes
        # (on SQLite it would only find the database locked).
        settings.KHM_INSIGHTS_REFRESH = "manual"
        instruments_install_defaults()  # installed by migration; back if the tables were emptied
        users = seed_organisations_and_users()
        if registry_is_empty():
            call_command("generate_population", people=o["people"], seed=o["seed"], area="46", stdout=self.stdout)
            self.stdout.write("importing the demo source lists through the staged import path…")
            out = str(Path(settings.KHM_IMPORT_DIR).parent / "demo-lists")
            for line in import_demo_lists(people=o["people"], seed=o["seed"], out_dir=out):
                self.stdout.write(f"  {line}")
            n = locate_households(seed=o["seed"])
            self.stdout.write(f"  {n} households placed inside their subdistrict for the map")
        else:
            self.stdout.write("registry already has households: population left as it is")
        if not o["no_assessments"]:
            self.stdout.write("assessing demo households (rounds 2567 and 2568)…")
            for line in seed_assessments(seed=o["seed"]):  # does nothing once there are assessments
                self.stdout.write(f"  {line}")
            self.stdout.write("a verification campaign for the phone app…")
            for line in seed_fieldwork(seed=o["seed"]):  # does nothing once there is a campaign
                self.stdout.write(f"  {line}")
            self.stdout.write("agencies, referrals and assistance in Mueang Kalasin…")
            for line in seed_referrals(seed=o["seed"]):  # does nothing when referrals exist
                self.stdout.write(f"  {line}")
            self.stdout.write("community enterprises, linked households and their income…")
            for line in seed_livelihoods(seed=o["seed"]):  # does nothing when enterprises exist
                self.stdout.write(f"  {line}")
            self.stdout.write("poverty forums, community validation and agreements…")
            for line in seed_forums(seed=o["seed"]):  # does nothing once a forum exists
                self.stdout.write(f"  {line}")
        from khm.insights.refresh import refresh

        run = refresh(full=True)  # the dashboards read pre-aggregated figures
        self.stdout.write(f"dashboard figures: {run.villages} villages in {run.seconds:.0f} s")
        self.stdout.write(f"\nDemo users (password for all: {DEMO_PASSWORD})")
        for u in users:
            self.stdout.write(f"  {u.username:<10} {u.role:<18} {u.display_name}")
