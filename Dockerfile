# BirthdayBuddy image: web (gunicorn), Celery worker and beat all run from it (see docker-compose.yml).
FROM python:3.11-slim

ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1

# Time zones come from the pinned tzdata package, never the base image's files (birthdaybuddy/tzdb.py).
ENV PYTHONTZPATH=""

WORKDIR /app

RUN groupadd --system --gid 10001 app \
    && useradd --system --uid 10001 --gid app --home-dir /app --no-create-home --shell /usr/sbin/nologin app \
    && chown app:app /app

# Dependencies first, so code changes do not reinstall them.
COPY requirements.txt .
RUN pip install -r requirements.txt

COPY --chown=app:app . .

USER app

# Static files are served by WhiteNoise from the image. The key exists only for this build
# step (settings refuse to start without one in production); the real one comes at run time.
RUN SECRET_KEY=collectstatic-build-only-not-a-secret DATABASE_URL= python manage.py collectstatic --noinput --verbosity 0

EXPOSE 8000

CMD ["gunicorn", "birthdaybuddy.wsgi", "--config=python:birthdaybuddy.gunicorn_conf", "--bind=0.0.0.0:8000", "--workers=4", "--threads=2", "--worker-class=gthread", "--access-logfile=-"]
