"""A read-only viewer of the audit trail in the back office: each entry with its hashes and their check,
the whole chain verified on demand, and the signed checkpoints."""

import json

from django.apps import apps
from django.contrib import admin, messages
from django.db.models import OuterRef, Subquery
from django.db.models.expressions import RawSQL
from django.http import HttpResponseNotAllowed, HttpResponseRedirect
from django.urls import NoReverseMatch, path, reverse
from django.utils.html import format_html
from django.utils.translation import gettext, gettext_lazy

from samia.accounts.models import Role, User
from samia.audit import policies, selectors, verify
from samia.audit.models import AuditCheckpoint, AuditEntry, AuditExport
from samia.backoffice_timezone import time_column
from samia.rls.admin import ReadOnlyAdmin
from samia.rls.conditions import Always
from samia.rls.registry import Identity


def may_verify_chain(user) -> bool:
    """Whoever reads every entry (an unconditional select rule) can verify the chain; a partial reader could not."""
    persona = Identity.of(user).persona
    rules = policies.AUDIT.rules_for("select", persona)
    return user.is_active and any(isinstance(rule.using, Always) for rule in rules)


def _actor_column(column: str):
    return Subquery(User.objects.filter(pk=OuterRef("actor_id")).values(column)[:1])


def _pre(text: str):
    return format_html('<pre dir="auto" style="white-space: pre-wrap; word-break: break-all">{}</pre>', text)


class OutcomeFilter(admin.SimpleListFilter):
    """The three outcomes `record` writes, without reading the trail for its distinct values."""

    title = gettext_lazy("outcome")
    parameter_name = "outcome__exact"
    OUTCOMES = {
        "success": gettext_lazy("success"),
        "denied": gettext_lazy("denied"),
        "failure": gettext_lazy("failure"),
    }

    def lookups(self, request, model_admin):
        return list(self.OUTCOMES.items())

    def queryset(self, request, queryset):
        return queryset.filter(outcome=self.value()) if self.value() in self.OUTCOMES else queryset


@admin.register(AuditEntry)
class AuditEntryAdmin(ReadOnlyAdmin):
    list_display = ["seq", "occurred", "actor", "role", "action", "target", "outcome", "verifies"]
    # Family and role are searched ("moderation", "monitor"), not filtered: a filter on a generated
    # column lists its distinct values, a pass over the whole trail on each page (and occurred_at,
    # a generated column, would get one choice per moment: hence the date filter named here).
    list_filter = [OutcomeFilter, ("occurred_at", admin.DateFieldListFilter)]
    search_fields = ["=action", "=family", "=actor_role", "=target_id", "=actor_id", "=request_id"]
    ordering = ["-seq"]
    show_full_result_count = False
    list_before_template = "audit/admin/verify_chain.html"
    fieldsets = [
        (None, {"fields": ["seq", "occurred", "actor", "role", "action", "family", "target", "outcome"]}),
        (gettext_lazy("Request"), {"fields": ["request_text"]}),
        (gettext_lazy("Details"), {"fields": ["details_text", "payload_text"]}),
        (gettext_lazy("Chain"), {"fields": ["prev_hash", "row_hash", "hash_check", "link_check"]}),
    ]
    readonly_fields = [name for _, options in fieldsets for name in options["fields"]]

    occurred = time_column("occurred_at", gettext_lazy("occurred"))

    def get_urls(self):
        verify_view = self.admin_site.admin_view(self.chain_verify_view)
        return [path("verify/", verify_view, name="audit_auditentry_verify"), *super().get_urls()]

    def changelist_view(self, request, extra_context=None):
        extra_context = {**(extra_context or {}), "may_verify_chain": may_verify_chain(request.user)}
        return super().changelist_view(request, extra_context)

    def chain_verify_view(self, request):
        """Recompute the whole chain (no row to tick) and say the result as a message."""
        if request.method != "POST":
            return HttpResponseNotAllowed(["POST"])
        if not may_verify_chain(request.user):
            self.message_user(
                request,
                gettext("Your role reads only part of the trail, so it cannot verify the chain."),
                messages.ERROR,
            )
        else:
            report = selectors.chain_verify()
            if report.ok:
                self.message_user(
                    request,
                    gettext("The chain verifies: %(rows)s entries up to #%(seq)s.")
                    % {"rows": report.rows, "seq": report.last_seq},
                    messages.SUCCESS,
                )
            else:
                self.message_user(
                    request, gettext("The chain is damaged: %(damage)s.") % {"damage": report.damage}, messages.ERROR
                )
        return HttpResponseRedirect(reverse("admin:audit_auditentry_changelist"))

    def get_queryset(self, request):
        # Each row's own hash, recomputed by Postgres; the links between rows are the chain check's.
        # Chained rows only: an entry whose commit found the chain lock taken shows once it is chained.
        return (
            super()
            .get_queryset(request)
            .filter(seq__isnull=False)
            .annotate(
                hash_ok=RawSQL(
                    "audit_auditentry.row_hash = encode(sha256(convert_to("
                    "audit_auditentry.prev_hash || audit_auditentry.payload, 'UTF8')), 'hex')",
                    [],
                ),
                actor_email=_actor_column("email"),
                actor_first_name=_actor_column("first_name"),
                actor_last_name=_actor_column("last_name"),
            )
        )

    @admin.display(description=gettext_lazy("row hash"))
    def verifies(self, entry):
        return gettext("✓ intact") if entry.hash_ok else gettext("✗ altered")

    @admin.display(description=gettext_lazy("actor"))
    def actor(self, entry):
        if entry.actor_id is None:
            return entry.actor_role or "-"  # system:<job> or anonymous
        if entry.actor_email is None:
            return gettext("user #%(id)s") % {"id": entry.actor_id}  # no longer there, or not readable by this role
        return str(User(email=entry.actor_email, first_name=entry.actor_first_name, last_name=entry.actor_last_name))

    @admin.display(description=gettext_lazy("role"), ordering="actor_role")
    def role(self, entry):
        return Role(entry.actor_role).label if entry.actor_role in Role.values else entry.actor_role

    @admin.display(description=gettext_lazy("target"))
    def target(self, entry):
        if not entry.target_type:
            return "-"
        app_label, _, model_name = entry.target_type.partition(".")
        try:
            name = apps.get_model(app_label, model_name)._meta.verbose_name
        except LookupError:
            name = model_name.replace("_", " ")
        text = gettext("%(model)s #%(id)s") % {"model": name, "id": entry.target_id}
        try:
            url = reverse(f"admin:{app_label}_{model_name}_change", args=[entry.target_id])
        except NoReverseMatch:
            return text
        return format_html('<a href="{}">{}</a>', url, text)

    @admin.display(description=gettext_lazy("request id"))
    def request_text(self, entry):
        if not entry.request_id:
            return "-"
        url = reverse("admin:audit_auditentry_changelist") + f"?request_id={entry.request_id}"
        return format_html('{} · <a href="{}">every entry of this request</a>', entry.request_id, url)

    @admin.display(description=gettext_lazy("details"))
    def details_text(self, entry):
        return _pre(json.dumps(entry.details, indent=2, ensure_ascii=False, sort_keys=True))

    @admin.display(description=gettext_lazy("payload (what the hash covers)"))
    def payload_text(self, entry):
        return _pre(entry.payload)

    @admin.display(description=gettext_lazy("row hash recomputed"))
    def hash_check(self, entry):
        if verify.row_hash(entry.prev_hash, entry.payload) == entry.row_hash:
            return gettext("Matches: sha256(previous hash + payload) is this row's hash.")
        return gettext("Does not match: the payload or a hash was changed after the row was chained.")

    @admin.display(description=gettext_lazy("link to the row before"))
    def link_check(self, entry):
        if selectors.entries_verify([entry])[entry.seq]:
            if entry.seq <= 1:
                return gettext("Links: genesis.")
            return gettext("Links: its previous hash is the hash of #%(seq)s.") % {"seq": entry.seq - 1}
        return gettext("Broken: its previous hash is not the hash of #%(seq)s (or that row is gone).") % {
            "seq": entry.seq - 1
        }


@admin.register(AuditCheckpoint)
class AuditCheckpointAdmin(ReadOnlyAdmin):
    list_display = ["serial", "seq", "count", "signed", "witnessed", "key_id"]
    ordering = ["-seq"]
    fields = ["serial", "seq", "row_hash", "count", "signed", "witnessed", "key_id", "previous_sha256", "statement"]
    readonly_fields = fields

    signed = time_column("signed_at", gettext_lazy("signed at"))
    witnessed = time_column("witnessed_at", gettext_lazy("witnessed at"))


@admin.register(AuditExport)
class AuditExportAdmin(ReadOnlyAdmin):
    list_display = ["month", "first_seq", "last_seq", "row_count", "key_id", "created"]
    ordering = ["-month"]

    created = time_column("created_at", gettext_lazy("created"))
