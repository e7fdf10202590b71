"""A campaign to 10,000 and to 100,000 members delivered to a local aiosmtpd sink.

The worker is a process of its own (``python -m tests.bench.bench_campaigns worker``)
running the campaign's plan task with tasks eager (each page's batch runs in it), so
its peak RSS is the worker's; the sink counts messages in this process. Prints
messages per second and the worker's peak memory for each size, and its peak once the
first batch is done (imports, caches, one batch of letters): the plan streams the
segment in keyset pages and each batch holds one page, so what the later batches add
to that is what would grow with the audience, read in one run, without the noise of
comparing two processes on a loaded machine.

``BENCH_CAMPAIGN_SIZES=10000,100000`` (default) and ``BENCH_DATABASE_URL`` (a fresh
SQLite file by default; PostgreSQL must be an empty database).
"""

import json
import os
import resource
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


class CountingSink:
    def __init__(self):
        self.count = 0
        self.lock = threading.Lock()

    async def handle_DATA(self, server, session, envelope):
        with self.lock:
            self.count += 1
        return "250 OK"


def config(uri: str, port: int | None = None) -> dict:
    settings = {
        "ENV": "testing",
        "SECRET_KEY": "bench",
        "SQLALCHEMY_DATABASE_URI": uri,
        "RATELIMIT_ENABLED": False,
        "TASKS_EAGER": True,
        "CAMPAIGN_BATCH_SIZE": 1000,
        "CAMPAIGN_FREQUENCY_CAP_PER_WEEK": 1000,
        "SERVER_NAME": "plaza.bench",
    }
    if port:
        settings.update(MAIL_SERVER="127.0.0.1", MAIL_PORT=port)
    return settings


def prepare(uri: str, size: int) -> int:
    """The schema, ``size`` verified members and a campaign in ``sending``; its id."""
    from sqlalchemy import insert, select

    from forum import create_app
    from forum.accounts.models import User
    from forum.campaigns.models import Campaign, ContactSettings, Segment
    from forum.clock import now
    from forum.extensions import db

    app = create_app(config(uri))
    at = now()
    with app.app_context():
        db.create_all()
        for start in range(0, size, 10_000):
            db.session.execute(
                insert(User),
                [
                    {
                        "username": f"m{i:06d}",
                        "username_key": f"m{i:06d}",
                        "email": f"m{i:06d}@example.com",
                        "password_hash": "x",
                        "role": "member",
                        "tier": "registered",
                        "bio": "",
                        "timezone": "UTC",
                        "post_count": 0,
                        "session_version": 1,
                        "created_at": at,
                    }
                    for i in range(start, min(size, start + 10_000))
                ],
            )
        ids = db.session.scalars(select(User.id)).all()
        for start in range(0, len(ids), 10_000):
            db.session.execute(
                insert(ContactSettings),
                [
                    {
                        "user_id": i,
                        "email_verified_at": at,
                        "marketing_sms": False,
                        "track_opens": False,
                        "notification_prefs": {},
                        "digest": "off",
                        "updated_at": at,
                    }
                    for i in ids[start : start + 10_000]
                ],
            )
        segment = Segment(
            name="all verified",
            rule={"all": [{"field": "email_verified", "op": "eq", "value": True}]},
        )
        db.session.add(segment)
        db.session.flush()
        campaign = Campaign(
            name="bench",
            channel="email",
            segment_id=segment.id,
            subject="Hello {{name}}",
            body="Hi **{{name}}**, you are {{tier}}. [Visit us](/)",
            status="sending",
            started_at=at,
        )
        db.session.add(campaign)
        db.session.commit()
        campaign_id = campaign.id
        db.engine.dispose()
    return campaign_id


def worker(uri: str, campaign_id: int, port: int) -> None:
    from celery.signals import task_postrun

    from forum import create_app
    from forum.campaigns.tasks import plan_campaign

    app = create_app(config(uri, port))
    first: list[int] = []

    def after_batch(sender=None, **_):
        # The peak once the first batch is done (imports, caches, the first letters):
        # what the remaining batches add to it is what grows with the audience.
        if sender is not None and sender.name == "campaigns.send_batch" and not first:
            first.append(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss)

    task_postrun.connect(after_batch, weak=False)
    started = time.perf_counter()
    with app.app_context():
        plan_campaign.apply(args=(campaign_id,)).get()
    elapsed = time.perf_counter() - started
    peak_kb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    print(json.dumps({"seconds": elapsed, "peak_kb": peak_kb, "first_batch_kb": first[0]}))


def run(size: int) -> dict:
    from aiosmtpd.controller import Controller

    uri = os.environ.get("BENCH_DATABASE_URL") or (
        f"sqlite:///{Path(tempfile.mkdtemp(prefix='plaza-bench-camp-')) / 'bench.sqlite3'}"
    )
    campaign_id = prepare(uri, size)
    sink = CountingSink()
    from tests.e2e.conftest import free_port

    controller = Controller(sink, hostname="127.0.0.1", port=free_port())
    controller.start()
    try:
        out = subprocess.run(
            [sys.executable, "-m", "tests.bench.bench_campaigns", "worker", uri, str(campaign_id),
             str(controller.port)],
            cwd=ROOT, env={**os.environ, "PYTHONPATH": str(ROOT)}, capture_output=True, text=True,
            check=True,
        )  # fmt: skip
    finally:
        time.sleep(0.5)
        controller.stop()
    figures = json.loads(out.stdout.strip().splitlines()[-1])
    figures.update(size=size, delivered=sink.count)
    return figures


def main() -> None:
    sizes = [int(s) for s in os.environ.get("BENCH_CAMPAIGN_SIZES", "10000,100000").split(",")]
    print(
        f"{'members':>9} {'delivered':>10} {'seconds':>8} {'msgs/s':>8} {'worker peak MB':>15} "
        f"{'after 1st batch MB':>19}"
    )
    for size in sizes:
        f = run(size)
        print(
            f"{f['size']:>9,} {f['delivered']:>10,} {f['seconds']:>8.1f} "
            f"{f['delivered'] / f['seconds']:>8.0f} {f['peak_kb'] / 1024:>15.1f} "
            f"{f['first_batch_kb'] / 1024:>19.1f}",
            flush=True,
        )


if __name__ == "__main__":
    if len(sys.argv) >= 5 and sys.argv[1] == "worker":
        worker(sys.argv[2], int(sys.argv[3]), int(sys.argv[4]))
    else:
        main()
