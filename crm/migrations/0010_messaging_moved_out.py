# Conversation, Message, Call and MessagingSettings moved to the messaging app. Their tables stay as
# they are (crm_conversation, crm_message, crm_call, crm_messagingsettings): only Django's idea of
# which app owns them changes, so this migration and messaging's first one touch no table.

from django.db import migrations


class Migration(migrations.Migration):

    dependencies = [
        ('crm', '0009_email_fields'),
    ]

    operations = [
        migrations.SeparateDatabaseAndState(
            state_operations=[
                migrations.RemoveField(
                    model_name='call',
                    name='customer',
                ),
                migrations.RemoveField(
                    model_name='call',
                    name='lead',
                ),
                migrations.RemoveField(
                    model_name='call',
                    name='text_back',
                ),
                migrations.RemoveField(
                    model_name='conversation',
                    name='assigned_to',
                ),
                migrations.RemoveField(
                    model_name='conversation',
                    name='customer',
                ),
                migrations.RemoveField(
                    model_name='message',
                    name='conversation',
                ),
                migrations.RemoveField(
                    model_name='message',
                    name='created_by',
                ),
                migrations.RemoveField(
                    model_name='message',
                    name='customer',
                ),
                migrations.RemoveField(
                    model_name='message',
                    name='lead',
                ),
                migrations.DeleteModel(
                    name='MessagingSettings',
                ),
                migrations.DeleteModel(
                    name='Call',
                ),
                migrations.DeleteModel(
                    name='Conversation',
                ),
                migrations.DeleteModel(
                    name='Message',
                ),
    
            ],
            database_operations=[],
        ),
    ]
