from django.db import migrations

# community.sql.COMMENT_GUARD as of this migration (copied, not imported).
COMMENT_GUARD = r"""
CREATE OR REPLACE FUNCTION samia.community_comment_guard() RETURNS trigger
  LANGUAGE plpgsql AS $$
BEGIN
  IF samia.actor_id() IS NULL THEN
    RETURN NEW;
  END IF;
  IF (NEW.id, NEW.order_id, NEW.author_id, NEW.author_role, NEW.body, NEW.body_sha256, NEW.created_at)
     IS DISTINCT FROM (OLD.id, OLD.order_id, OLD.author_id, OLD.author_role, OLD.body, OLD.body_sha256, OLD.created_at) THEN
    RAISE EXCEPTION 'a comment''s text, order and author are fixed; only its decision changes'
      USING ERRCODE = '42501';
  END IF;
  RETURN NEW;
END $$;

DROP TRIGGER IF EXISTS community_comment_guard ON public.community_comment;
CREATE TRIGGER community_comment_guard BEFORE UPDATE ON public.community_comment
  FOR EACH ROW EXECUTE FUNCTION samia.community_comment_guard();
"""


class Migration(migrations.Migration):
    dependencies = [("community", "0001_comments_reactions_flags")]

    operations = [
        migrations.RunSQL(
            COMMENT_GUARD,
            "DROP TRIGGER IF EXISTS community_comment_guard ON public.community_comment; "
            "DROP FUNCTION IF EXISTS samia.community_comment_guard();",
        )
    ]
