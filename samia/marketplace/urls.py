from django.urls import path

from samia.marketplace import apis

urlpatterns = [
    path("orders", apis.OrderListView.as_view(), name="order-list"),
    path("orders/<int:order_id>", apis.OrderDetailView.as_view(), name="order-detail"),
    *[
        path(f"orders/<int:order_id>/{action}", view.as_view(), name=f"order-{action}")
        for action, view in apis.ORDER_TRANSITION_VIEWS.items()
    ],
    path("calls", apis.CallListView.as_view(), name="call-list"),
    path("payments", apis.PaymentListView.as_view(), name="payment-list"),
    path("horoscopes/daily", apis.HoroscopeDailyView.as_view(), name="horoscope-daily"),
    path("admin/horoscopes/<int:horoscope_id>/approve", apis.HoroscopeApproveView.as_view(), name="horoscope-approve"),
]
