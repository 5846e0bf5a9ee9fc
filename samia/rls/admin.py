"""Back-office permissions from the RLS declarations, so the admin says what Postgres says.

What Postgres or a service still refuses (a policy's WITH CHECK, a check constraint, a trigger,
a service's ValidationError, PermissionDenied or Conflict) comes back to the page as a message
in words, never as the server-error page or SQL text. The pages wear django-unfold's theme:
`DeclaredModelAdmin` is an unfold ModelAdmin, so every admin built on it is too.
"""

import functools
from collections.abc import Callable

from django.apps import apps
from django.contrib import messages
from django.contrib.admin import display, helpers
from django.core.exceptions import FieldDoesNotExist, ObjectDoesNotExist, PermissionDenied, ValidationError
from django.core.paginator import Paginator
from django.db import DatabaseError, models, transaction
from django.forms import ModelChoiceField
from django.http import HttpResponseRedirect
from django.utils.functional import cached_property
from django.utils.html import format_html
from django.utils.translation import get_language, gettext, gettext_lazy
from unfold.admin import ModelAdmin, checkbox

from samia.exceptions import DomainError
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


# SQLSTATE (or its class, two characters) -> what the person is told. Anything else stays a server error.
_REFUSALS = {
    "42501": gettext_lazy("Your role may not make this change."),
    "23505": gettext_lazy("Another {name} already has these values."),
    "23503": gettext_lazy("This change refers to something that does not exist, or that something else still needs."),
    "23502": gettext_lazy("A required value is missing."),
    "23": gettext_lazy("This change breaks a rule of {name}."),
    "22": gettext_lazy("A value is out of range or malformed."),
    "P0": gettext_lazy("The database refused this change."),
}


def refusal_message(error: DatabaseError, model) -> str | None:
    """Say in words why Postgres refused a write to `model`'s table; None if it was not a refusal."""
    cause = error.__cause__
    state = getattr(cause, "sqlstate", None) or ""
    template = _REFUSALS.get(state) or _REFUSALS.get(state[:2])
    if template is None:
        return None
    diag = cause.diag
    # A trigger's RAISE speaks our words (the function's own message); Postgres's own messages name tables.
    if "PL/pgSQL function" in (diag.context or "") and diag.message_primary:
        return gettext("The change was refused: %(reason)s.") % {"reason": diag.message_primary}
    if state == "23514":
        constraint = next((c for c in model._meta.constraints if c.name == diag.constraint_name), None)
        if constraint is not None:
            return gettext("The change was refused: %(reason)s") % {"reason": constraint.get_violation_error_message()}
    return str(template).format(name=model._meta.verbose_name)


REFUSALS = (ValidationError, DomainError, PermissionDenied, ObjectDoesNotExist, DatabaseError)


def service_refusal(error: Exception, model) -> str | None:
    """Say in words why a service or Postgres refused an action on `model`; None if `error` is no refusal."""
    if isinstance(error, ValidationError):
        return " ".join(error.messages)
    if isinstance(error, DomainError):
        return error.message
    if isinstance(error, PermissionDenied):
        return str(error) or gettext("Your role may not do this.")
    if isinstance(error, ObjectDoesNotExist):
        message = str(error)
        return gettext("It no longer exists.") if not message or "matching query does not exist" in message else message
    if isinstance(error, DatabaseError):
        return refusal_message(error, model)
    return None


def run_action(request, queryset, fn: Callable) -> tuple[int, int]:
    """Apply `fn(obj)` to each selected row in its own savepoint; report "done / refused" at the right level.

    A refusal (a service's ValidationError, PermissionDenied, DoesNotExist, Conflict, or Postgres
    refusing the write) leaves that row unchanged and the others standing; anything else is a bug
    and stays a server error. All done: one success message; some refused: a warning naming each
    refused row by id and why; all refused: an error. Returns (done, refused).
    """
    done, refused = 0, []
    for obj in queryset:
        try:
            with transaction.atomic():
                fn(obj)
        except REFUSALS as error:
            reason = service_refusal(error, queryset.model)
            if reason is None:
                raise
            refused.append(f"#{obj.pk}: {reason}")
            continue
        done += 1
    if not refused:
        messages.success(request, gettext("%(done)s done.") % {"done": done})
    else:
        level = messages.WARNING if done else messages.ERROR
        reasons = "; ".join(refused)
        message = gettext("%(done)s done, %(refused)s refused. %(reasons)s")
        messages.add_message(request, level, message % {"done": done, "refused": len(refused), "reasons": reasons})
    return done, len(refused)


class CappedPaginator(Paginator):
    """Count a list's rows only up to COUNT_CAP: under RLS every counted row is a heap read.

    A list of 200,000 orders answers in tens of milliseconds instead of seconds; its pages past the
    cap are reached by filtering, which is how people look for a row in a list that long anyway.
    """

    COUNT_CAP = 1000

    @cached_property
    def count(self) -> int:
        return self.object_list[: self.COUNT_CAP].count()


_PK_SLOT = "__samia_pk__"


@functools.cache
def _row_checkbox(language: str | None) -> str:
    """unfold's row checkbox rendered once per language (its aria-label is translated), as a format string."""
    markup = str(checkbox.render(helpers.ACTION_CHECKBOX_NAME, _PK_SLOT))
    return markup.replace("{", "{{").replace("}", "}}").replace(_PK_SLOT, "{}")


@functools.cache
def _relation_id_column(model, name):
    """`order_id` in a list: the id without a query, headed by the relation's own label ("Order", "طلب")
    where Django would write "Order id" in every language."""
    if not isinstance(name, str) or not name.endswith("_id"):
        return name
    try:
        field = model._meta.get_field(name)
    except FieldDoesNotExist:
        return name
    if not field.is_relation or field.attname != name:
        return name

    @display(description=field.verbose_name, ordering=name)
    def column(obj):
        return getattr(obj, name)

    column.__name__ = name
    return column


LTR_TYPES = (models.EmailField, models.URLField, models.DateField, models.TimeField)  # DateTimeField is a DateField


class DeclaredModelAdmin(ModelAdmin):
    """A ModelAdmin (unfold's) whose permissions and querysets come from the table's declaration.

    Saves and deletes run in a savepoint: when Postgres refuses one, nothing of it stays, the
    person reads why, and the same page comes back. `write_roles`, when set, narrows add, change
    and delete further to those roles (e.g. periodic tasks: the declaration lets admins write,
    the back office offers writing to superadmins only).
    """

    write_roles: frozenset[str] | None = None
    # Inputs written left to right on an Arabic page too: an RTL page shows "+212 6..." as "...6 212+",
    # mangles addresses, and lays a date's digits under the calendar and clock buttons at the input's
    # right end. Emails, URLs, dates and times by type, others by name.
    ltr_fields: tuple[str, ...] = ("phone",)
    # A filtered list counts its matches once; "(N total)" would count the whole table again, and under
    # RLS every counted row is a heap read (200,000 orders: seconds).
    show_full_result_count = False
    paginator = CappedPaginator

    # unfold renders the checkbox widget's template for each row (a tenth of a list page's time); the
    # markup differs only by the pk, so it is rendered once and the escaped pk put in its slot.
    @display(description=ModelAdmin.action_checkbox.short_description)
    def action_checkbox(self, obj):
        return format_html(_row_checkbox(get_language()), obj.pk)

    def formfield_for_dbfield(self, db_field, request, **kwargs):
        field = super().formfield_for_dbfield(db_field, request, **kwargs)
        ltr = isinstance(db_field, LTR_TYPES) or db_field.name in self.ltr_fields
        if field is not None and ltr:
            field.widget.attrs.setdefault("dir", "ltr")
        return field

    def _refusable(self, request, view, *args, **kwargs):
        try:
            with transaction.atomic():
                return view(request, *args, **kwargs)
        # Not PermissionDenied nor DoesNotExist: the page itself answers those (403, or back to the list).
        except (ValidationError, DomainError, DatabaseError) as error:
            message = service_refusal(error, self.model)
            if message is None:
                raise
        self.message_user(request, message, messages.ERROR)
        return HttpResponseRedirect(request.get_full_path())

    def changeform_view(self, request, object_id=None, form_url="", extra_context=None):
        return self._refusable(request, super().changeform_view, object_id, form_url, extra_context)

    def delete_view(self, request, object_id, extra_context=None):
        return self._refusable(request, super().delete_view, object_id, extra_context)

    def changelist_view(self, request, extra_context=None):
        return self._refusable(request, super().changelist_view, extra_context)

    def get_list_display(self, request):
        return [_relation_id_column(self.model, name) for name in super().get_list_display(request)]

    def get_changelist_formset(self, request, **kwargs):
        # list_editable: every row's form would run its own query for each foreign key's choices
        # (an N+1); the rows of one page share one evaluation per field.
        formset = super().get_changelist_formset(request, **kwargs)
        shared: dict[str, list] = {}

        class SharedChoicesForm(formset.form):
            def __init__(self, *args, **kwargs):
                super().__init__(*args, **kwargs)
                for name, field in self.fields.items():
                    if isinstance(field, ModelChoiceField):
                        if name not in shared:
                            shared[name] = list(field.choices)
                        field.choices = shared[name]

        formset.form = SharedChoicesForm
        return formset

    def _allowed(self, request, operation: str) -> bool:
        declaration = DECLARATIONS.get(self.model._meta.db_table)
        if declaration is None or not request.user.is_active:
            return False
        persona = Identity.of(request.user).persona
        if operation != "select" and self.write_roles is not None and persona not in self.write_roles:
            return False
        return persona in declaration.roles_for(operation)

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
        queryset = declaration.scope(super().get_queryset(request), Identity.of(request.user))
        prefetched = self._listed_relations(prefetched=True)
        return queryset.prefetch_related(*prefetched) if prefetched else queryset

    def get_list_select_related(self, request):
        """Join only the listed relations to tables without a policy of their own; prefetch the rest.

        Joining two tables under row-level security hides the selectivity of both policies from the
        planner, which then sorts a whole table for a page of 100 (200,000 orders with their client and
        reader: 0.5 s; the page, then its people by id: 7 ms).
        """
        return self._listed_relations(prefetched=False)

    def _listed_relations(self, *, prefetched: bool) -> list[str]:
        if not isinstance(self.list_select_related, list | tuple):
            return [] if prefetched else self.list_select_related
        return [name for name in self.list_select_related if self._under_a_policy(name) is prefetched]

    def _under_a_policy(self, name: str) -> bool:
        model = self.model
        for part in name.split("__"):
            model = model._meta.get_field(part).related_model
            if model._meta.db_table in DECLARATIONS:
                return True
        return False


class ReadOnlyAdmin(DeclaredModelAdmin):
    """Histories (the audit trail, consents, sends): staff read what the declaration lets them
    read; nobody writes through the back office."""

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False
