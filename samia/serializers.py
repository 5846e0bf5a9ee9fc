"""Serializer helpers shared by the apps."""

import datetime as dt

from django.db.models import F
from rest_framework import serializers


class BlankAsNullChoiceField(serializers.ChoiceField):
    """A read-only choice stored as "" when unset, rendered (and described) as null."""

    def __init__(self, **kwargs):
        super().__init__(read_only=True, allow_null=True, **kwargs)

    def to_representation(self, value):
        return super().to_representation(value) if value else None


def _iso(value):
    if value is None:
        return None
    return value.astimezone(dt.UTC).isoformat().replace("+00:00", "Z")


class FlatModelSerializer(serializers.ModelSerializer):
    """A read-only ModelSerializer that renders its fields straight from attributes or from `.values()` rows.

    List pages render 50 rows per request, and DRF's per-field machinery and the model
    instances are most of their cost. `rows(queryset)` selects exactly the serializer's
    fields as dicts; `to_representation` accepts those or model instances. The output is
    identical to ModelSerializer's (tests/test_serializers.py checks both paths); fields
    without a fast path go through their own to_representation. The plan is built once
    per class, so subclasses must not vary their fields by context.
    """

    _plans: dict = {}

    def include_extra_kwargs(self, kwargs, extra_kwargs):
        # DRF drops allow_blank from read-only fields, so a blank choice ("" = unset) would be left
        # out of the field's enum in the API description while the API answers it.
        blank_choice = kwargs.get("allow_blank") and "choices" in kwargs
        kwargs = super().include_extra_kwargs(kwargs, extra_kwargs)
        if blank_choice:
            kwargs["allow_blank"] = True
        return kwargs

    def _plan(self):
        plan = self._plans.get(type(self))
        if plan is None:
            plan = []
            for name, field in self.fields.items():
                if isinstance(field, serializers.DateTimeField):
                    convert = _iso
                elif isinstance(field, serializers.BooleanField | serializers.IntegerField | serializers.ReadOnlyField):
                    convert = None
                elif type(field) is serializers.CharField or isinstance(
                    field, serializers.ChoiceField | serializers.SlugRelatedField
                ):
                    convert = str
                else:
                    convert = field.to_representation
                path = list(field.source_attrs)
                if isinstance(field, serializers.SlugRelatedField):
                    path.append(field.slug_field)
                # .values() cannot name an expression after a model field: such keys get a prefix.
                key = name if path == [name] else f"flat_{name}"
                plan.append((name, key, path, convert))
            self._plans[type(self)] = plan
        return plan

    @classmethod
    def rows(cls, queryset):
        """Select the fields this serializer renders, as dicts keyed by field name."""
        plain, expressions = [], {}
        for name, key, path, _ in cls()._plan():
            if key == name:
                plain.append(name)
            else:
                expressions[key] = F("__".join(path))
        return queryset.values(*plain, **expressions)

    def to_representation(self, instance):
        data = {}
        if isinstance(instance, dict):
            for name, key, _, convert in self._plan():
                value = instance[key]
                data[name] = value if value is None or convert is None else convert(value)
            return data
        for name, _, path, convert in self._plan():
            value = instance
            for attr in path:
                value = getattr(value, attr)
                if value is None:
                    break
            data[name] = value if value is None or convert is None else convert(value)
        return data
