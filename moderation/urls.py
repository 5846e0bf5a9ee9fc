from django.urls import path

from moderation import apis

urlpatterns = [
    path("monitor/block-user", apis.BlockUserView.as_view(), name="moderation-block-user"),
    path("monitor/unblock-user", apis.UnblockUserView.as_view(), name="moderation-unblock-user"),
    path("monitor/moderate/order/<int:order_id>", apis.ModerateOrderView.as_view(), name="moderation-order"),
    path("monitor/cases", apis.CaseQueueView.as_view(), name="moderation-cases"),
    path("monitor/appeals/<int:action_id>/open", apis.AppealOpenView.as_view(), name="moderation-appeal-open"),
    path("monitor/lineage/recompute", apis.LineageRecomputeView.as_view(), name="moderation-lineage-recompute"),
    path("monitor/appeals/<int:appeal_id>/resolve", apis.AppealResolveView.as_view(), name="moderation-appeal-resolve"),
    path("monitor/appeals/<int:appeal_id>", apis.AppealView.as_view(), name="moderation-appeal"),
    path("monitor/moderate/call/<int:call_id>", apis.ModerateCallView.as_view(), name="moderation-call"),
    # A blocked user has no token: they appeal with their credentials (the route lives here, not in accounts).
    path("auth/appeal", apis.AuthAppealView.as_view(), name="auth-appeal"),
]
