"""manage.py refresh_safety_index [--window-days N]: rebuild the 平安指数 now (after a demo load;
the Celery task incidents.refresh_safety_index does the same on schedule)."""

from django.core.management.base import BaseCommand

from layers.incidents import safety_index


class Command(BaseCommand):
    help = "Rebuild the safety index (平安指数) of base grids and communities."

    def add_arguments(self, parser):
        parser.add_argument("--window-days", type=int, default=None, help="rolling window (default: the setting)")

    def handle(self, *args, window_days=None, **options):
        written = safety_index.refresh(window_days=window_days)
        self.stdout.write(f"safety index: {written} grids and communities")
