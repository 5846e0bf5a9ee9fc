"""Who reads and writes the personalization rows. The nightly job writes models, interactions,
popularity and metrics as the service role; through the API only preferences, rankings and exposures
are written.

Everyone reads and appends their own preference; admins read every table and write the ranking log
and exposures of the rankings they request; a reader reads the daily metrics rows that name them.
"""

from samia.rls.conditions import Equals, Mine
from samia.rls.registry import ADMINS, ROLES, allow, declare

PREFERENCES_TABLE = "personalization_preference"
RANKING_LOG_TABLE = "personalization_ranking_log"
DAILY_METRICS_TABLE = "personalization_daily_metrics"

PREFERENCES = declare(
    "personalization.Preference",
    allow("select", ROLES, Mine("user_id")),
    allow("select", ADMINS),
    # Append-only: no update or delete for anyone; the latest row is the current choice.
    allow("insert", ROLES, check=Mine("user_id") & Mine("recorded_by_id") & Equals("source", "api")),
    module=__name__,
)
INTERACTIONS = declare("personalization.Interaction", allow("select", ADMINS), module=__name__)
COHORTS = declare("personalization.UserCohort", allow("select", ADMINS), module=__name__)
POPULARITY = declare("personalization.Popularity", allow("select", ADMINS), module=__name__)
MODELS = declare("personalization.TrainedModel", allow("select", ADMINS), module=__name__)
EVALUATIONS = declare("personalization.Evaluation", allow("select", ADMINS), module=__name__)
EXPERIMENTS = declare("personalization.Experiment", allow("select", ADMINS), module=__name__)
EXPOSURES = declare(
    "personalization.Exposure",
    allow("select", ADMINS),
    allow("insert", ADMINS),
    module=__name__,
)
RANKING_LOG = declare(
    "personalization.RankingLog",
    allow("select", ADMINS),
    allow("insert", ADMINS, check=Mine("requested_by_id")),
    module=__name__,
)
DAILY_METRICS = declare(
    "personalization.DailyMetrics",
    allow("select", ADMINS),
    allow("select", "reader", Mine("reader_id")),
    module=__name__,
)
