"""manage.py load_demo_patrols [--workers 100] [--date YYYY-MM-DD] [--seed 1] [--if-empty]"""

import datetime as dt

from django.core.management.base import BaseCommand, CommandError


class Command(BaseCommand):
    help = (
        "Demo patrols: grid workers walking their base grids for one working day (default yesterday), posted "
        "through the real ingest with resent batches, GCJ-02 phones and jumps. Refused in production."
    )

    def add_arguments(self, parser):
        parser.add_argument("--workers", type=int, default=100)
        parser.add_argument("--date", default=None, help="the local day walked (default: yesterday)")
        parser.add_argument("--seed", type=int, default=1)
        parser.add_argument("--every", type=int, default=30, help="seconds between fixes")
        parser.add_argument("--if-empty", action="store_true", help="do nothing when any fix exists")

    def handle(self, *args, workers, date, seed, every, if_empty, **options):
        from layers.patrols.demo import DemoRefused, load

        if workers < 1 or every < 1:
            raise CommandError("--workers and --every must be at least 1")
        try:
            day = dt.date.fromisoformat(date) if date else None
        except ValueError:
            raise CommandError("--date: YYYY-MM-DD") from None
        try:
            summary = load(workers=workers, day=day, seed=seed, every_s=every, if_empty=if_empty)
        except DemoRefused as exc:
            raise CommandError(str(exc)) from exc
        if summary["skipped"]:
            self.stdout.write("demo patrols: skipped, fixes already there")
            return
        self.stdout.write(
            f"demo patrols: {summary['workers']} workers, {summary['stored']:,} fixes stored, "
            f"{summary['duplicates']:,} duplicates, {summary['quarantined']:,} quarantined"
        )
