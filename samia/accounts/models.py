from django.contrib.auth.base_user import AbstractBaseUser, BaseUserManager
from django.db import models
from django.db.models.functions import Lower
from django.utils.timezone import now
from django.utils.translation import gettext_lazy as _

from samia.accounts.validators import validate_country, validate_date_of_birth, validate_e164, validate_timezone
from samia.accounts.zodiac import Sign, sign_for


class Role(models.TextChoices):
    CLIENT = "client", _("Client")
    READER = "reader", _("Reader")
    MONITOR = "monitor", _("Monitor")
    ADMIN = "admin", _("Admin")
    SUPERADMIN = "superadmin", _("Superadmin")

    @property
    def rank(self) -> int:
        """Standing in the staff hierarchy: clients and readers 0, monitors 1, admins 2, superadmins 3."""
        return _RANKS[self]


_RANKS = {Role.CLIENT: 0, Role.READER: 0, Role.MONITOR: 1, Role.ADMIN: 2, Role.SUPERADMIN: 3}
STAFF_ROLES = frozenset({Role.MONITOR, Role.ADMIN, Role.SUPERADMIN})


class Language(models.TextChoices):
    ARABIC = "ar", "العربية"
    ENGLISH = "en", "English"


class UserManager(BaseUserManager):
    use_in_migrations = True

    def create_user(self, email: str, password: str | None = None, role: str = Role.CLIENT, **fields):
        if not email:
            raise ValueError("An email address is required.")
        user = self.model(email=self.normalize_email(email).lower(), role=role, **fields)
        user.set_password(password)
        user.save(using=self._db)
        return user

    def create_superuser(self, email: str, password: str | None = None, **fields):
        fields.pop("role", None)
        return self.create_user(email, password, role=Role.SUPERADMIN, **fields)

    def get_by_natural_key(self, email):
        return self.get(email__iexact=email)


# What a user may edit about themselves.
PROFILE_FIELDS = ["first_name", "last_name", "phone", "country", "timezone", "language", "date_of_birth"]


class User(AbstractBaseUser):
    email = models.EmailField(max_length=254, verbose_name=_("email"))
    role = models.CharField(
        max_length=16, choices=Role.choices, default=Role.CLIENT, db_index=True, verbose_name=_("role")
    )
    first_name = models.CharField(max_length=80, blank=True, verbose_name=_("first name"))
    last_name = models.CharField(max_length=80, blank=True, verbose_name=_("last name"))
    phone = models.CharField(
        max_length=16,
        blank=True,
        validators=[validate_e164],
        help_text=_("E.164, e.g. +9665..."),
        verbose_name=_("phone"),
    )
    country = models.CharField(
        max_length=2, default="SA", validators=[validate_country], db_index=True, verbose_name=_("country")
    )
    timezone = models.CharField(
        max_length=64, default="UTC", validators=[validate_timezone], db_index=True, verbose_name=_("timezone")
    )
    language = models.CharField(
        max_length=2, choices=Language.choices, default=Language.ENGLISH, verbose_name=_("language")
    )
    date_of_birth = models.DateField(
        null=True, blank=True, validators=[validate_date_of_birth], verbose_name=_("date of birth")
    )
    zodiac_sign = models.CharField(
        max_length=12, choices=Sign.choices, blank=True, editable=False, db_index=True, verbose_name=_("zodiac sign")
    )
    is_active = models.BooleanField(default=True, verbose_name=_("is active"))
    blocked_at = models.DateTimeField(null=True, blank=True, verbose_name=_("blocked at"))
    blocked_until = models.DateTimeField(
        null=True, blank=True, help_text=_("Empty while blocked means indefinitely."), verbose_name=_("blocked until")
    )
    created_at = models.DateTimeField(default=now, editable=False, verbose_name=_("created at"))

    # Logins are recorded by the audit trail, not by a column the request role would have to update.
    last_login = None

    objects = UserManager()

    USERNAME_FIELD = "email"
    EMAIL_FIELD = "email"
    REQUIRED_FIELDS: list[str] = []

    class Meta:
        verbose_name = _("user")
        verbose_name_plural = _("users")
        constraints = [
            models.UniqueConstraint(Lower("email"), name="accounts_user_email_ci_unique"),
            models.CheckConstraint(condition=models.Q(role__in=Role.values), name="accounts_user_role_valid"),
        ]

    def __str__(self):
        # Staff recognise people by name; the email stays masked wherever a user is listed.
        name = self.display_name
        return f"{name} ({self.masked_email})" if name else self.masked_email

    def save(self, *args, **kwargs):
        self.email = self.email.strip().lower()
        self.zodiac_sign = sign_for(self.date_of_birth) if self.date_of_birth else ""
        update_fields = kwargs.get("update_fields")
        if update_fields is not None and "date_of_birth" in update_fields:
            kwargs["update_fields"] = {*update_fields, "zodiac_sign"}
        super().save(*args, **kwargs)

    @property
    def display_name(self) -> str:
        return f"{self.first_name} {self.last_name}".strip()

    @property
    def masked_email(self) -> str:
        """The email with its local part reduced to its first character: n***@demo.samia.test."""
        local, _, domain = self.email.partition("@")
        return f"{local[:1]}***@{domain}" if domain else f"{local[:1]}***"

    @property
    def is_blocked(self) -> bool:
        if self.blocked_at is None:
            return False
        return self.blocked_until is None or self.blocked_until > now()

    @property
    def can_log_in(self) -> bool:
        return self.is_active and not self.is_blocked

    @property
    def is_staff(self) -> bool:
        return self.role in STAFF_ROLES

    @property
    def is_superuser(self) -> bool:
        return self.role == Role.SUPERADMIN

    def has_perm(self, perm: str, obj=None) -> bool:
        """Answer Django's permission questions from the RLS declarations."""
        from samia.rls.admin import permission_from_declaration

        return self.can_log_in and permission_from_declaration(self, perm)

    def has_perms(self, perm_list, obj=None) -> bool:
        return all(self.has_perm(p, obj) for p in perm_list)

    def has_module_perms(self, app_label: str) -> bool:
        return self.can_log_in and self.is_staff
