"""Pointing the Celery app at another broker for a while (tests only)."""

from contextlib import contextmanager

from kombu import pools as kombu_pools

from birthdaybuddy.celery import app as celery_app


def _switch_broker(url: str, options: dict, transport: str | None = None) -> None:
    """Points the Celery app's producers at another broker (pools are rebuilt on next use)."""
    celery_app.conf.broker_url = url
    celery_app.conf.broker_transport_options = options
    # The embedded default names its transport class separately from the URL; another URL
    # must not be read through it.
    celery_app.conf.broker_transport = transport
    kombu_pools.reset()  # closes every pooled connection and forgets the pools
    celery_app._pool = None
    amqp = celery_app.__dict__.get("amqp")
    if amqp is not None:
        amqp._producer_pool = None


@contextmanager
def celery_broker(url: str, options: dict | None = None):
    saved = (
        celery_app.conf.broker_url,
        dict(celery_app.conf.broker_transport_options or {}),
        celery_app.conf.broker_transport,
    )
    _switch_broker(url, options or {})
    try:
        yield celery_app
    finally:
        _switch_broker(*saved)
