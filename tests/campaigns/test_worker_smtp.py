"""A real Celery worker process on Redis and a real SMTP server (aiosmtpd) on loopback:
a campaign to a segment of 500 with a 10% holdout reaches exactly the 450 others, once
each, with valid one-click List-Unsubscribe headers. The test process only enqueues
(``send_now`` queues the plan after commit); the worker plans, queues the batches
through Redis and sends them."""

import time

import pytest
from sqlalchemy import func, insert, select

from forum.accounts.models import User
from forum.campaigns import service
from forum.campaigns.models import Campaign, ContactSettings, Delivery
from forum.clock import now
from forum.extensions import db
from tests.fixtures.celery_worker import celery_config

pytestmark = [
    pytest.mark.redis,
    pytest.mark.multiprocess,
    pytest.mark.xdist_group("celery-worker"),
]
AUDIENCE = 500


@pytest.fixture
def config_overrides(broker, smtp_sink):
    return celery_config(broker, smtp_sink[1], CAMPAIGN_BATCH_SIZE=100)


def audience(app, count: int) -> None:
    """``count`` members with verified addresses, written in bulk."""
    at = now()
    with app.app_context():
        db.session.execute(
            insert(User),
            [
                {
                    "username": f"reader{i:04d}",
                    "username_key": f"reader{i:04d}",
                    "email": f"reader{i:04d}@example.com",
                    "password_hash": "x",
                    "role": "member",
                    "tier": "registered",
                    "bio": "",
                    "timezone": "UTC",
                    "post_count": 0,
                    "session_version": 1,
                    "created_at": at,
                }
                for i in range(count)
            ],
        )
        ids = db.session.scalars(select(User.id).where(User.username.like("reader%"))).all()
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
                for i in ids
            ],
        )
        db.session.commit()


def test_a_worker_sends_a_campaign_to_450_of_500_once_each(app, make_user, worker, smtp_sink):
    process, log_path = worker
    sink, _port = smtp_sink
    admin = make_user("boss", role="admin")
    audience(app, AUDIENCE)
    with app.app_context(), app.test_request_context("/"):
        actor = db.session.get(User, admin.id)
        segment = service.create_segment(
            actor, "verified", {"all": [{"field": "email_verified", "op": "eq", "value": True}]}
        )
        assert service.count(segment.rule) == AUDIENCE
        campaign = service.create_campaign(
            actor,
            name="Five hundred",
            channel="email",
            segment_id=segment.id,
            subject="Hello {{name}}",
            body="Hi {{name}}!",
            holdout_bp=1000,
        )
        db.session.commit()
        service.send_now(actor, campaign)
        db.session.commit()  # the plan task leaves for Redis now
        campaign_id = campaign.id
    deadline = time.monotonic() + 120
    status = None
    while time.monotonic() < deadline:
        with app.app_context():
            status = db.session.get(Campaign, campaign_id).status
        if status == "sent" and len(sink.messages) >= 450:
            break
        time.sleep(0.5)
    try:
        assert status == "sent", status
        time.sleep(1)  # nothing more should arrive
        assert len(sink.messages) == 450
    except AssertionError:
        print(log_path.read_text(errors="replace")[-4000:])
        raise
    assert process.poll() is None
    recipients = [m["To"] for m in sink.messages]
    assert len(set(recipients)) == 450
    with app.app_context(), app.test_request_context("/"):
        held = set(
            db.session.scalars(
                select(User.email)
                .join(Delivery, Delivery.user_id == User.id)
                .where(Delivery.campaign_id == campaign_id, Delivery.status == "holdout")
            )
        )
        assert len(held) == 50 and not held & set(recipients)
        by_email = dict(db.session.execute(select(User.email, User.id)).all())
        for message in sink.messages:
            header = "".join(message["List-Unsubscribe"].split())  # unfolded (RFC 5322)
            assert header.startswith("<http://localhost/api/v1/unsubscribe/") and header.endswith(
                ">"
            )
            user_id, scope, cid = service.read_unsubscribe(header[1:-1].rsplit("/", 1)[1])
            assert (user_id, scope, cid) == (
                by_email[message["To"]],
                "marketing_email",
                campaign_id,
            )
            assert message["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
        sent = db.session.scalar(
            select(func.count()).where(
                Delivery.campaign_id == campaign_id, Delivery.status == "sent"
            )
        )
        assert sent == 450
