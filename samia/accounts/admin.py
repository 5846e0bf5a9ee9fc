from django import forms
from django.contrib import admin
from django.contrib.auth.hashers import identify_hasher
from django.contrib.auth.models import Group
from django.contrib.auth.password_validation import validate_password
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from samia import audit
from samia.accounts.models import PROFILE_FIELDS, Role, User
from samia.backoffice_timezone import time_column
from samia.rls.admin import DeclaredModelAdmin
from samia.rls.registry import Identity

# Roles live on the user; Django's groups are unused.
admin.site.unregister(Group)

# Fields that say who a user is; those of a user of equal or higher rank change only by a superadmin.
IDENTITY_FIELDS = ["email", "role", "is_active", "phone"]


def grantable_roles(actor: User) -> list[str]:
    """Return the roles `actor` may give an account: a superadmin any, an admin client or reader."""
    if actor.role == Role.SUPERADMIN:
        return list(Role.values)
    if actor.role == Role.ADMIN:
        return [Role.CLIENT, Role.READER]
    return []


class UserCreateForm(forms.ModelForm):
    password = forms.CharField(
        label=gettext_lazy("Password"), widget=forms.PasswordInput, help_text=gettext_lazy("At least 10 characters.")
    )

    class Meta:
        model = User
        fields = ["email", "role", *PROFILE_FIELDS]

    def clean_password(self):
        password = self.cleaned_data["password"]
        validate_password(password)
        return password

    def save(self, commit=True):
        user = super().save(commit=False)
        user.set_password(self.cleaned_data["password"])
        if commit:
            user.save()
        return user


@admin.register(User)
class UserAdmin(DeclaredModelAdmin):
    """Accounts in the back office. Blocks are not fields here: moderation adds block and unblock
    actions that go through its services; Postgres refuses a block change without one."""

    # People by name and masked email (the full address is on the user's own page).
    list_display = ["id", "person", "role", "country", "timezone", "language", "is_active", "blocked", "created"]
    # Country is searched (e.g. "SA"), not filtered: the filter lists every user's distinct country
    # on each page.
    list_filter = ["role", "is_active", "language"]
    search_fields = ["email", "last_name", "=country"]
    ordering = ["-id"]
    # Shown, never edited: the password only by its algorithm, the restriction as moderation left it.
    # (The times are shown in the staff member's zone: `blocked`, `blocked_until_local`, `created`.)
    always_read_only = ["password_status", "is_active", "blocked", "blocked_until_local", "zodiac_sign", "created"]
    fieldsets = [
        (None, {"fields": ["email", "role", "is_active", "password_status"]}),
        (gettext_lazy("Profile"), {"fields": [*PROFILE_FIELDS, "zodiac_sign"]}),
        (gettext_lazy("Restriction"), {"fields": ["blocked", "blocked_until_local"]}),
        (gettext_lazy("Dates"), {"fields": ["created"]}),
    ]

    blocked = time_column("blocked_at", gettext_lazy("blocked at"))
    blocked_until_local = time_column("blocked_until", gettext_lazy("blocked until"))
    created = time_column("created_at", gettext_lazy("created"))

    @admin.display(description=gettext_lazy("person"), ordering="last_name")
    def person(self, obj: User) -> str:
        return str(obj)

    @admin.display(description=gettext_lazy("Password"))
    def password_status(self, obj: User) -> str:
        if not obj.has_usable_password():
            return _("Not set")
        try:
            return _("Set (%(algorithm)s)") % {"algorithm": identify_hasher(obj.password).algorithm}
        except ValueError:
            return _("Set")

    def get_form(self, request, obj=None, **kwargs):
        if obj is None:
            kwargs["form"] = UserCreateForm
        return super().get_form(request, obj, **kwargs)

    def get_fieldsets(self, request, obj=None):
        if obj is None:
            return [(None, {"fields": [*UserCreateForm.Meta.fields, "password"]})]
        return self.fieldsets

    def formfield_for_choice_field(self, db_field, request, **kwargs):
        if db_field.name == "role":
            allowed = grantable_roles(request.user)
            kwargs["choices"] = [(value, label) for value, label in Role.choices if value in allowed]
        return super().formfield_for_choice_field(db_field, request, **kwargs)

    def get_readonly_fields(self, request, obj=None):
        if obj is None:
            return []
        actor = request.user
        if actor.role not in (Role.ADMIN, Role.SUPERADMIN):
            # Monitors act on accounts only through moderation's block action.
            return [*self.always_read_only, "email", "role", *PROFILE_FIELDS]
        fields = list(self.always_read_only)
        if obj.pk == actor.pk:
            # Nobody changes their own role; one's own email changes only with re-authentication.
            fields += ["role"] if actor.role == Role.SUPERADMIN else ["role", "email"]
        elif actor.role != Role.SUPERADMIN and Role(obj.role).rank >= Role(actor.role).rank:
            fields += ["email", "role", "phone"]
        elif obj.role not in grantable_roles(actor):
            fields.append("role")
        return fields

    def save_model(self, request, obj, form, change):
        super().save_model(request, obj, form, change)
        # Changes of email, phone, role and active flag are audited by Postgres (accounts 0009).
        if not change:
            audit.record(
                action="accounts.user.create", actor=Identity.of(request.user), target=obj, details={"role": obj.role}
            )
