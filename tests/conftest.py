import pytest


@pytest.fixture(scope="session")
def django_db_setup(django_db_setup, django_db_blocker):
    """The test database is migrated by pytest-django; reference data is seeded once on top."""
    from fixtures.seed import seed_reference_data

    with django_db_blocker.unblock():
        seed_reference_data()


@pytest.fixture(autouse=True)
def _reference_data(request):
    """Transactional tests end with a flush that empties every table: seed again when that happened."""
    if request.node.get_closest_marker("django_db") is None:
        yield
        return
    from components.models import ComponentState
    from fixtures.seed import seed_reference_data
    from layers.models import GridLevel

    request.getfixturevalue("django_db_blocker")
    if not ComponentState.objects.exists() or not GridLevel.objects.exists():
        seed_reference_data()
    yield


@pytest.fixture
def user_factory(db):
    from tests.factories import make_user

    return make_user


@pytest.fixture(scope="session")
def _login_throttle():
    from gis_core.auth import login_throttle

    login_throttle.forget_all()  # counts left by an earlier run
    return login_throttle


@pytest.fixture(autouse=True)
def _forget_failed_logins(_login_throttle):
    """Failed logins are counted in Redis across requests (gis_core.auth): tests that send wrong
    passwords must not leave the next test's logins throttled."""
    yield
    if _login_throttle.counted_since_forget:
        _login_throttle.forget_all()


@pytest.fixture(autouse=True)
def _fresh_process_caches():
    """Each test makes its users anew, often under the same names and ids: a user, credentials or roles
    cached per process by an earlier test (for up to a minute) must not carry into this one."""
    from components import roles
    from gis_core.request_user import forget_users
    from layers.ogc import auth

    auth.clear_cache()
    forget_users()
    roles.forget_roles()
    yield
