"""Trigram indexes for substring search on PostgreSQL; SQLite (development) scans instead."""

from django.db import migrations

INDEXES = [
    ("customers_search_text_trgm", "customers_customer", "search_text"),
    ("customers_search_digits_trgm", "customers_customer", "search_digits"),
]


def forwards(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    schema_editor.execute("CREATE EXTENSION IF NOT EXISTS pg_trgm")
    for name, table, column in INDEXES:
        schema_editor.execute(f"CREATE INDEX IF NOT EXISTS {name} ON {table} USING gin ({column} gin_trgm_ops)")
    schema_editor.execute(
        "CREATE INDEX IF NOT EXISTS customers_active_sort ON customers_customer (sort_name, id) "
        "WHERE merged_into_id IS NULL"
    )


def backwards(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    for name, _, _ in INDEXES:
        schema_editor.execute(f"DROP INDEX IF EXISTS {name}")
    schema_editor.execute("DROP INDEX IF EXISTS customers_active_sort")


class Migration(migrations.Migration):
    dependencies = [("customers", "0002_initial")]
    operations = [migrations.RunPython(forwards, backwards)]
