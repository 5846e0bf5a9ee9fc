from django.db import migrations

# Events are appended in time order, so a block range summary of occurred_at finds a few days' rows among
# months of them (the nightly rollup's fingerprints of its late window) at almost no cost to emit().
FORWARD = "CREATE INDEX IF NOT EXISTS events_raw_occurred_brin ON events_raw USING brin (occurred_at)"
BACKWARD = "DROP INDEX IF EXISTS events_raw_occurred_brin"


class Migration(migrations.Migration):
    dependencies = [("events", "0004_rls_policies")]
    operations = [migrations.RunSQL(FORWARD, BACKWARD)]
