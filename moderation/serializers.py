import datetime as dt
import re

from django.utils.dateparse import parse_duration
from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from moderation.calls import CALL_ACTION_CODES
from moderation.models import Appeal, Case, ModerationAction
from moderation.selectors import QUEUE_STATUSES
from moderation.services import MAX_DURATION, ORDER_ACTIONS, Code

# Evidence is a list of references (ids, hashes), never free text: it goes into the audit trail.
EVIDENCE_REF = re.compile(r"^[A-Za-z0-9_.:\-]{1,64}$")


@extend_schema_field(
    {"oneOf": [{"type": "string", "example": "P7D"}, {"type": "integer", "minimum": 1}], "nullable": True}
)
class DurationInput(serializers.Field):
    """A positive duration: ISO 8601 (P3D, PT2H) or a number of seconds; null means indefinite."""

    default_error_messages = {
        "invalid": "Give an ISO 8601 duration (e.g. P7D) or a number of seconds.",
        "not_positive": "The duration must be positive.",
        "too_long": "The duration may not exceed 10 years; leave it empty for an indefinite block.",
    }

    def to_internal_value(self, data):
        if isinstance(data, bool) or not isinstance(data, int | float | str):
            self.fail("invalid")
        text = str(data).strip()
        try:
            if re.fullmatch(r"-?\d+(\.\d+)?", text):
                if float(text) <= 0:
                    self.fail("not_positive")
                value = dt.timedelta(seconds=float(text))
            else:
                value = parse_duration(text)
        except (OverflowError, ValueError):
            self.fail("too_long")
        if value is None:
            self.fail("invalid")
        if value <= dt.timedelta(0):
            self.fail("not_positive")
        if value > MAX_DURATION:
            self.fail("too_long")
        return value

    def to_representation(self, value):
        return None if value is None else int(value.total_seconds())


def _evidence():
    return serializers.ListField(
        child=serializers.RegexField(EVIDENCE_REF, error_messages={"invalid": "Evidence holds ids and hashes only."}),
        max_length=50,
        default=list,
    )


class BlockSerializer(serializers.Serializer):
    user_id = serializers.IntegerField(min_value=1)
    reason = serializers.SlugField(max_length=40)
    duration = DurationInput(allow_null=True, required=False, default=None)
    evidence = _evidence()


class UnblockSerializer(serializers.Serializer):
    user_id = serializers.IntegerField(min_value=1)
    reason = serializers.SlugField(max_length=40)
    evidence = _evidence()


class ModerateOrderSerializer(serializers.Serializer):
    action = serializers.ChoiceField(choices=[str(a) for a in ORDER_ACTIONS])
    reason = serializers.SlugField(max_length=40)
    evidence = _evidence()
    subject = serializers.ChoiceField(choices=["client", "reader"], default="client")


class AppealOpenSerializer(serializers.Serializer):
    statement = serializers.CharField(max_length=2000, required=False, default="", allow_blank=True)


class AppealResolveSerializer(serializers.Serializer):
    decision = serializers.ChoiceField(choices=Appeal.Decision.choices)
    rationale = serializers.CharField(max_length=2000)
    duration = DurationInput(
        allow_null=True,
        required=False,
        help_text="modify, on a block: its new length from the block's start (ISO 8601 or seconds; null: indefinite).",
    )
    action = serializers.ChoiceField(
        choices=[str(Code.HOLD)], required=False, help_text="modify, on an unlisting: replace it by a hold."
    )

    def validate(self, data):
        changes = {key: data[key] for key in ("duration", "action") if key in data}
        if data["decision"] != Appeal.Decision.MODIFY and changes:
            raise serializers.ValidationError({"decision": ["Only a modify takes a duration or an action."]})
        if data["decision"] == Appeal.Decision.MODIFY and len(changes) != 1:
            raise serializers.ValidationError({"decision": ["A modify takes either a duration or an action."]})
        data["modify"] = changes or None
        return data


class ModerateCallSerializer(serializers.Serializer):
    action = serializers.ChoiceField(
        choices=list(CALL_ACTION_CODES),
        help_text="end: end the live call (admins; through the calls provider, else marked for ending); "
        "flag: record it; escalate: raise its case.",
    )
    reason = serializers.SlugField(max_length=40)
    evidence = _evidence()
    subject = serializers.ChoiceField(choices=["client", "reader"], default="client")


class AuthAppealSerializer(serializers.Serializer):
    email = serializers.EmailField(max_length=254)
    password = serializers.CharField(max_length=256, trim_whitespace=False, style={"input_type": "password"})
    statement = serializers.CharField(max_length=2000, required=False, default="", allow_blank=True)


class CaseQuerySerializer(serializers.Serializer):
    status = serializers.ChoiceField(choices=[str(s) for s in QUEUE_STATUSES], required=False)
    reason = serializers.SlugField(max_length=40, required=False)
    source = serializers.ChoiceField(choices=Case.Source.choices, required=False)
    team = serializers.ChoiceField(choices=Case.Team.choices, required=False)
    assignee = serializers.IntegerField(min_value=1, required=False)
    subject = serializers.IntegerField(min_value=1, required=False)


class ActionSerializer(serializers.ModelSerializer):
    reason = serializers.SlugRelatedField(slug_field="code", read_only=True)
    duration = DurationInput(read_only=True)

    class Meta:
        model = ModerationAction
        fields = [
            "id",
            "action",
            "target_type",
            "target_id",
            "subject_id",
            "reason",
            "evidence",
            "duration",
            "expires_at",
            "case_id",
            "created_at",
            "lifted_at",
            "lift_reason",
        ]
        read_only_fields = fields


class CaseSerializer(serializers.ModelSerializer):
    reason = serializers.SlugRelatedField(slug_field="code", read_only=True)

    class Meta:
        model = Case
        fields = [
            "id",
            "subject_id",
            "scope",
            "order_id",
            "media_id",
            "call_id",
            "reason",
            "source",
            "status",
            "priority",
            "team",
            "opened_at",
            "sla_due_at",
            "assignee_id",
        ]
        read_only_fields = fields


class AppealSerializer(serializers.ModelSerializer):
    action = ActionSerializer(read_only=True, help_text="The appealed action as it stands now.")
    replacement = ActionSerializer(
        read_only=True, allow_null=True, help_text="modify: the action that replaced it (a hold for an unlisting)."
    )

    class Meta:
        model = Appeal
        fields = [
            "id",
            "action_id",
            "subject_id",
            "status",
            "opened_at",
            "decision",
            "decided_at",
            "decided_by_id",
            "notes",
            "action",
            "replacement",
        ]
        read_only_fields = fields


class LineageRecomputeSerializer(serializers.Serializer):
    case_id = serializers.IntegerField(min_value=1)


class LineageEdgeSerializer(serializers.Serializer):
    from_type = serializers.CharField()
    from_id = serializers.IntegerField()
    to_type = serializers.CharField()
    to_id = serializers.IntegerField()
    sha256 = serializers.CharField(required=False, help_text="Media only, also once removed.")
    bytes = serializers.IntegerField(required=False, help_text="Media only.")
    removed = serializers.BooleanField(required=False, help_text="Media only: the stored object is deleted.")


class LineageSerializer(serializers.Serializer):
    case_id = serializers.IntegerField()
    edges = LineageEdgeSerializer(many=True)
