from django.db import migrations

# The nightly rollup fingerprints each day of its late window by the count and the ids of its events
# (analytics.rollups.FINGERPRINT_DAY_SQL). This index answers that from the index alone: 0.08-0.12 s for
# 4 days of 166k events each, against 0.6 s reading the rows. Events arrive in time order, so each emit()
# adds its entry at the right edge of the index.
FORWARD = "CREATE INDEX IF NOT EXISTS events_raw_occurred_id_idx ON events_raw (occurred_at, id)"
BACKWARD = "DROP INDEX IF EXISTS events_raw_occurred_id_idx"


class Migration(migrations.Migration):
    dependencies = [("events", "0004_rls_policies")]
    operations = [migrations.RunSQL(FORWARD, BACKWARD)]
