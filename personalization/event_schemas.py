"""Events personalization emits (validated by samia.events)."""

from samia.events.registry import Code, register

# A user saw a ranking in an experiment: at most once per user, experiment and business day.
register(
    "personalization.exposed",
    1,
    required=("experiment_id", "variant", "surface"),
    experiment_id=int,
    variant=Code,
    surface=Code,
)
