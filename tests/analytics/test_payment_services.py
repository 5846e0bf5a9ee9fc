"""The payment services that feed the payments KPIs: wrong states are refused, changes audited."""

from decimal import Decimal

import pytest

from samia.rls.registry import Identity

pytestmark = pytest.mark.django_db


def test_payment_services_refuse_wrong_states_and_audit_changes(personas):
    from samia.audit.models import AuditEntry
    from samia.exceptions import Conflict
    from samia.marketplace import payments
    from tests import factories

    admin = Identity(personas["admin"].pk, "admin")
    order = factories.OrderFactory()
    payment = payments.payment_attempt_record(
        identity=admin, order_id=order.pk, provider="stripe", country="SA", amount=Decimal("5"), currency="USD"
    )
    payments.payment_succeed(identity=admin, payment_id=payment.pk)

    with pytest.raises(Conflict):
        payments.payment_fail(identity=admin, payment_id=payment.pk)
    with pytest.raises(Conflict):
        payments.payment_fallback(identity=admin, payment_id=payment.pk, provider="square")

    payment.refresh_from_db()
    assert payment.status == "succeeded"
    actions = list(AuditEntry.objects.filter(target_id=str(payment.pk)).order_by("id").values_list("action", flat=True))
    assert actions == ["payment.attempt", "payment.succeed"]
