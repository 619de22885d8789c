from django.core.management.base import BaseCommand

from fixtures.seed import seed_reference_data


class Command(BaseCommand):
    help = "Seeds class schemes, GB/T 30428 and GB/T 47678 classes, their mapping and component states (idempotent)."

    def handle(self, *args, **options):
        result = seed_reference_data()
        self.stdout.write(f"seeded {result['classes']} classes, {result['states']} states")
