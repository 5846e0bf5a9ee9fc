from django.urls import path

from notifications import apis

urlpatterns = [
    path("me/notifications", apis.MyNotificationsView.as_view(), name="notifications-mine"),
    path("me/notifications/consents", apis.MyConsentsView.as_view(), name="notifications-consents"),
    path("me/notifications/opt-in", apis.OptInView.as_view(), name="notifications-opt-in"),
    path("me/notifications/opt-out", apis.OptOutView.as_view(), name="notifications-opt-out"),
    path("me/devices", apis.MyDevicesView.as_view(), name="notifications-devices"),
    path("me/devices/<int:device_id>", apis.MyDeviceView.as_view(), name="notifications-device"),
    path("admin/campaigns", apis.CampaignsView.as_view(), name="notifications-campaigns"),
    path("admin/campaigns/<int:campaign_id>", apis.CampaignView.as_view(), name="notifications-campaign"),
    path(
        "admin/campaigns/<int:campaign_id>/schedule",
        apis.CampaignScheduleView.as_view(),
        name="notifications-campaign-schedule",
    ),
    path(
        "admin/campaigns/<int:campaign_id>/pause", apis.CampaignPauseView.as_view(), name="notifications-campaign-pause"
    ),
    path(
        "admin/campaigns/<int:campaign_id>/resume",
        apis.CampaignResumeView.as_view(),
        name="notifications-campaign-resume",
    ),
    path(
        "admin/campaigns/<int:campaign_id>/stats", apis.CampaignStatsView.as_view(), name="notifications-campaign-stats"
    ),
    path(
        "admin/campaigns/<int:campaign_id>/preview",
        apis.CampaignPreviewView.as_view(),
        name="notifications-campaign-preview",
    ),
    path("admin/suppressions", apis.SuppressionsView.as_view(), name="notifications-suppressions"),
    path(
        "admin/suppressions/<int:suppression_id>/lift",
        apis.SuppressionLiftView.as_view(),
        name="notifications-suppression-lift",
    ),
    path("admin/notifications", apis.NotifyView.as_view(), name="notifications-notify"),
    path("webhooks/twilio/status", apis.TwilioStatusView.as_view(), name="notifications-twilio-status"),
    path("webhooks/twilio/inbound", apis.TwilioInboundView.as_view(), name="notifications-twilio-inbound"),
    path("t/open/<str:token>", apis.TrackingView.as_view(), name="notifications-track-open"),
    path("t/click/<str:token>", apis.ClickView.as_view(), name="notifications-track-click"),
]
