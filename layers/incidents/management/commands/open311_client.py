"""Makes an Open311 client (its role-less reporting account and its key) and prints the key once:
only its hash is stored, so a lost key is replaced with --new-key, not looked up."""

from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand, CommandError
from django.db import transaction

from layers.incidents.open311.models import Open311Client, hash_key


class Command(BaseCommand):
    help = "Create an Open311 client and print its API key once (or --new-key / --deactivate an existing one)."

    def add_arguments(self, parser):
        parser.add_argument("name", help="the client application's name")
        parser.add_argument("--rate-limit", type=int, default=30, help="POSTs per minute (0: no limit)")
        parser.add_argument("--new-key", action="store_true", help="replace the key of an existing client")
        parser.add_argument("--deactivate", action="store_true", help="refuse the client's key from now on")

    @transaction.atomic
    def handle(self, name, rate_limit, new_key, deactivate, **options):
        name = name.strip()
        if not name or len(name) > 100:
            raise CommandError("name: 1 to 100 characters")
        if rate_limit < 0:
            raise CommandError("--rate-limit: 0 or more")
        client = Open311Client.objects.filter(name=name).first()
        if deactivate:
            if client is None:
                raise CommandError(f"no client {name!r}")
            client.active = False
            client.save(update_fields=["active"])
            self.stdout.write(f"deactivated {name}")
            return
        if client is not None and not new_key:
            raise CommandError(f"client {name!r} exists: use --new-key to replace its key")
        key = Open311Client.new_key()
        if client is None:
            user = get_user_model().objects.create_user(username=f"open311:{name}"[:150])
            user.set_unusable_password()
            user.save(update_fields=["password"])
            Open311Client.objects.create(name=name, key_hash=hash_key(key), user=user, rate_limit_per_minute=rate_limit)
        else:
            client.key_hash, client.active, client.rate_limit_per_minute = hash_key(key), True, rate_limit
            client.save(update_fields=["key_hash", "active", "rate_limit_per_minute"])
        self.stdout.write(key)
