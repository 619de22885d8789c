from django.core.management.base import BaseCommand

from layers.incidents.clock_seed import copy_package_calendar, package_years


class Command(BaseCommand):
    help = (
        "Copies chinesecalendar's public holidays and make-up working days (调休) into the database "
        "calendar (CalendarOverride, CalendarYear) for the years it covers; existing days are kept."
    )

    def add_arguments(self, parser):
        parser.add_argument("--year", type=int, action="append", help="only this year (repeatable)")

    def handle(self, *args, **options):
        covered = package_years()
        years = options["year"] or covered
        outside = [y for y in years if y not in covered]
        if outside:
            self.stderr.write(f"chinesecalendar does not cover {outside}: enter those years in the admin")
        result = copy_package_calendar([y for y in years if y in covered])
        self.stdout.write(f"copied {result['days']} days, {result['years']} new years")
