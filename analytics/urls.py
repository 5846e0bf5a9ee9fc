from django.urls import path

from analytics import apis

urlpatterns = [
    path("metrics/overview", apis.OverviewView.as_view(), name="metrics-overview"),
    path("metrics/engagement", apis.EngagementMetricsView.as_view(), name="metrics-engagement"),
    *[
        path(f"metrics/{family}", view.as_view(), name=f"metrics-{family}")
        for family, view in apis.FAMILY_VIEWS.items()
    ],
]
