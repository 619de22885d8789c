from django.core.management.base import BaseCommand

from layers.grids.coverage import coverage_gaps


class Command(BaseCommand):
    help = "Reports the area of each parent grid that its children do not cover (gaps to fix)."

    def add_arguments(self, parser):
        parser.add_argument("--grid", help="only this parent grid code")
        parser.add_argument("--min-area", type=float, default=1.0, help="smallest gap to report, m2 (default 1)")

    def handle(self, *args, grid=None, min_area=1.0, **options):
        gaps = coverage_gaps(grid, min_area_m2=min_area)
        if not gaps:
            self.stdout.write("no gaps: every parent grid is covered by its children")
            return
        self.stdout.write(f"{'grid':<18} {'level':>5} {'gap m2':>14} {'share':>8}  name")
        for g in gaps:
            self.stdout.write(
                f"{g['code']:<18} {g['level']:>5} {g['gap_area_m2']:>14.1f} {g['gap_share'] or 0:>8.2%}  {g['name']}"
            )
