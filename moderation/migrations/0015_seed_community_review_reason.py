from django.db import migrations


def seed(apps, schema_editor):
    ReasonCode = apps.get_model("moderation", "ReasonCode")
    ReasonCode.objects.get_or_create(
        code="community_review", defaults={"label": "Community comment to review", "severity": "low"}
    )


def unseed(apps, schema_editor):
    apps.get_model("moderation", "ReasonCode").objects.filter(code="community_review").delete()


class Migration(migrations.Migration):
    dependencies = [("moderation", "0014_case_source_community_and_comment_actions")]
    operations = [migrations.RunPython(seed, unseed)]
