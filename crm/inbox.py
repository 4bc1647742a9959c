"""The unified inbox: one conversation per customer, newest first; read and reply by text or e-mail."""

from django.contrib import messages as flash
from django.core.paginator import Paginator
from django.db.models import Q
from django.shortcuts import get_object_or_404, redirect, render
from django.views.decorators.http import require_http_methods, require_POST

from common.errors import ApplicationError
from customers.models import Customer
from customers.selectors import customer_search
from messaging import services as messaging
from messaging.models import Conversation, Message, MessagingSettings
from users.access import role_required
from users.roles import STAFF_ROLES

from .forms import AssignForm
from .webchat import services as webchat


def _conversations(request):
    qs = Conversation.objects.select_related("customer", "assigned_to").filter(last_message_at__isnull=False)
    show = request.GET.get("show", "open")
    if show == "open":
        qs = qs.filter(status=Conversation.Status.OPEN)
    elif show == "unread":
        qs = qs.filter(unread_count__gt=0)
    elif show == "mine":
        qs = qs.filter(assigned_to=request.user)
    elif show == "done":
        qs = qs.filter(status=Conversation.Status.DONE)
    query = request.GET.get("q", "").strip()
    if query:
        customers = customer_search(Customer.objects.all(), query).values("pk")
        qs = qs.filter(Q(customer__in=customers) | Q(last_message_preview__icontains=query))
    return qs.order_by("-last_message_at", "-pk"), show, query


@role_required(*STAFF_ROLES)
def inbox(request, pk: int | None = None):
    conversations, show, query = _conversations(request)
    page = Paginator(conversations, 40).get_page(request.GET.get("page"))
    context = {"page": page, "show": show, "query": query, "current": None}
    if pk is not None:
        current = get_object_or_404(Conversation.objects.select_related("customer", "assigned_to"), pk=pk)
        messaging.conversation_mark_read(conversation=current)
        context.update(_thread_context(current))
    if request.htmx and request.GET.get("part") == "thread" and pk is not None:
        return render(request, "crm/inbox.html#thread", context)
    if request.htmx and request.GET.get("part") == "list":
        return render(request, "crm/inbox.html#list", context)
    return render(request, "crm/inbox.html", context)


def _thread_context(conversation: Conversation) -> dict:
    thread = (
        Message.objects.filter(conversation=conversation)
        .select_related("created_by")
        .order_by("-created_at", "-pk")[:100]
    )
    try:
        to = messaging.reply_number(conversation.customer)
    except ApplicationError:
        to = ""
    email = conversation.customer.emails.order_by("-is_primary", "pk").values_list("email", flat=True).first()
    thread = list(reversed(thread))
    return {
        "current": conversation,
        "thread": thread,
        "reply_to": to,
        "reply_email": email or "",
        "reply_chat": webchat.last_inbound_is_chat(conversation),
        "saved_replies": [
            {
                "title": r["title"],
                "body": messaging.render_template(r["body"], customer=conversation.customer),
            }
            for r in MessagingSettings.current().saved_replies
        ],
        "assign_form": AssignForm(initial={"assigned_to": conversation.assigned_to_id}),
    }


@role_required(*STAFF_ROLES)
@require_POST
def reply(request, pk: int):
    conversation = get_object_or_404(Conversation.objects.select_related("customer"), pk=pk)
    body = request.POST.get("body", "")
    try:
        if request.POST.get("channel") == Message.Channel.CHAT and webchat.last_inbound_is_chat(conversation):
            message, _ = webchat.chat_reply(conversation=conversation, body=body, actor=request.user)
        elif request.POST.get("channel") == Message.Channel.EMAIL:
            message = messaging.email_queue(
                to=_reply_email(conversation.customer),
                subject=_reply_subject(conversation),
                body=body,
                customer=conversation.customer,
                actor=request.user,
            )
        else:
            message = messaging.message_queue(
                to=messaging.reply_number(conversation.customer),
                body=body,
                purpose="care",
                customer=conversation.customer,
                actor=request.user,
            )
    except ApplicationError as error:
        flash.error(request, error.message)
    else:
        if message.status == Message.Status.SUPPRESSED:
            flash.warning(request, message.error_message)
    if request.htmx:
        context = _thread_context(conversation)
        return render(request, "crm/inbox.html#thread", context)
    return redirect("crm:inbox-conversation", pk=pk)


def _reply_email(customer: Customer) -> str:
    email = customer.emails.order_by("-is_primary", "pk").values_list("email", flat=True).first()
    if not email:
        raise ApplicationError("This customer has no e-mail address.", field="body")
    return email


def _reply_subject(conversation: Conversation) -> str:
    """ "Re: <subject>" of their last e-mail in this conversation; blank (the default subject) if none."""
    subject = (
        Message.objects.filter(conversation=conversation, direction="in", channel=Message.Channel.EMAIL)
        .order_by("-created_at", "-pk")
        .values_list("subject", flat=True)
        .first()
    ) or ""
    if subject and not subject.lower().startswith("re:"):
        subject = f"Re: {subject}"
    return subject


@role_required(*STAFF_ROLES)
@require_http_methods(["POST"])
def conversation_action(request, pk: int):
    conversation = get_object_or_404(Conversation, pk=pk)
    action = request.POST.get("action")
    if action in ("done", "open"):
        messaging.conversation_set_status(conversation=conversation, status=action, actor=request.user)
    elif action == "assign":
        form = AssignForm(request.POST)
        if form.is_valid():
            messaging.conversation_assign(
                conversation=conversation, assignee=form.cleaned_data["assigned_to"], actor=request.user
            )
    return redirect("crm:inbox-conversation", pk=pk)


@role_required(*STAFF_ROLES)
def customer_conversation(request, customer_pk: int):
    """Open (or start) the conversation with a customer, from their page."""
    customer = get_object_or_404(Customer.objects.active(), pk=customer_pk)
    return redirect("crm:inbox-conversation", pk=messaging.conversation_for(customer).pk)
