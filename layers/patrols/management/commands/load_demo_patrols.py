"""manage.py load_demo_patrols [--scale demo|city] [--workers N] [--days N] [--date YYYY-MM-DD] [--seed 1]
[--every S] [--if-empty]"""

import datetime as dt
import time

from django.core.management.base import BaseCommand, CommandError


class Command(BaseCommand):
    help = (
        "Demo patrols: grid workers walking the demo roads in and around their base grids, posted through the "
        "real ingest with resent batches, GCJ-02 phones, late uploads and jumps. --scale demo: ~100 workers, one "
        "day (default yesterday); --scale city: ~1,000 workers, 30 days ending that day, ~10M fixes (minutes). "
        "Refused in production."
    )

    def add_arguments(self, parser):
        parser.add_argument("--scale", choices=("demo", "city"), default="demo")
        parser.add_argument("--workers", type=int, default=None, help="default 100 (demo) / 1000 (city)")
        parser.add_argument("--days", type=int, default=None, help="days walked, ending --date (default 1 / 30)")
        parser.add_argument("--date", default=None, help="the (last) local day walked (default: yesterday)")
        parser.add_argument("--seed", type=int, default=1)
        parser.add_argument("--every", type=int, default=None, help="seconds between fixes (default 30 / 90)")
        parser.add_argument("--if-empty", action="store_true", help="do nothing when any fix exists")

    def handle(self, *args, scale, workers, days, date, seed, every, if_empty, **options):
        from layers.patrols.demo import DemoRefused, load

        for name, value in (("--workers", workers), ("--every", every), ("--days", days)):
            if value is not None and value < 1:
                raise CommandError(f"{name} must be at least 1")
        try:
            day = dt.date.fromisoformat(date) if date else None
        except ValueError:
            raise CommandError("--date: YYYY-MM-DD") from None
        started = time.perf_counter()

        def progress(n, totals):
            self.stdout.write(
                f"  {n} workers, {totals['stored']:,} fixes stored ({time.perf_counter() - started:.0f} s)"
            )

        try:
            summary = load(
                workers=workers,
                day=day,
                seed=seed,
                every_s=every,
                if_empty=if_empty,
                scale=scale,
                days=days,
                progress=progress if scale == "city" else None,
            )
        except DemoRefused as exc:
            raise CommandError(str(exc)) from exc
        if summary["skipped"]:
            self.stdout.write("demo patrols: skipped, fixes already there")
            return
        self.stdout.write(
            f"demo patrols: {summary['workers']} workers, {summary['stored']:,} fixes stored, "
            f"{summary['duplicates']:,} duplicates, {summary['quarantined']:,} quarantined, "
            f"{summary['batches']:,} batches in {time.perf_counter() - started:.1f} s"
        )
