"""manage.py compute_patrol_coverage [--date D] [--days N] [--connections 2]: replaces the days' GridCoverage rows."""

import datetime as dt

from django.core.management.base import BaseCommand, CommandError
from django.utils import timezone


class Command(BaseCommand):
    help = "Computes patrol coverage of every base grid for a day (default yesterday) or N days from it."

    def add_arguments(self, parser):
        parser.add_argument("--date", default=None, help="YYYY-MM-DD (default yesterday, Asia/Shanghai)")
        parser.add_argument("--days", type=int, default=1, help="this many days from --date (at most 62)")
        parser.add_argument("--connections", type=int, default=2, help="database connections working at once")

    def handle(self, *args, date, days, connections, **options):
        from layers.patrols.coverage import compute_day

        try:
            first = dt.date.fromisoformat(date) if date else timezone.localdate() - dt.timedelta(days=1)
        except ValueError:
            raise CommandError("--date: a date as YYYY-MM-DD") from None
        if not 1 <= days <= 62:
            raise CommandError("--days: from 1 to 62")
        if not 1 <= connections <= 8:
            raise CommandError("--connections: from 1 to 8")
        for i in range(days):
            r = compute_day(first + dt.timedelta(days=i), workers=connections)
            self.stdout.write(f"{r['day']}: {r['grids']:,} base grids, {r['visited']:,} visited, {r['seconds']} s")
