import io

import pytest
from django.contrib.auth import authenticate, get_user_model
from django.core.management import CommandError, call_command
from django.test import override_settings

from components import roles
from components.auth import DEMO_ACCOUNTS, DEMO_PASSWORDS
from components.models import Organisation, UserProfile
from components.uscc import uscc_error
from gis_core.auth import LoginThrottled
from tests.factories import ComponentFactory, OrganisationFactory, make_user

pytestmark = pytest.mark.django_db


def _run():
    out = io.StringIO()
    call_command("create_demo_accounts", stdout=out)
    return out.getvalue()


def test_one_account_per_role_with_a_table():
    output = _run()
    User = get_user_model()
    assert {a.role for a in DEMO_ACCOUNTS} == set(roles.ALL)
    for account in DEMO_ACCOUNTS:
        user = User.objects.get(username=account.username)
        assert user.check_password(account.password)
        assert account.role in roles.roles_of(user)
        assert account.username in output and account.password in output
    admin = User.objects.get(username="admin")
    assert admin.is_superuser and admin.is_staff
    assert roles.ADMINISTRATOR in set(admin.groups.values_list("name", flat=True))
    assert roles.is_unit_only(User.objects.get(username="unit"))


def test_unit_uses_an_existing_owner_or_maintainer():
    OrganisationFactory(name="某主管部门", kinds=["department"])
    owner = OrganisationFactory(name="已有权属单位", kinds=["owner"])
    OrganisationFactory(name="后来的养护单位", kinds=["maintainer"])
    _run()
    assert UserProfile.objects.get(user__username="unit").organisation == owner
    assert Organisation.objects.count() == 3


def test_unit_is_linked_to_the_unit_that_maintains_the_most_components():
    """Before, the first declared owner was taken even if it maintained nothing: the unit's pages were empty."""
    OrganisationFactory(name="没有部件的权属单位", kinds=["owner", "maintainer"])
    small = OrganisationFactory(name="小养护单位", kinds=["maintainer"])
    busy = OrganisationFactory(name="路灯养护单位", kinds=["maintainer"])
    ComponentFactory(maintainer=small)
    for _ in range(3):
        ComponentFactory(maintainer=busy)
    _run()
    assert UserProfile.objects.get(user__username="unit").organisation == busy


def test_unit_gets_a_demo_organisation_when_there_is_none():
    assert not Organisation.objects.exists()
    _run()
    org = UserProfile.objects.get(user__username="unit").organisation
    assert org is not None and uscc_error(org.uscc) is None
    assert {"owner", "maintainer"} <= set(org.kinds)


def test_idempotent():
    _run()
    User = get_user_model()
    user = User.objects.get(username="dispatcher")
    user.set_password("changed-by-someone")
    user.save()
    output = _run()
    assert "updated" in output
    assert User.objects.filter(username__in=[a.username for a in DEMO_ACCOUNTS]).count() == len(DEMO_ACCOUNTS)
    assert Organisation.objects.count() == 1
    assert User.objects.get(username="dispatcher").check_password("demo-dispatcher-2026")
    assert User.objects.get(username="unit").groups.count() == 1


@override_settings(ENVIRONMENT="production")
def test_command_refuses_production():
    with pytest.raises(CommandError, match="production"):
        _run()
    assert not get_user_model().objects.filter(username="dispatcher").exists()


def test_demo_passwords_log_in_outside_production(client):
    _run()
    assert authenticate(username="gis_editor", password="demo-gis-editor-2026") is not None
    assert client.login(username="admin", password="demo-admin-2026")


@override_settings(ENVIRONMENT="production")
def test_production_refuses_demo_passwords(client):
    with override_settings(ENVIRONMENT="development"):
        _run()
    for account in DEMO_ACCOUNTS:
        assert authenticate(username=account.username, password=account.password) is None
    assert not client.login(username="admin", password="demo-admin-2026")
    # The admin login form says no as well.
    response = client.post("/admin/login/", {"username": "admin", "password": "demo-admin-2026", "next": "/admin/"})
    assert response.status_code == 200 and "_auth_user_id" not in client.session


@override_settings(ENVIRONMENT="production")
def test_production_refuses_a_demo_password_on_any_account():
    make_user("somebody", "gis_editor", password=sorted(DEMO_PASSWORDS)[0])
    assert authenticate(username="somebody", password=sorted(DEMO_PASSWORDS)[0]) is None


@override_settings(ENVIRONMENT="production")
def test_production_accepts_real_passwords():
    make_user("real-user", "gis_editor", password="a-real-long-password-42")
    assert authenticate(username="real-user", password="a-real-long-password-42") is not None


@override_settings(ENVIRONMENT="production")
def test_production_refuses_demo_password_over_the_api(client):
    make_user("api-user", "dispatcher", password="demo-dispatcher-2026")
    import base64

    token = base64.b64encode(b"api-user:demo-dispatcher-2026").decode()
    response = client.get("/api/components/", HTTP_AUTHORIZATION=f"Basic {token}")
    assert response.status_code == 401
    make_user("api-real", "dispatcher", password="a-real-long-password-42")
    token = base64.b64encode(b"api-real:a-real-long-password-42").decode()
    assert client.get("/api/components/", HTTP_AUTHORIZATION=f"Basic {token}").status_code == 200


def test_every_password_check_is_throttled_in_the_backend(rf):
    """The backend is the one place passwords are hashed, whatever the door (forms, admin, Basic)."""
    make_user("throttled", "dispatcher", password="a-real-long-password-42")
    request = rf.post("/", REMOTE_ADDR="192.0.2.50")
    for _ in range(5):
        assert authenticate(request, username="throttled", password="wrong") is None
    with pytest.raises(LoginThrottled) as refused:
        authenticate(request, username="throttled", password="a-real-long-password-42")
    assert 0 < refused.value.retry_after <= 900


@override_settings(ENVIRONMENT="production")
def test_a_demo_password_in_production_counts_as_a_failed_login(rf):
    make_user("demo-guesser", "dispatcher", password="demo-dispatcher-2026")
    request = rf.post("/", REMOTE_ADDR="192.0.2.51")
    for _ in range(5):
        assert authenticate(request, username="demo-guesser", password="demo-dispatcher-2026") is None
    with pytest.raises(LoginThrottled):
        authenticate(request, username="demo-guesser", password="demo-dispatcher-2026")
