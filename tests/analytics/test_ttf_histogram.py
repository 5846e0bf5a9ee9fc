"""Long-range TTF percentiles from the bucketed histogram: within 2% of the exact values, and
only where the histogram can answer (admins, not split by reader)."""

import pytest

from analytics.models import DailyTtfHistogram
from analytics.rollups import rollup_days
from tests.analytics.test_m23_analytics import D1, D2, _fulfillment, _late_creation_of_106, _orders

pytestmark = pytest.mark.django_db

TTF = ("ttf_response_p50_seconds", "ttf_response_p90_seconds", "ttf_delivery_p50_seconds", "ttf_delivery_p90_seconds")


@pytest.fixture
def rolled_up(personas):
    _orders(personas["reader"].pk, personas["other_reader"].pk)
    _late_creation_of_106()
    rollup_days(first=D1, last=D2)


def _close(approximate: float, exact: float) -> bool:
    return abs(approximate - exact) <= 0.02 * exact


@pytest.mark.parametrize("group_by", [None, "service", "day"])
def test_the_histogram_gives_the_exact_percentiles_within_two_percent(rolled_up, personas, settings, group_by):
    admin = personas["admin"]
    query = {"group_by": group_by} if group_by else {}
    exact = _fulfillment(admin, **query)

    settings.ANALYTICS_EXACT_PERCENTILE_LIMIT = 0  # every query is "large": read the histogram
    approximate = _fulfillment(admin, **query)

    assert len(approximate) == len(exact)
    for near, right in zip(approximate, exact, strict=True):
        for column in TTF:
            if right[column] is None:
                assert near[column] is None
            else:
                assert _close(near[column], right[column]), (group_by, column, near[column], right[column])
        # Everything else is the same exact arithmetic.
        assert {k: v for k, v in near.items() if k not in TTF} == {k: v for k, v in right.items() if k not in TTF}


def test_readers_and_reader_splits_stay_exact(rolled_up, personas, settings):
    settings.ANALYTICS_EXACT_PERCENTILE_LIMIT = 0

    [mine] = _fulfillment(personas["reader"])
    by_reader = {row["reader"]: row for row in _fulfillment(personas["admin"], group_by="reader")}

    assert (mine["ttf_response_p50_seconds"], mine["ttf_response_p90_seconds"]) == (600, 1080)
    assert by_reader[personas["reader"].pk]["ttf_response_p90_seconds"] == 1080


def test_the_histogram_is_rebuilt_idempotently_and_only_admins_read_it(rolled_up, personas):
    rows = sorted(DailyTtfHistogram.objects.values_list("day", "service", "kind", "bucket", "count"))
    rollup_days(first=D1, last=D2)

    assert sorted(DailyTtfHistogram.objects.values_list("day", "service", "kind", "bucket", "count")) == rows
    # 1200 s lands in bucket 64 + floor(ln(1200/64) / ln(1.02)) = 212.
    assert (D1, "tarot", "response", 212, 1) in rows
    assert sum(r[4] for r in rows if r[2] == "response") == 5  # [300, 600, 1200, 1800, 2400]
    from samia.rls.registry import Identity
    from tests.conftest import rows_as

    assert rows_as(Identity(personas["reader"].pk, "reader"), "SELECT * FROM metrics_daily_ttf_histogram") == []
    assert len(rows_as(Identity(personas["admin"].pk, "admin"), "SELECT * FROM metrics_daily_ttf_histogram")) == len(
        rows
    )


def test_bucket_bounds_hold_two_percent():
    from analytics.selectors import _bucket_value

    for bucket in (64, 100, 212, 500, 800):
        low, high = _bucket_value(bucket, 0.0), _bucket_value(bucket, 1.0)
        assert high / low == pytest.approx(1.02)
    assert _bucket_value(17, 0.7) == 17.0  # one-second buckets are exact
