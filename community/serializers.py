import re

from rest_framework import serializers

from community.handles import handle
from community.models import BODY_MAX_CHARACTERS, Comment, Reaction
from community.services import ACTION_CODES

EVIDENCE_REF = re.compile(r"^[A-Za-z0-9_.:\-]{1,80}$")


def _evidence():
    return serializers.ListField(
        child=serializers.RegexField(EVIDENCE_REF, error_messages={"invalid": "Evidence holds ids and hashes only."}),
        max_length=20,
        default=list,
    )


class CommentPostSerializer(serializers.Serializer):
    order_id = serializers.IntegerField(min_value=1)
    body = serializers.CharField(
        max_length=BODY_MAX_CHARACTERS,
        help_text="Emails, phone numbers (any digits) and links are replaced by [removed] before it is stored.",
    )


class CommentPostedSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    status = serializers.ChoiceField(choices=Comment.Status.choices)
    handle = serializers.SerializerMethodField()

    def get_handle(self, comment) -> str:
        return handle(comment.author_id)


class ReactionAddSerializer(serializers.Serializer):
    order_id = serializers.IntegerField(min_value=1)
    kind = serializers.ChoiceField(choices=Reaction.Kind.choices)


class ReactionSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    order_id = serializers.IntegerField()
    kind = serializers.CharField()


class FlagRaiseSerializer(serializers.Serializer):
    comment_id = serializers.IntegerField(min_value=1)
    reason = serializers.SlugField(max_length=40, help_text="A moderation reason code (harassment, spam, ...).")
    evidence = _evidence()


class FlagSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    comment_id = serializers.IntegerField()
    reason = serializers.CharField(source="reason.code")
    evidence = serializers.ListField(child=serializers.CharField())


class ThreadQuerySerializer(serializers.Serializer):
    order_id = serializers.IntegerField(min_value=1)


class ThreadCommentSerializer(serializers.Serializer):
    # A plain Serializer: a ModelSerializer builds its fields from the model on every page.
    id = serializers.IntegerField()
    handle = serializers.SerializerMethodField()
    # Plain values, not the translated labels: copying lazy labels for every page cost milliseconds.
    author_role = serializers.CharField(help_text="client or reader")  # the set is moderation's SubjectEnum already
    body = serializers.CharField()
    status = serializers.ChoiceField(choices=Comment.Status.values)
    created_at = serializers.DateTimeField()

    def get_handle(self, comment) -> str:
        return handle(comment.author_id)


class ModerateSerializer(serializers.Serializer):
    action = serializers.ChoiceField(choices=sorted(ACTION_CODES))
    reason = serializers.SlugField(max_length=40)
    evidence = _evidence()


class ModeratedSerializer(serializers.Serializer):
    comment_id = serializers.IntegerField(source="comment.pk")
    comment_status = serializers.CharField(source="comment.status")
    action_id = serializers.IntegerField(source="action.pk")
    action = serializers.CharField(source="action.action")
    case_id = serializers.IntegerField(source="action.case_id")
