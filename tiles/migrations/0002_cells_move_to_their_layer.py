from django.db import migrations


class Migration(migrations.Migration):
    """ComponentCell now belongs to components (components 0008): state only, the table stays."""

    dependencies = [("tiles", "0001_initial"), ("components", "0008_componentcell")]

    operations = [
        migrations.SeparateDatabaseAndState(state_operations=[migrations.DeleteModel(name="ComponentCell")]),
    ]
