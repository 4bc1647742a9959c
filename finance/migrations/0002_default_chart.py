from django.db import migrations


def add_default_chart(apps, schema_editor):
    from finance.chart import DEFAULT_ACCOUNTS

    Account = apps.get_model("finance", "Account")
    made = {}
    for code, name, kind, role, parent in DEFAULT_ACCOUNTS:
        made[code], _ = Account.objects.get_or_create(
            code=code, defaults={"name": name, "kind": kind, "role": role, "parent": made.get(parent)}
        )


class Migration(migrations.Migration):
    dependencies = [("finance", "0001_ledger")]
    operations = [migrations.RunPython(add_default_chart, migrations.RunPython.noop)]
