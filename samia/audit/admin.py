"""A read-only viewer of the audit trail in the back office, with each row's chain status."""

from django.contrib import admin, messages
from django.db.models.expressions import RawSQL

from samia.audit import selectors
from samia.audit.models import AuditCheckpoint, AuditEntry, AuditExport
from samia.rls.admin import ReadOnlyAdmin


@admin.action(description="Verify the whole chain now")
def chain_verify_now(modeladmin, request, queryset):
    report = selectors.chain_verify()
    if report.ok:
        modeladmin.message_user(request, f"Chain verifies: {report.rows} rows up to seq {report.last_seq}.")
    else:
        modeladmin.message_user(request, f"Chain damaged: {report.damage}", messages.ERROR)


@admin.register(AuditEntry)
class AuditEntryAdmin(ReadOnlyAdmin):
    list_display = [
        "seq",
        "occurred_at",
        "actor_role",
        "actor_id",
        "action",
        "target_type",
        "target_id",
        "outcome",
        "verifies",
    ]
    list_filter = ["family", "outcome", "actor_role"]
    search_fields = ["=action", "=target_id", "=actor_id", "=request_id"]
    date_hierarchy = "occurred_at"
    ordering = ["-seq"]
    actions = [chain_verify_now]
    show_full_result_count = False

    def get_actions(self, request):
        # The action runs over the whole chain, whatever is selected; keep it for admins.
        actions = super().get_actions(request)
        if request.user.role not in ("admin", "superadmin"):
            actions.pop("chain_verify_now", None)
        return actions

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
                )
            )
        )

    @admin.display(boolean=True, description="hash ok")
    def verifies(self, entry):
        return entry.hash_ok


@admin.register(AuditCheckpoint)
class AuditCheckpointAdmin(ReadOnlyAdmin):
    list_display = ["seq", "count", "signed_at", "key_id", "signed_by_id"]
    ordering = ["-seq"]


@admin.register(AuditExport)
class AuditExportAdmin(ReadOnlyAdmin):
    list_display = ["month", "first_seq", "last_seq", "row_count", "key_id", "created_at"]
    ordering = ["-month"]
