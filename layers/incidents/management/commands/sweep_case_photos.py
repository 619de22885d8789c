"""manage.py sweep_case_photos: what the hourly Celery task does, by hand (layers.incidents.photos.sweep)."""

from django.core.management.base import BaseCommand

from layers.incidents import photos


class Command(BaseCommand):
    help = "Move committed staged case photos into place, drop staged leftovers and old unattached uploads."

    def handle(self, *args, **options):
        result = photos.sweep()
        self.stdout.write(", ".join(f"{k}: {v}" for k, v in result.items()))
