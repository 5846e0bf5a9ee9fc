"""A case's evidence graph: its orders and their media, calls and payments, rebuilt from the rows that exist."""

from __future__ import annotations

from django.db import transaction

from moderation import policies
from moderation.models import Case, LineageEdge
from samia import audit
from samia.marketplace import policies as marketplace_policies
from samia.marketplace.models import Call, MediaAsset, Order, Payment
from samia.rls.registry import Identity

# Plain strings, so that edges built here and edges read back compare (and hash) alike.
ORDER, MEDIA, CALL, PAYMENT = (str(node) for node in LineageEdge.NodeType)


def _orders_of(identity: Identity, case: Case) -> list[int]:
    """The case's order, and the orders of the case's media and call."""
    ids = {case.order_id}
    if case.media_id:
        media = marketplace_policies.MEDIA.scope(MediaAsset.objects.all(), identity)
        ids.add(media.filter(pk=case.media_id).values_list("order_id", flat=True).first())
    if case.call_id:
        calls = marketplace_policies.CALLS.scope(Call.objects.all(), identity)
        ids.add(calls.filter(pk=case.call_id).values_list("order_id", flat=True).first())
    orders = marketplace_policies.ORDERS.scope(Order.objects.all(), identity)
    return sorted(orders.filter(pk__in=[i for i in ids if i]).values_list("id", flat=True))


@transaction.atomic
def lineage_recompute(*, identity: Identity, case_id: int) -> list[dict]:
    """Rebuild a case's order -> media/call/payment edges from real rows; the same rows give the same edges."""
    case = policies.CASES.get(Case.objects.select_for_update(of=("self",)), identity, case_id, missing="No such case.")
    order_ids = _orders_of(identity, case)
    # Removed media stay: their rows keep sha256 and size as evidence (staff see them).
    media = {
        m.pk: m
        for m in marketplace_policies.MEDIA.scope(MediaAsset.objects.all(), identity).filter(order_id__in=order_ids)
    }
    calls = marketplace_policies.CALLS.scope(Call.objects.all(), identity).filter(order_id__in=order_ids)
    payments = marketplace_policies.PAYMENTS.scope(Payment.objects.all(), identity).filter(order_id__in=order_ids)
    wanted = {
        *((ORDER, m.order_id, MEDIA, m.pk) for m in media.values()),
        *((ORDER, order_id, CALL, pk) for pk, order_id in calls.values_list("id", "order_id")),
        *((ORDER, order_id, PAYMENT, pk) for pk, order_id in payments.values_list("id", "order_id")),
    }
    edges = policies.LINEAGE.scope(LineageEdge.objects.all(), identity).filter(case=case)
    existing = {(e.from_type, e.from_id, e.to_type, e.to_id): e.pk for e in edges}
    stale = [pk for key, pk in existing.items() if key not in wanted]
    edges.filter(pk__in=stale).delete()
    LineageEdge.objects.bulk_create(
        [
            LineageEdge(case=case, from_type=f, from_id=fi, to_type=t, to_id=ti)
            for f, fi, t, ti in wanted - existing.keys()
        ]
    )
    audit.record(
        action="moderation.lineage.recompute",
        actor=identity,
        target=case,
        details={
            "orders": order_ids,
            "edges": len(wanted),
            "added": len(wanted - existing.keys()),
            "removed": len(stale),
        },
    )
    answer = []
    for from_type, from_id, to_type, to_id in sorted(wanted):
        edge = {"from_type": from_type, "from_id": from_id, "to_type": to_type, "to_id": to_id}
        if to_type == MEDIA:
            asset = media[to_id]
            edge.update(sha256=asset.sha256, bytes=asset.bytes, removed=asset.removed_at is not None)
        answer.append(edge)
    return answer
