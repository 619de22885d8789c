"""manage.py load_demo_incidents --scale demo|city --seed 1 [--if-empty]: demo cases for the demo city."""

from django.core.management.base import BaseCommand, CommandError


class Command(BaseCommand):
    help = (
        "Loads demo cases (事件/案件) with their backdated histories: ~2,000 (demo) or ~100,000 (city) over the "
        "last 60 days. Demo-only bulk path (layers.incidents.demo_data); refused in production."
    )

    def add_arguments(self, parser):
        from layers.incidents.demo_data import DAYS, SCALES

        parser.add_argument("--scale", default="demo", choices=sorted(SCALES), help="tiny ~150, demo ~2k, city ~100k")
        parser.add_argument("--seed", type=int, default=1, help="the same seed and city give the same cases")
        parser.add_argument("--if-empty", action="store_true", help="do nothing when any case exists")
        parser.add_argument("--days", type=int, default=DAYS, help="how far back the reports go")
        parser.add_argument("--count", type=int, default=None, help="number of cases (default: the scale's)")

    def handle(self, *args, scale, seed, if_empty, days, count, **options):
        from layers.incidents.demo_data import DemoRefused, load

        if days < 1 or (count is not None and count < 1):
            raise CommandError("--days and --count must be at least 1")
        try:
            summary = load(scale=scale, seed=seed, if_empty=if_empty, days=days, count=count)
        except DemoRefused as exc:
            raise CommandError(str(exc)) from exc
        if summary["skipped"]:
            self.stdout.write(f"demo incidents: skipped, {summary['existing']:,} cases already there")
            return
        states = ", ".join(f"{k} {v:,}" for k, v in summary["states"].items())
        clock = (
            "deadlines not computed (no layers.incidents.deadlines)"
            if summary["recomputed"] is None
            else f"deadlines of {summary['recomputed']:,} open cases computed"
        )
        self.stdout.write(
            f"demo incidents {scale} seed {seed}: {summary['cases']:,} cases, {summary['events']:,} events "
            f"({states}); {summary['escalated']:,} escalated; {clock}; {summary['seconds']}s"
        )
