"""Async prediction on Celery with Redis: the task records, the web side's queue and the worker.

``records`` keeps each task's metadata (owner, status, progress), its uploaded images and the
readings done so far in Redis; ``celery_app`` configures Celery (Redis as broker and result
backend, late acknowledgement); ``queue`` is what the web routes use; ``reader`` reads one task
in the worker and ``worker`` is the Celery worker's entry point (``./scripts/worker.sh``).
"""
