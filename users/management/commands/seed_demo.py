"""Load the demo company: `python manage.py seed_demo`.

Each app that has demo records puts a `seed(*, rng, log)` function in `<app>/demo.py`; this command runs
them in INSTALLED_APPS order, once (it does nothing when the demo business already exists). Before the
demo's two weeks around today comes its history, made through the same services with the clock moved
back (crm.demo_history, fsm.demo_history): about four months by default, `--years 3` for the full set.
"""

import random
from importlib import import_module

from django.apps import apps
from django.core.management.base import BaseCommand, CommandError

from users.models import Business

DEMO_PASSWORD = "demo-pass-2026"  # noqa: S105 (the published demo password)
DEFAULT_HISTORY_DAYS = 120


class Command(BaseCommand):
    help = "Load the demo company (users per role, ~500 customers); safe to run twice."

    def add_arguments(self, parser):
        parser.add_argument("--seed", type=int, default=2026, help="Random seed (same seed, same data).")
        parser.add_argument("--customers", type=int, default=500)
        parser.add_argument(
            "--years",
            type=float,
            default=None,
            help="Years of history before the last two weeks (default: about four months, to stay quick).",
        )

    def handle(self, *args, seed: int, customers: int, years: float | None, **options):
        if Business.objects.exists():
            self.stdout.write("Demo data already loaded.")
            return
        if years is not None and not 0 <= years <= 5:
            raise CommandError("--years takes 0 to 5.")
        history_days = DEFAULT_HISTORY_DAYS if years is None else round(years * 365)
        rng = random.Random(seed)
        seeded = []
        for config in apps.get_app_configs():
            try:
                module = import_module(f"{config.name}.demo")
            except ModuleNotFoundError as exc:
                if exc.name != f"{config.name}.demo":
                    raise
                continue
            module.seed(
                rng=rng,
                log=self.stdout.write,
                password=DEMO_PASSWORD,
                customers=customers,
                history_days=history_days,
            )
            seeded.append(module)
        for module in seeded:
            if hasattr(module, "seed_after"):  # a second pass, once every app's records are there
                module.seed_after(rng=rng, log=self.stdout.write)
        self.stdout.write(self.style.SUCCESS("Demo data loaded."))
