"""Back office: read-only pages of the trained models, their evaluations, the experiments and the ranking log.

Models are trained by the nightly job and experiments started by `manage.py personalization_experiment`;
nobody writes these through the back office.
"""

from django.contrib import admin
from django.utils.translation import gettext_lazy as _

from personalization.models import Evaluation, Experiment, RankingLog, TrainedModel
from samia.rls.admin import ReadOnlyAdmin


@admin.register(TrainedModel)
class TrainedModelAdmin(ReadOnlyAdmin):
    list_display = ["version", "kind", "users", "items", "interactions", "training_seconds", "trained_at"]
    list_filter = ["kind"]
    exclude = ["artifact"]  # a path in private storage: nothing to open from the back office
    readonly_fields = ["sha256", "params", "metrics"]
    ordering = ["-trained_at", "-id"]


@admin.register(Evaluation)
class EvaluationAdmin(ReadOnlyAdmin):
    list_display = [
        "evaluated_at",
        "kind",
        "split_at",
        "users",
        "ndcg_at_10",
        "popularity_ndcg_at_10",
        "hr_at_10",
        "popularity_hr_at_10",
        "coverage",
        "popularity_coverage",
    ]
    list_filter = ["kind"]
    list_select_related = ["model"]
    ordering = ["-id"]


@admin.register(Experiment)
class ExperimentAdmin(ReadOnlyAdmin):
    list_display = ["name", "surface", "variants", "active", "created_at"]
    list_filter = ["surface", "active"]
    exclude = ["salt"]
    ordering = ["-id"]


@admin.register(RankingLog)
class RankingLogAdmin(ReadOnlyAdmin):
    list_display = ["created_at", "user_id", "surface", "reason", "model_version", "variant", "bucket", "top_items"]
    list_filter = ["surface", "reason"]
    search_fields = ["=user_id"]
    ordering = ["-id"]
    show_full_result_count = False

    @admin.display(description=_("top items"))
    def top_items(self, row):
        return ", ".join(row.items[:5])
