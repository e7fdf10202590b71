"""The Celery app for the worker and beat processes: ``celery -A forum.celery_worker worker -B``.

It builds the Flask app from the same settings as the web processes (``FORUM_*``
environment, ``instance/config.py``), so tasks see the same database, broker and mail.
"""

from . import create_app

flask_app = create_app()
celery_app = flask_app.extensions["celery"]
