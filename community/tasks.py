"""Community tasks: thin, idempotent, run as the owner role."""

from celery import shared_task


@shared_task(name="community.file_cases")
def file_cases() -> dict:
    """File new comments and flags on their moderation cases."""
    from community import jobs

    return jobs.cases_file()
