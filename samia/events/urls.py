from django.urls import path

from samia.events import apis

urlpatterns = [
    path("me/sessions", apis.SessionStartView.as_view(), name="events-sessions"),
    path("horoscopes/<int:horoscope_id>/listen", apis.HoroscopeListenView.as_view(), name="events-listen"),
]
