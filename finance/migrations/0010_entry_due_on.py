"""An invoice's issue entry carries its due date when its payment terms make it later than the entry's
date: AR aging ages each invoice from it. Existing issue entries are filled in from their invoice.issued
milestones (the event's data), the append-only triggers set aside for that one UPDATE (as in 0007)."""

from django.db import migrations, models

SQLITE_TRIGGER = (
    "CREATE TRIGGER IF NOT EXISTS finance_journalentry_no_update BEFORE UPDATE ON finance_journalentry "
    "BEGIN SELECT RAISE(ABORT, 'Cannot update a posted journal entry'); END;"
)


def fill_due_dates(apps, schema_editor):
    execute = schema_editor.execute
    if schema_editor.connection.vendor == "postgresql":
        execute("ALTER TABLE finance_journalentry DISABLE TRIGGER USER")
        execute(
            "UPDATE finance_journalentry AS e SET due_on = (v.data ->> 'due_on')::date FROM events_event AS v "
            "WHERE v.id = e.event_id AND e.source = 'invoice.issued' AND v.data ? 'due_on' "
            "AND (v.data ->> 'due_on')::date > e.date"
        )
        execute("ALTER TABLE finance_journalentry ENABLE TRIGGER USER")
    elif schema_editor.connection.vendor == "sqlite":
        execute("DROP TRIGGER IF EXISTS finance_journalentry_no_update")
        due = "(SELECT json_extract(v.data, '$.due_on') FROM events_event AS v WHERE v.id = e.event_id)"
        execute(
            f"UPDATE finance_journalentry AS e SET due_on = {due} "
            f"WHERE e.source = 'invoice.issued' AND e.event_id IS NOT NULL AND {due} > e.date"
        )
        execute(SQLITE_TRIGGER)


class Migration(migrations.Migration):
    dependencies = [("finance", "0009_deposits"), ("events", "0002_initial")]

    operations = [
        migrations.AddField(
            model_name="journalentry",
            name="due_on",
            field=models.DateField(
                blank=True,
                help_text="An invoice's due date, on its issue's entry when later than the entry's date "
                "(payment terms): AR aging ages the invoice from it. Empty: due on the entry's date.",
                null=True,
            ),
        ),
        migrations.RunPython(fill_due_dates, migrations.RunPython.noop),
        migrations.AddIndex(
            model_name="journalentry",
            index=models.Index(
                condition=models.Q(("due_on__isnull", False)),
                fields=["invoice_id"],
                include=("due_on",),
                name="journal_entry_due_by_invoice",
            ),
        ),
    ]
