"""Back-office permissions from the RLS declarations, so the admin says what Postgres says."""

from django.apps import apps
from django.contrib import admin

from samia.rls.registry import DECLARATIONS, Identity

_ACTIONS = {"view": "select", "add": "insert", "change": "update", "delete": "delete"}


def permission_from_declaration(user, perm: str) -> bool:
    """Answer 'app.action_model' from the declaration of that model's table."""
    app_label, _, codename = perm.partition(".")
    action, _, model_name = codename.partition("_")
    try:
        model = apps.get_model(app_label, model_name)
    except LookupError:
        return False
    declaration = DECLARATIONS.get(model._meta.db_table)
    if declaration is None or action not in _ACTIONS:
        return False
    return Identity.of(user).persona in declaration.roles_for(_ACTIONS[action])


class DeclaredModelAdmin(admin.ModelAdmin):
    """A ModelAdmin whose permissions and querysets come from the table's declaration."""

    def _allowed(self, request, operation: str) -> bool:
        declaration = DECLARATIONS.get(self.model._meta.db_table)
        if declaration is None or not request.user.is_active:
            return False
        return Identity.of(request.user).persona in declaration.roles_for(operation)

    def has_view_permission(self, request, obj=None):
        return self._allowed(request, "select")

    def has_add_permission(self, request):
        return self._allowed(request, "insert")

    def has_change_permission(self, request, obj=None):
        return self._allowed(request, "update")

    def has_delete_permission(self, request, obj=None):
        return self._allowed(request, "delete")

    def has_module_permission(self, request):
        return self.has_view_permission(request)

    def get_queryset(self, request):
        declaration = DECLARATIONS[self.model._meta.db_table]
        return declaration.scope(super().get_queryset(request), Identity.of(request.user))


class ReadOnlyAdmin(DeclaredModelAdmin):
    """Histories (the audit trail, consents, sends): staff read what the declaration lets them
    read; nobody writes through the back office."""

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False
