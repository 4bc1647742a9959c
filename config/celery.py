"""The Celery app. Periodic jobs are declared here, in one place."""

import os

from celery import Celery

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")

app = Celery("homeservice")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()  # <app>.tasks of every installed app
# task modules inside app packages
app.autodiscover_tasks(  # task modules inside app packages
    [
        "crm.imports",
        "integrations.leadsources",
    ]
)

app.conf.beat_schedule = {
    "worker-heartbeat": {"task": "events.tasks.heartbeat", "schedule": 15.0},
    "events-sweep": {"task": "events.tasks.sweep_undelivered", "schedule": 30.0},
    "inbound-leads-sweep": {"task": "integrations.tasks.sweep_inbound_leads", "schedule": 30.0},
    # Does nothing unless GOOGLE_LSA_ENABLED; the interval is GOOGLE_LSA_POLL_SECONDS.
    "google-lsa-poll": {"task": "integrations.leadsources.tasks.poll_google_lsa", "schedule": 60.0},
    # Every channel's outbox rows a lost task or a dead worker left queued or sending.
    "outbox-sweep": {"task": "messaging.tasks.sweep_outbox", "schedule": 30.0},
    "outbox-release-held": {"task": "messaging.tasks.release_held", "schedule": 60.0},
    # Caller identifications and missed-call text-backs whose task was lost (broker down, dead worker).
    "calls-sweep": {"task": "crm.tasks.sweep_calls", "schedule": 30.0},
    # Day-before appointment reminders (visit.reminder_due, once per visit; crm texts, quiet hours apply).
    "visit-reminders": {"task": "fsm.tasks.visit_reminders", "schedule": 15 * 60.0},
    # Sent estimates past their expiry date -> expired (hourly: "nightly" in every time zone, and idempotent).
    "estimates-expire": {"task": "fsm.tasks.estimates_expire", "schedule": 60 * 60.0},
    # Sequences: every enrollment step that is due (durable: the due time is in the database).
    "automations-tick": {"task": "crm.tasks.automations_tick", "schedule": 60.0},
    # Reactivation campaigns: each due recipient at the campaign's rate (the due time is in the database).
    "outreach-tick": {"task": "crm.tasks.outreach_tick", "schedule": 60.0},
    # Review requests and their reminder when due (the due time is in the database).
    "reviews-tick": {"task": "crm.tasks.reviews_tick", "schedule": 60.0},
}
