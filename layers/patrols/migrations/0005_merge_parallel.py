"""Joins the stored daily tracks (0002_trackday_table) and the coverage (0002-0004), built in parallel."""

from django.db import migrations


class Migration(migrations.Migration):
    dependencies = [("patrols", "0002_trackday_table"), ("patrols", "0004_coverage_map_model")]
    operations = []
