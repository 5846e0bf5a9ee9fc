from django import forms
from django.contrib import admin
from django.contrib.auth.models import Group
from django.contrib.auth.password_validation import validate_password

from samia import audit
from samia.accounts.models import PROFILE_FIELDS, User
from samia.rls.admin import DeclaredModelAdmin
from samia.rls.registry import Identity

# Roles live on the user; Django's groups are unused.
admin.site.unregister(Group)


class UserCreateForm(forms.ModelForm):
    password = forms.CharField(widget=forms.PasswordInput, help_text="At least 10 characters.")

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
    list_display = ["id", "email", "role", "country", "timezone", "language", "is_active", "blocked_at", "created_at"]
    list_filter = ["role", "is_active", "language", "country"]
    search_fields = ["email", "last_name"]
    ordering = ["-id"]
    readonly_fields = ["zodiac_sign", "created_at", "password"]
    fieldsets = [
        (None, {"fields": ["email", "role", "is_active", "password"]}),
        ("Profile", {"fields": [*PROFILE_FIELDS, "zodiac_sign"]}),
        ("Restriction", {"fields": ["blocked_at", "blocked_until"]}),
        ("Dates", {"fields": ["created_at"]}),
    ]

    def get_form(self, request, obj=None, **kwargs):
        if obj is None:
            kwargs["form"] = UserCreateForm
        return super().get_form(request, obj, **kwargs)

    def get_fieldsets(self, request, obj=None):
        if obj is None:
            return [(None, {"fields": [*UserCreateForm.Meta.fields, "password"]})]
        return self.fieldsets

    def save_model(self, request, obj, form, change):
        super().save_model(request, obj, form, change)
        actor = Identity.of(request.user)
        if not change:
            audit.record(action="accounts.user.create", actor=actor, target=obj, details={"role": obj.role})
            return
        if "role" in form.changed_data:
            audit.record(
                action="accounts.user.role_change",
                actor=actor,
                target=obj,
                details={"from": form.initial.get("role"), "to": obj.role},
            )
        if {"blocked_at", "blocked_until", "is_active"} & set(form.changed_data):
            audit.record(
                action="accounts.user.block" if obj.is_blocked or not obj.is_active else "accounts.user.unblock",
                actor=actor,
                target=obj,
                details={"source": "backoffice"},
            )

    def get_readonly_fields(self, request, obj=None):
        if obj is None:
            return []
        fields = list(self.readonly_fields)
        if request.user.role != "superadmin":
            # Only a superadmin changes roles; Postgres refuses it to anyone else too.
            fields.append("role")
        return fields
