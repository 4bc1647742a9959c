"""Markup for the dispatch board's hot loops: a busy week has 500 visits and 350 technician-days, and
the template language spends about 100 µs on each block (50 ms a page). Here the same markup is one
str.format per block, every value through html.escape; the rest of the board is plain template."""

from html import escape

from django import template
from django.utils.safestring import SafeString, mark_safe

register = template.Library()

ITEM = 'tabindex="0" data-visit="{}" data-start="{}" data-minutes="{}" data-label="{}"{}'
# A block says what a dispatcher needs at a glance, customer first; how much of it shows depends on the
# block's own width (container queries in dispatch.css): a short visit shows the customer and the job
# type, the rest (window, state, job number) is in the peek on hover or focus and in the detail panel.
BLOCK = (
    f'<article class="visit {{}}" {ITEM} aria-describedby="visit-peek"><div class="v-name">{{}}</div>'
    '<div class="v-type">{}</div><div class="v-when">{}{}</div><div class="v-meta">{} · {}</div>{}</article>'
)
CHIP = (
    f'<div class="chip {{}}" {ITEM} title="{{}}">'
    '<div class="c-line"><span class="c-time">{}</span> {}</div><div class="c-sub">{}{} · {}</div></div>'
)
CELL = '<div class="{}"{} data-date="{}" data-free="{}">{}{}</div>'
# Fixed markup, put in as it is; everything else is escaped.
MOVABLE = " data-movable"
LATE = '<span class="v-late">Late</span> '
ARRIVE = '<span class="v-arrive">Arrive </span>'
GRIP = '<span class="grip" data-grip title="Drag to change the length"></span>'
OFF = '<span class="off-label">Off</span>'


def _item(block) -> tuple:
    movable = MOVABLE if block.movable else ""
    return (
        escape(block.css),
        block.visit.pk,
        block.start_minute,
        block.minutes,
        escape(block.label),
        movable,
    )


def _block(block) -> str:
    visit = block.visit
    when = f"{ARRIVE}{escape(block.window_label)}" if block.window_label else escape(block.time_label)
    late, grip = LATE if block.late else "", GRIP if block.movable else ""
    state = "Late" if block.late else visit.get_state_display()
    name, job_type, number = (escape(t) for t in (visit.customer, visit.job_type, visit.job_number))
    return BLOCK.format(*_item(block), name, job_type, late, when, number, escape(state), grip)


def _chip(block) -> str:
    visit = block.visit
    late = LATE if block.late else ""
    start, customer, number, job_type = (
        escape(t) for t in (block.start_label, visit.customer, visit.job_number, visit.job_type)
    )
    return CHIP.format(*_item(block), escape(block.title), start, customer, late, number, job_type)


@register.simple_tag
def visit_blocks(blocks) -> SafeString:
    """The day view's blocks of one technician's row (fsm.board.Block, placed by their classes)."""
    return mark_safe("".join(_block(b) for b in blocks))  # noqa: S308 (every value escaped above)


@register.simple_tag
def week_cell(cell, technician_pk, today) -> SafeString:
    """One technician's day in the week view: a drop target with its free gaps, and its chips."""
    off = cell.off and technician_pk is not None  # the row of visits nobody is on has no days off
    classes = "wg-cell" + (" off" if off else "") + (" today" if cell.day == today else "")
    tech = f' data-tech="{int(technician_pk)}"' if technician_pk else ""
    chips = "".join(_chip(b) for b in cell.chips)
    html = CELL.format(
        classes, tech, cell.day.isoformat(), escape(cell.free), chips, OFF if off and not cell.chips else ""
    )
    return mark_safe(html)  # noqa: S308 (every value escaped above)
