from rest_framework import serializers

from sre.models import Component, Incident, Runbook, Severity


class BudgetSerializer(serializers.Serializer):
    metric = serializers.CharField()
    limit = serializers.IntegerField()
    actual = serializers.IntegerField()
    forecast = serializers.IntegerField()
    percent = serializers.IntegerField()
    forecast_percent = serializers.IntegerField()
    state = serializers.ChoiceField(choices=["ok", "warning", "at_risk", "exceeded"])
    unit_cost = serializers.DecimalField(max_digits=20, decimal_places=12)
    cost = serializers.DecimalField(max_digits=20, decimal_places=2)
    forecast_cost = serializers.DecimalField(max_digits=20, decimal_places=2)
    currency = serializers.CharField()
    evaluated_at = serializers.DateTimeField(allow_null=True)


class BudgetListSerializer(serializers.Serializer):
    month = serializers.CharField()
    budgets = BudgetSerializer(many=True)


class HealthCheckSerializer(serializers.Serializer):
    status = serializers.ChoiceField(choices=["pass", "warn", "fail"])
    observedValue = serializers.JSONField(required=False)
    observedUnit = serializers.CharField(required=False)
    output = serializers.CharField(required=False)
    time = serializers.DateTimeField(required=False)


class HealthOverviewSerializer(serializers.Serializer):
    status = serializers.ChoiceField(choices=["pass", "warn", "fail"])
    description = serializers.CharField()
    checks = serializers.DictField(child=HealthCheckSerializer(many=True))


class IncidentDeclareSerializer(serializers.Serializer):
    severity = serializers.ChoiceField(choices=Severity.choices)
    component = serializers.ChoiceField(choices=Component.choices)
    title = serializers.CharField(min_length=3, max_length=200)
    runbook = serializers.SlugField(max_length=80, required=False)


class IncidentSerializer(serializers.ModelSerializer):
    runbook = serializers.SlugRelatedField(slug_field="slug", read_only=True, allow_null=True)

    class Meta:
        model = Incident
        fields = ["id", "severity", "status", "component", "title", "runbook", "tier", "declared_at", "paged_at"]


class RunbookListSerializer(serializers.ModelSerializer):
    class Meta:
        model = Runbook
        fields = ["id", "slug", "component", "title", "updated_at"]


class RunbookSerializer(serializers.ModelSerializer):
    class Meta:
        model = Runbook
        fields = ["id", "slug", "component", "title", "markdown", "updated_at"]
