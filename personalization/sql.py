"""The nightly job's set-based SQL, as named statements.

These read other apps' tables directly (the kernel's and the notifications app's), never their
Python code: marketplace_order, marketplace_service, accounts_user, events_raw,
notifications_send, notifications_devicetoken, notifications_campaign, notifications_audience.
Days are business days in ANALYTICS_TIMEZONE (%(tz)s).
"""

# ---------------------------------------------------------------------------------------------
# Opt-out: the latest preference row of each user.

OPTED_OUT_USERS = """
    SELECT p.user_id FROM (
        SELECT DISTINCT ON (user_id) user_id, opted_out
        FROM personalization_preference
        ORDER BY user_id, recorded_at DESC, id DESC
    ) p
    WHERE p.opted_out
"""

# ---------------------------------------------------------------------------------------------
# Interactions: delivered orders (client -> service, reader) and notification opens and clicks
# (joined to notifications_send for the user), counted per (user, item, day). Opted-out users'
# rows are dropped by leaving them out of the rebuild.

INTERACTIONS_CLEAR = "DELETE FROM personalization_interaction"

INTERACTIONS_FILL = f"""
    INSERT INTO personalization_interaction (user_id, item, day, count)
    SELECT i.user_id, i.item, i.day, count(*)::int
    FROM (
        SELECT o.client_id AS user_id, 'service:' || s.code AS item,
               (o.delivered_at AT TIME ZONE %(tz)s)::date AS day
        FROM marketplace_order o JOIN marketplace_service s ON s.id = o.service_id
        WHERE o.delivered_at >= %(since)s
        UNION ALL
        SELECT o.client_id, 'reader:' || o.reader_id, (o.delivered_at AT TIME ZONE %(tz)s)::date
        FROM marketplace_order o
        WHERE o.delivered_at >= %(since)s AND o.reader_id IS NOT NULL
        UNION ALL
        SELECT n.user_id, 'campaign:' || n.campaign_id, (e.occurred_at AT TIME ZONE %(tz)s)::date
        FROM events_raw e JOIN notifications_send n ON n.id = e.subject_id
        WHERE e.name IN ('notification.opened', 'notification.clicked')
          AND e.subject_type = 'notifications.send'
          AND e.occurred_at >= %(since)s
          AND n.campaign_id IS NOT NULL
    ) i
    WHERE i.user_id NOT IN ({OPTED_OUT_USERS})
    GROUP BY i.user_id, i.item, i.day
"""

INTERACTIONS_READ = "SELECT user_id, item, day, count FROM personalization_interaction ORDER BY user_id, item, day"

# ---------------------------------------------------------------------------------------------
# Cohorts: time zone, country, language and platform. The platform is the user's newest active
# DeviceToken's, else that of their latest app.session (ios -> apns; android, web -> fcm), else none.

COHORTS_CLEAR = "DELETE FROM personalization_user_cohort"

COHORTS_FILL = """
    INSERT INTO personalization_user_cohort (user_id, cohort, country)
    SELECT u.id,
           u.timezone || '|' || u.country || '|' || u.language || '|' || coalesce(
               d.platform,
               CASE s.platform WHEN 'ios' THEN 'apns' WHEN 'android' THEN 'fcm' WHEN 'web' THEN 'fcm' END,
               'none'),
           u.country
    FROM accounts_user u
    LEFT JOIN (
        SELECT DISTINCT ON (t.user_id) t.user_id, t.platform
        FROM notifications_devicetoken t WHERE t.active
        ORDER BY t.user_id, t.registered_at DESC, t.id DESC
    ) d ON d.user_id = u.id
    LEFT JOIN (
        SELECT DISTINCT ON (e.actor_id) e.actor_id, e.properties ->> 'platform' AS platform
        FROM events_raw e
        WHERE e.name = 'app.session' AND e.actor_id IS NOT NULL AND e.occurred_at >= %(since)s
        ORDER BY e.actor_id, e.occurred_at DESC, e.id DESC
    ) s ON s.actor_id = u.id
    WHERE u.is_active
"""

# ---------------------------------------------------------------------------------------------
# Popularity: distinct users per item in each scope (everyone, a country, a cohort), and per scope
# one row with item '' that holds how many users of the scope have any interaction.

POPULARITY_CLEAR = "DELETE FROM personalization_popularity"

POPULARITY_FILL = """
    INSERT INTO personalization_popularity (scope, item, users)
    SELECT x.scope, coalesce(x.item, ''), count(DISTINCT x.user_id)::int
    FROM (
        SELECT 'all' AS scope, i.item, i.user_id FROM personalization_interaction i
        UNION ALL
        SELECT 'country:' || c.country, i.item, i.user_id
        FROM personalization_interaction i JOIN personalization_user_cohort c ON c.user_id = i.user_id
        UNION ALL
        SELECT 'cohort:' || c.cohort, i.item, i.user_id
        FROM personalization_interaction i JOIN personalization_user_cohort c ON c.user_id = i.user_id
    ) x
    GROUP BY GROUPING SETS ((x.scope, x.item), (x.scope))
"""

# ---------------------------------------------------------------------------------------------
# Candidates of the notification_candidates surface: draft or scheduled campaigns whose audience
# includes the user (roles, countries, languages and segment, as notifications/targeting.py reads them).

CAMPAIGN_CANDIDATES = """
    SELECT c.id
    FROM notifications_campaign c
    JOIN notifications_audience a ON a.id = c.audience_id
    JOIN accounts_user u ON u.id = %(user_id)s
    WHERE c.status IN ('draft', 'scheduled')
      AND u.role = ANY(coalesce(nullif(ARRAY(SELECT jsonb_array_elements_text(a.roles)), '{}'),
                                ARRAY['client', 'reader']))
      AND (jsonb_array_length(a.countries) = 0 OR a.countries ? u.country)
      AND (jsonb_array_length(a.languages) = 0 OR a.languages ? u.language)
      AND CASE a.segment
          WHEN 'everyone' THEN true
          WHEN 'listened_7d' THEN EXISTS (
              SELECT 1 FROM events_raw e WHERE e.name = 'horoscope.listened' AND e.actor_id = u.id
              AND e.occurred_at >= %(now)s - interval '7 days')
          WHEN 'active_30d' THEN EXISTS (
              SELECT 1 FROM events_raw e WHERE e.name = 'app.session' AND e.actor_id = u.id
              AND e.occurred_at >= %(now)s - interval '30 days')
          WHEN 'dormant_30d' THEN NOT EXISTS (
              SELECT 1 FROM events_raw e WHERE e.name = 'app.session' AND e.actor_id = u.id
              AND e.occurred_at >= %(now)s - interval '30 days')
          WHEN 'ordered_90d' THEN EXISTS (
              SELECT 1 FROM marketplace_order o WHERE o.client_id = u.id
              AND o.created_at >= %(now)s - interval '90 days')
          ELSE false
      END
    ORDER BY c.id
"""

# ---------------------------------------------------------------------------------------------
# Daily metrics per (day, experiment, variant, reader) for days first..last. A user counts for the
# variant they were first exposed to in an experiment, from the day of that exposure on. Rows with
# reader_id NULL are the variant's totals; a reader's rows count the orders delivered by them and
# the exposed users whose ranking of that day showed them.

DAILY_METRICS_CLEAR = "DELETE FROM personalization_daily_metrics WHERE day BETWEEN %(first)s AND %(last)s"

DAILY_METRICS_FILL = """
    WITH exposed AS (
        SELECT DISTINCT ON (experiment_id, user_id) experiment_id, user_id, variant, day AS first_day
        FROM personalization_exposure
        WHERE day <= %(last)s
        ORDER BY experiment_id, user_id, day, id
    ),
    orders AS (
        SELECT (o.delivered_at AT TIME ZONE %(tz)s)::date AS day, o.client_id AS user_id, o.reader_id
        FROM marketplace_order o
        WHERE o.delivered_at >= %(start)s AND o.delivered_at < %(end)s
    ),
    listens AS (
        SELECT l.day, l.actor_id AS user_id
        FROM (
            SELECT (e.occurred_at AT TIME ZONE %(tz)s)::date AS day, e.actor_id, e.subject_id,
                   max((e.properties ->> 'percent')::int) AS percent
            FROM events_raw e
            WHERE e.name = 'horoscope.listened' AND e.actor_id IS NOT NULL
              AND e.occurred_at >= %(start)s AND e.occurred_at < %(end)s
            GROUP BY 1, 2, 3
        ) l
        WHERE l.percent >= %(through)s
    ),
    clicks AS (
        SELECT (e.occurred_at AT TIME ZONE %(tz)s)::date AS day, n.user_id
        FROM events_raw e JOIN notifications_send n ON n.id = e.subject_id
        WHERE e.name = 'notification.clicked' AND e.subject_type = 'notifications.send'
          AND e.occurred_at >= %(start)s AND e.occurred_at < %(end)s
    ),
    facts AS (
        SELECT x.day, x.experiment_id, x.variant, NULL::bigint AS reader_id,
               1 AS exposures, 0 AS orders, 0 AS listens, 0 AS clicks
        FROM personalization_exposure x WHERE x.day BETWEEN %(first)s AND %(last)s
        UNION ALL
        SELECT x.day, x.experiment_id, x.variant, substr(shown.item, 8)::bigint, 1, 0, 0, 0
        FROM personalization_exposure x
        JOIN LATERAL (
            SELECT DISTINCT item FROM personalization_ranking_log r, unnest(r.items) AS item
            WHERE r.user_id = x.user_id AND r.experiment_id = x.experiment_id
              AND r.created_at >= %(start)s AND r.created_at < %(end)s
              AND (r.created_at AT TIME ZONE %(tz)s)::date = x.day
              AND item LIKE 'reader:%%'
        ) shown ON true
        WHERE x.day BETWEEN %(first)s AND %(last)s
        UNION ALL
        SELECT o.day, e.experiment_id, e.variant, r.reader_id, 0, 1, 0, 0
        FROM orders o JOIN exposed e ON e.user_id = o.user_id AND e.first_day <= o.day
        CROSS JOIN LATERAL (VALUES (NULL::bigint, true), (o.reader_id, false)) r (reader_id, total)
        WHERE r.total OR r.reader_id IS NOT NULL
        UNION ALL
        SELECT l.day, e.experiment_id, e.variant, NULL, 0, 0, 1, 0
        FROM listens l JOIN exposed e ON e.user_id = l.user_id AND e.first_day <= l.day
        UNION ALL
        SELECT c.day, e.experiment_id, e.variant, NULL, 0, 0, 0, 1
        FROM clicks c JOIN exposed e ON e.user_id = c.user_id AND e.first_day <= c.day
    )
    INSERT INTO personalization_daily_metrics
        (day, experiment_id, variant, reader_id, exposures, orders, listen_throughs, notification_clicks)
    SELECT day, experiment_id, variant, reader_id, sum(exposures), sum(orders), sum(listens), sum(clicks)
    FROM facts
    WHERE day BETWEEN %(first)s AND %(last)s
    GROUP BY day, experiment_id, variant, reader_id
"""

RANKING_LOG_PURGE = "DELETE FROM personalization_ranking_log WHERE created_at < %(before)s"

# ---------------------------------------------------------------------------------------------
# Everything a ranking needs to know besides the model, in one round trip: the user's country,
# latest preference and cohort, the surface's active experiment, and the newest model's id.

RANKING_CONTEXT = """
    SELECT u.country, coalesce(pref.opted_out, false), coh.cohort, x.id, x.salt, x.variants, m.id, m.version
    FROM accounts_user u
    LEFT JOIN LATERAL (
        SELECT p.opted_out FROM personalization_preference p
        WHERE p.user_id = u.id ORDER BY p.recorded_at DESC, p.id DESC LIMIT 1
    ) pref ON true
    LEFT JOIN personalization_user_cohort coh ON coh.user_id = u.id
    LEFT JOIN personalization_experiment x ON x.surface = %(surface)s AND x.active
    LEFT JOIN LATERAL (
        SELECT t.id, t.version FROM personalization_model t
        WHERE t.kind = %(kind)s ORDER BY t.trained_at DESC, t.id DESC LIMIT 1
    ) m ON true
    WHERE u.id = %(user_id)s
"""
