# The parallel 0005 migrations of issue 10's parts touch disjoint tables; this joins them.
from django.db import migrations


class Migration(migrations.Migration):
    dependencies = [
        ("incidents", "0005_clock_tables"),
        ("incidents", "0005_open311"),
        ("incidents", "0005_reports"),
        ("incidents", "0005_intake"),
        ("incidents", "0005_escalation"),
        ("incidents", "0005_case_created_index"),
    ]
    operations = []
