from django.urls import path

from personalization import apis

urlpatterns = [
    path("me/personalization", apis.MyPersonalizationView.as_view(), name="personalization-mine"),
    path("me/personalization/opt-out", apis.OptOutView.as_view(), name="personalization-opt-out"),
    path("me/personalization/opt-in", apis.OptInView.as_view(), name="personalization-opt-in"),
    path("personalization/recommend", apis.RecommendView.as_view(), name="personalization-recommend"),
    path("personalization/metrics", apis.MetricsView.as_view(), name="personalization-metrics"),
]
