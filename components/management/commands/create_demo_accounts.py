"""One demo account per role, with published passwords. Refuses to run in production; idempotent."""

from django.conf import settings
from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group
from django.core.management.base import BaseCommand, CommandError
from django.db import transaction
from django.db.models import Count, Q

from components import roles
from components.auth import DEMO_ACCOUNTS, is_production
from components.models import Organisation, UserProfile
from components.services import upsert_organisation
from components.uscc import make_uscc

DEMO_UNIT_NAME = "演示养护单位"


def demo_unit_organisation() -> Organisation:
    """The organisation that maintains the most live components (so the demo unit's pages and map show
    something), else the first declared owner or maintainer, else a demo one."""
    busiest = (
        Organisation.objects.annotate(n=Count("maintained_components", filter=Q(maintained_components__retired=False)))
        .filter(n__gt=0)
        .order_by("-n", "pk")
        .first()
    )
    if busiest is not None:
        return busiest
    for org in Organisation.objects.order_by("pk"):
        if {"owner", "maintainer"} & set(org.kinds or []):
            return org
    uscc = make_uscc(f"91{settings.GRIDCITY_ADMIN_CODE}MA0DEM001")  # 91: enterprise; MA0DEM001: demo
    return upsert_organisation(
        uscc=uscc, name=DEMO_UNIT_NAME, kinds=("owner", "maintainer"), contact_person="演示联系人", phone="0537-0000000"
    )


class Command(BaseCommand):
    help = "Creates (or resets) the demo accounts, one per role. Refused when GRIDCITY_ENV=production."

    def handle(self, *args, **options):
        if is_production():
            raise CommandError(
                "create_demo_accounts refuses to run in production (GRIDCITY_ENV=production): "
                "the demo passwords are public."
            )
        User = get_user_model()
        rows = []
        with transaction.atomic():
            for name in roles.ALL:
                Group.objects.get_or_create(name=name)
            unit_org = None
            for account in DEMO_ACCOUNTS:
                user, created = User.objects.get_or_create(username=account.username)
                user.set_password(account.password)
                user.is_active = True
                user.is_superuser = account.superuser
                user.is_staff = account.superuser
                if not user.email:
                    user.email = f"{account.username}@demo.invalid"
                user.save()
                user.groups.add(Group.objects.get(name=account.role))
                org = None
                if account.role == roles.MAINTENANCE_UNIT:
                    unit_org = unit_org or demo_unit_organisation()
                    UserProfile.objects.update_or_create(user=user, defaults={"organisation": unit_org})
                    org = unit_org
                rows.append(
                    (
                        account.username,
                        account.password,
                        roles.LABELS.get(account.role, account.role),
                        org.name if org else "",
                        "created" if created else "updated",
                    )
                )
        self._table(rows)

    def _table(self, rows):
        header = ("username", "password", "role", "organisation", "")
        widths = [max(_width(str(r[i])) for r in [header, *rows]) for i in range(len(header))]
        line = lambda r: "  ".join(str(v) + " " * (w - _width(str(v))) for v, w in zip(r, widths)).rstrip()  # noqa: E731
        self.stdout.write(line(header))
        self.stdout.write("  ".join("-" * w for w in widths).rstrip())
        for r in rows:
            self.stdout.write(line(r))


def _width(text: str) -> int:
    """Display width: CJK characters take two columns in a terminal."""
    import unicodedata

    return sum(2 if unicodedata.east_asian_width(ch) in "WF" else 1 for ch in text)
