from django.test import Client

from components import roles
from tests.factories import make_user

from .helpers import fix, post


def test_admin_lists_quarantine_and_clocks(worker):
    post(worker, {"fixes": [fix(0, accuracy=900.0)]})
    admin = make_user("patrol_admin", roles.ADMINISTRATOR)
    admin.is_staff = admin.is_superuser = True
    admin.save()
    c = Client()
    c.force_login(admin)
    for model in ("quarantinedfix", "deviceclock", "patrolassignment"):
        assert c.get(f"/admin/patrols/{model}/").status_code == 200
