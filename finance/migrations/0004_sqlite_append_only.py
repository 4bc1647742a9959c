"""On SQLite (the embedded default), a posted journal entry or line cannot be updated (a trigger, as on
PostgreSQL). Deletes are not refused by a trigger there: Django empties SQLite tables with DELETE (a test's
flush), which a trigger would break; no code path deletes a posted row, and the entry's PROTECT foreign
key refuses deleting an entry that has lines. Balance is checked by finance.services (SQLite has no
deferred triggers). Nothing to do on PostgreSQL: migration 0003 installed its triggers."""

from django.db import migrations

TABLES = {"finance_journalentry": "journal entry", "finance_journalline": "journal line"}


def sqlite_triggers(apps, schema_editor):
    if schema_editor.connection.vendor != "sqlite":
        return
    for table, what in TABLES.items():
        for operation in ("UPDATE",):
            schema_editor.execute(
                f"CREATE TRIGGER IF NOT EXISTS {table}_no_{operation.lower()} BEFORE {operation} ON {table} "
                f"BEGIN SELECT RAISE(ABORT, 'Cannot {operation.lower()} a posted {what}'); END;"
            )


def drop_sqlite_triggers(apps, schema_editor):
    if schema_editor.connection.vendor != "sqlite":
        return
    for table in TABLES:
        for operation in ("update",):
            schema_editor.execute(f"DROP TRIGGER IF EXISTS {table}_no_{operation}")


class Migration(migrations.Migration):
    dependencies = [("finance", "0003_append_only_and_balanced")]
    operations = [migrations.RunPython(sqlite_triggers, drop_sqlite_triggers)]
