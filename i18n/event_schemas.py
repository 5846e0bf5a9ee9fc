"""Events i18n emits (validated by samia.events)."""

from samia.events.registry import Code, register

# One per translate request that wrote something: the field, how many objects got a text, the characters
# the provider billed (the translation-characters budget reads these from events_raw).
register(
    "i18n.batch_translated",
    1,
    required=("model", "field", "fields", "chars"),
    model=Code,
    field=Code,
    fields=int,
    chars=int,
)
