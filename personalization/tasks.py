from celery import shared_task

from personalization.nightly import run_nightly


@shared_task(name="personalization.train_nightly")
def train_nightly() -> dict:
    """Rebuild inputs, evaluate and train the models, fill the daily metrics and purge the log (idempotent)."""
    return run_nightly()
