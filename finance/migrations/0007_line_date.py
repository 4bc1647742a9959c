"""Each journal line carries its entry's date (copied when posted): the reports filter and group lines by
account and date without joining every line to its entry. Existing lines are filled in from their entries,
the append-only triggers set aside for that one UPDATE."""

from django.db import migrations, models

SQLITE_TRIGGER = (
    "CREATE TRIGGER IF NOT EXISTS finance_journalline_no_update BEFORE UPDATE ON finance_journalline "
    "BEGIN SELECT RAISE(ABORT, 'Cannot update a posted journal line'); END;"
)


def fill_dates(apps, schema_editor):
    execute = schema_editor.execute
    if schema_editor.connection.vendor == "postgresql":
        execute("ALTER TABLE finance_journalline DISABLE TRIGGER USER")
        execute(
            "UPDATE finance_journalline AS l SET date = e.date FROM finance_journalentry AS e "
            "WHERE e.id = l.entry_id AND l.date IS NULL"
        )
        execute("ALTER TABLE finance_journalline ENABLE TRIGGER USER")
    elif schema_editor.connection.vendor == "sqlite":
        execute("DROP TRIGGER IF EXISTS finance_journalline_no_update")
        execute(
            "UPDATE finance_journalline SET date = (SELECT e.date FROM finance_journalentry AS e "
            "WHERE e.id = finance_journalline.entry_id) WHERE date IS NULL"
        )
        execute(SQLITE_TRIGGER)


class Migration(migrations.Migration):
    dependencies = [("finance", "0006_entry_tax_percent")]

    operations = [
        migrations.AddField(
            model_name="journalline",
            name="date",
            field=models.DateField(blank=True, null=True),
        ),
        migrations.RunPython(fill_dates, migrations.RunPython.noop),
        migrations.AddIndex(
            model_name="journalline",
            index=models.Index(fields=["account", "date"], name="journal_line_account_date"),
        ),
    ]
