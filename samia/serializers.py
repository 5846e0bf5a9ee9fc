"""Serializer helpers shared by the apps."""

import datetime as dt

from rest_framework import serializers


def _iso(value):
    if value is None:
        return None
    return value.astimezone(dt.UTC).isoformat().replace("+00:00", "Z")


class FlatModelSerializer(serializers.ModelSerializer):
    """A read-only ModelSerializer that renders its fields straight from attributes.

    List pages render 50 rows per request; DRF's per-field machinery is most of their cost.
    The output is identical to ModelSerializer's (tests/test_serializers.py checks it);
    fields without a fast path go through their own to_representation. The plan is built
    once per class, so subclasses must not vary their fields by context.
    """

    def _getters(self):
        getters = []
        for name, field in self.fields.items():
            path = field.source_attrs
            if isinstance(field, serializers.DateTimeField):
                getters.append((name, path, _iso))
            elif isinstance(field, serializers.SlugRelatedField):
                getters.append((name, [*path, field.slug_field], None))
            elif isinstance(field, serializers.BooleanField | serializers.IntegerField | serializers.ReadOnlyField):
                getters.append((name, path, None))
            elif type(field) is serializers.CharField or isinstance(field, serializers.ChoiceField):
                getters.append((name, path, str))
            else:
                getters.append((name, None, field))
        return getters

    _getters_by_class: dict = {}

    def to_representation(self, instance):
        getters = self._getters_by_class.get(type(self))
        if getters is None:
            getters = self._getters_by_class[type(self)] = self._getters()
        data = {}
        for name, path, convert in getters:
            if path is None:  # a field without a fast path
                attribute = convert.get_attribute(instance)
                data[name] = None if attribute is None else convert.to_representation(attribute)
                continue
            value = instance
            for attr in path:
                value = getattr(value, attr)
                if value is None:
                    break
            data[name] = value if value is None or convert is None else convert(value)
        return data
