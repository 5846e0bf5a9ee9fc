# SAMIA-TAROT backend image: gunicorn by default; docker-compose.yml runs migrate, Celery worker and beat from it.
FROM python:3.11-slim

ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1

WORKDIR /app

RUN useradd --system --uid 10001 --user-group --home-dir /app --no-create-home samia

COPY requirements.txt .
RUN pip install -r requirements.txt

COPY . .
# Static files are baked into the image (served by whitenoise); collectstatic needs settings but no
# database and no real keys (DEBUG=1 derives the other keys from this build-only one).
RUN DEBUG=1 SECRET_KEY=collectstatic-build-only-key python manage.py collectstatic --noinput --verbosity 0 \
    && mkdir -p var/private-media \
    && chown samia:samia var/private-media

# The code stays root-owned and read-only for the app; only private media is writable.
USER samia
EXPOSE 8000
CMD ["gunicorn", "samia.wsgi:application", "--bind", "0.0.0.0:8000", "--workers", "2", "--no-control-socket"]
