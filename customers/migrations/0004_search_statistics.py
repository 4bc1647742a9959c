"""Finer planner statistics for the search columns on PostgreSQL (rare terms get the trigram plan)."""

from django.db import migrations

COLUMNS = ("search_text", "search_digits")


def forwards(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    for column in COLUMNS:
        schema_editor.execute(f"ALTER TABLE customers_customer ALTER COLUMN {column} SET STATISTICS 1000")
    schema_editor.execute("ANALYZE customers_customer")


def backwards(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    for column in COLUMNS:
        schema_editor.execute(f"ALTER TABLE customers_customer ALTER COLUMN {column} SET STATISTICS -1")


class Migration(migrations.Migration):
    dependencies = [("customers", "0003_search_indexes")]
    operations = [migrations.RunPython(forwards, backwards)]
