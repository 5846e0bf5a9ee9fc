import hashlib

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

BODY_MAX_CHARACTERS = 1000


class Comment(models.Model):
    """A party's comment on a delivered reading; pending until a moderator approves it."""

    class Status(models.TextChoices):
        PENDING = "pending", _("Pending")
        APPROVED = "approved", _("Approved")
        HIDDEN = "hidden", _("Hidden")
        REMOVED = "removed", _("Removed")

    class AuthorRole(models.TextChoices):
        CLIENT = "client", _("Client")
        READER = "reader", _("Reader")

    order = models.ForeignKey(
        "marketplace.Order", on_delete=models.PROTECT, related_name="+", db_index=False, verbose_name=_("order")
    )
    author = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+", db_index=False, verbose_name=_("author")
    )
    author_role = models.CharField(max_length=8, choices=AuthorRole.choices, verbose_name=_("author role"))
    body = models.TextField(
        max_length=BODY_MAX_CHARACTERS,
        help_text=_("Scrubbed of emails, phone numbers and links."),
        verbose_name=_("body"),
    )
    body_sha256 = models.CharField(max_length=64, verbose_name=_("body SHA-256"))
    status = models.CharField(max_length=8, choices=Status.choices, default=Status.PENDING, verbose_name=_("status"))
    created_at = models.DateTimeField(default=timezone.now, verbose_name=_("created at"))
    decided_at = models.DateTimeField(null=True, blank=True, verbose_name=_("decided at"))
    decided_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        db_index=False,
        verbose_name=_("decided by"),
    )
    # The moderation case the comment was filed on (moderation's id; no foreign key across apps).
    case_id = models.BigIntegerField(null=True, blank=True, verbose_name=_("case ID"))

    class Meta:
        verbose_name = _("community comment")
        verbose_name_plural = _("community comments")
        indexes = [
            # A thread: one order's comments in order; the author's own; the moderation backlog.
            models.Index(fields=["order", "id"], name="comment_thread_idx"),
            models.Index(fields=["author", "-id"], name="comment_author_idx"),
            models.Index(fields=["status", "id"], name="comment_status_idx"),
        ]
        constraints = [
            models.CheckConstraint(
                condition=Q(status__in=["pending", "approved", "hidden", "removed"]), name="comment_status_valid"
            ),
            models.CheckConstraint(condition=Q(author_role__in=["client", "reader"]), name="comment_author_role_valid"),
            models.CheckConstraint(condition=~Q(body=""), name="comment_body_not_empty"),
            models.CheckConstraint(
                condition=Q(status="pending", decided_at__isnull=True)
                | (~Q(status="pending") & Q(decided_at__isnull=False)),
                name="comment_decided_stamped",
            ),
        ]

    def __str__(self):
        return _("Comment #%(id)s · %(status)s") % {"id": self.pk, "status": self.get_status_display()}

    @staticmethod
    def sha256(body: str) -> str:
        return hashlib.sha256(body.encode()).hexdigest()


class Reaction(models.Model):
    class Kind(models.TextChoices):
        LIKE = "like", _("Like")
        HEART = "heart", _("Heart")
        INSIGHTFUL = "insightful", _("Insightful")
        THANKS = "thanks", _("Thanks")

    order = models.ForeignKey(
        "marketplace.Order", on_delete=models.PROTECT, related_name="+", db_index=False, verbose_name=_("order")
    )
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+", db_index=False, verbose_name=_("user")
    )
    kind = models.CharField(max_length=12, choices=Kind.choices, verbose_name=_("kind"))
    created_at = models.DateTimeField(default=timezone.now, verbose_name=_("created at"))

    class Meta:
        verbose_name = _("reaction")
        verbose_name_plural = _("reactions")
        constraints = [
            models.UniqueConstraint(fields=["order", "user", "kind"], name="reaction_unique"),
            models.CheckConstraint(
                condition=Q(kind__in=["like", "heart", "insightful", "thanks"]), name="reaction_kind_valid"
            ),
        ]

    def __str__(self):
        return _("%(kind)s on order #%(order)s") % {"kind": self.get_kind_display(), "order": self.order_id}


class CommunityFlag(models.Model):
    """A party's report of a comment; evidence holds ids and sha256 only."""

    reporter = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+", db_index=False, verbose_name=_("reporter")
    )
    comment = models.ForeignKey(Comment, on_delete=models.PROTECT, related_name="flags", verbose_name=_("comment"))
    reason = models.ForeignKey(
        "moderation.ReasonCode", on_delete=models.PROTECT, related_name="+", verbose_name=_("reason")
    )
    evidence = models.JSONField(
        default=list, blank=True, help_text=_("ids and sha256 only (media:<id>:<sha256>)."), verbose_name=_("evidence")
    )
    created_at = models.DateTimeField(default=timezone.now, verbose_name=_("created at"))
    # The moderation case the flag raised (moderation's id), once the filing job saw it.
    case_id = models.BigIntegerField(null=True, blank=True, verbose_name=_("case ID"))

    class Meta:
        verbose_name = _("community flag")
        verbose_name_plural = _("community flags")
        constraints = [models.UniqueConstraint(fields=["reporter", "comment"], name="flag_unique")]

    def __str__(self):
        return _("Flag #%(id)s on comment #%(comment)s") % {"id": self.pk, "comment": self.comment_id}
