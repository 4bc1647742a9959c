"""Every write in field service goes through these functions (views, the API, tasks, the seeder, tests).

All are keyword-only, run in a transaction, take an explicit `actor` (None: the system) and raise the
ApplicationError family: `fsm.errors.Forbidden` (403) when the actor's role or crew membership does
not allow it, `fsm.errors.SchedulingConflict` (409, code "conflict") for an unconfirmed overlap, and
ApplicationError (400, `field` names the input at fault) for everything else.

    booking    job_book (address, job and first visit in one transaction: the office page, the API)
    jobs       job_create, job_update, job_from_booking, job_dispatch, job_on_my_way, job_arrive,
               job_complete, job_pause, job_resume, job_hold, job_cancel, technician_travel_minutes;
               reads shared with the booking: job_type_for_service, booking_property
    visits     visit_conflicts (dry run), visit_schedule, visit_move, visit_cancel, visit_times,
               visit_schedule_booked_slot (lead.booked's chosen time)
    reminders  visit_reminders_publish (the day-before reminder, from the periodic task)
    timeclock  clock_in, clock_out
    onsite     note_add, photo_add, signature_add, checklist_toggle
    setup      skill_save, technician_profile_save, job_type_save, job_type_requirements_set, equipment_save
"""

from .booking import Booking, job_book
from .jobs import (
    booking_property,
    job_arrive,
    job_cancel,
    job_complete,
    job_create,
    job_dispatch,
    job_from_booking,
    job_hold,
    job_on_my_way,
    job_pause,
    job_resume,
    job_type_for_service,
    job_update,
    technician_travel_minutes,
)
from .onsite import checklist_toggle, note_add, photo_add, signature_add
from .reminders import visit_reminders_publish
from .setup import (
    equipment_save,
    job_type_requirements_set,
    job_type_save,
    skill_save,
    technician_profile_save,
)
from .timeclock import clock_in, clock_out
from .visits import (
    ARRIVAL_MISSED,
    MISSING_SKILL,
    OUTSIDE_HOURS,
    OVERLAP,
    ScheduleConflict,
    VisitResult,
    visit_cancel,
    visit_conflicts,
    visit_move,
    visit_schedule,
    visit_schedule_booked_slot,
    visit_times,
)

__all__ = [
    "ARRIVAL_MISSED",
    "MISSING_SKILL",
    "OUTSIDE_HOURS",
    "OVERLAP",
    "Booking",
    "ScheduleConflict",
    "VisitResult",
    "booking_property",
    "checklist_toggle",
    "clock_in",
    "clock_out",
    "equipment_save",
    "job_arrive",
    "job_book",
    "job_cancel",
    "job_complete",
    "job_create",
    "job_dispatch",
    "job_from_booking",
    "job_hold",
    "job_on_my_way",
    "job_pause",
    "job_resume",
    "job_type_for_service",
    "job_type_requirements_set",
    "job_type_save",
    "job_update",
    "note_add",
    "photo_add",
    "signature_add",
    "skill_save",
    "technician_profile_save",
    "technician_travel_minutes",
    "visit_cancel",
    "visit_conflicts",
    "visit_move",
    "visit_reminders_publish",
    "visit_schedule",
    "visit_schedule_booked_slot",
    "visit_times",
]
