"""Authentication: the demo accounts, and the backend every password check goes through: it asks
the failed-login throttle (gis_core.auth) before hashing, and refuses the demo passwords in production.

The demo passwords are published (README, `make up` output), so a production deployment must never
accept them, whoever created the account and however: the check is on the password, not the user.
"""

from __future__ import annotations

from dataclasses import dataclass

from django.conf import settings
from django.contrib.auth import get_user_model
from django.contrib.auth.backends import ModelBackend

from gis_core.auth import login_throttle

from . import roles


@dataclass(frozen=True)
class DemoAccount:
    username: str
    password: str
    role: str
    superuser: bool = False


DEMO_ACCOUNTS = [
    DemoAccount("dispatcher", "demo-dispatcher-2026", roles.DISPATCHER),
    DemoAccount("unit", "demo-unit-2026", roles.MAINTENANCE_UNIT),
    DemoAccount("gis_editor", "demo-gis-editor-2026", roles.GIS_EDITOR),
    DemoAccount("grid_worker", "demo-grid-worker-2026", roles.GRID_WORKER),
    DemoAccount("admin", "demo-admin-2026", roles.ADMINISTRATOR, superuser=True),
]
DEMO_PASSWORDS = frozenset(a.password for a in DEMO_ACCOUNTS)


def is_production() -> bool:
    return getattr(settings, "ENVIRONMENT", "production") == "production"


def is_demo_password(password) -> bool:
    return isinstance(password, str) and password in DEMO_PASSWORDS


class DemoPasswordGuardBackend(ModelBackend):
    """Django's ModelBackend, throttled (every door's password check passes here: forms, admin, HTTP
    Basic), and in production a demo password never logs anybody in (it counts as a failure)."""

    def authenticate(self, request, username=None, password=None, **kwargs):
        if username is None:
            username = kwargs.get(get_user_model().USERNAME_FIELD)
        if username is None or password is None:
            return None
        login_throttle.check(username, request)  # raises LoginThrottled, before any hashing
        user = None
        if not (is_production() and is_demo_password(password)):
            user = super().authenticate(request, username=username, password=password, **kwargs)
        if user is None:
            login_throttle.failed(username, request)
        else:
            login_throttle.succeeded(username, request)
        return user
