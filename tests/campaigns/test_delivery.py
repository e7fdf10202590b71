"""Sending: consent, unsubscribe, frequency cap, quiet hours and suppression each stop a
send; a retried batch sends nobody twice; the holdout receives nothing and is the
control; campaign links credit orders to the campaign. Tasks run eagerly; mail goes
to Flask-Mailman's in-memory outbox."""

import re
from datetime import UTC, datetime, timedelta

import pytest
import time_machine
from sqlalchemy import func, select

from forum.accounts.models import User
from forum.campaigns import service
from forum.campaigns.models import Campaign, Delivery, SmsMessage
from forum.campaigns.tasks import send_batch
from forum.extensions import db
from tests.attribution.conftest import BROWSER, set_rates
from tests.conftest import app_context, login
from tests.fixtures.shop import order_body

from .conftest import outbox

EVERYONE = {"not": {"field": "tier", "op": "eq", "value": "vip"}}


@pytest.fixture
def campaign(app, admin, make_segment):
    def create(
        rule=None, *, channel="email", holdout_bp=0, body="Hi {{name}}, you are {{tier}}.", **extra
    ):
        segment_id = make_segment(
            rule or {"all": [{"field": "email_verified", "op": "eq", "value": True}]}
        )
        with app_context(app), app.test_request_context("/"):
            item = service.create_campaign(
                db.session.get(User, admin.id),
                name="Spring",
                channel=channel,
                segment_id=segment_id,
                subject="Hello {{name}}",
                body=body,
                holdout_bp=holdout_bp,
                **extra,
            )
            db.session.commit()
            return item.id

    return create


def send(app, admin, campaign_id):
    with app_context(app), app.test_request_context("/"):
        service.send_now(db.session.get(User, admin.id), db.session.get(Campaign, campaign_id))
        db.session.commit()  # the plan task runs after commit (eagerly here)


def deliveries(app, campaign_id) -> dict[str, tuple[str, str]]:
    with app_context(app):
        rows = db.session.execute(
            select(User.username, Delivery.status, Delivery.reason)
            .join(User, User.id == Delivery.user_id)
            .where(Delivery.campaign_id == campaign_id)
        ).all()
        return {name: (status, reason) for name, status, reason in rows}


def status_of(app, campaign_id) -> str:
    with app_context(app):
        return db.session.get(Campaign, campaign_id).status


def test_a_campaign_reaches_consenting_verified_members_once_with_unsubscribe_headers(
    app, make_user, verify, admin, campaign
):
    ann, bob, cat = make_user("ann"), make_user("bob"), make_user("cat")
    verify(ann, bob)
    verify(cat, marketing_email=False)
    cid = campaign(EVERYONE)
    send(app, admin, cid)
    sent = {m.to[0]: m for m in outbox(app)}
    assert set(sent) == {"ann@example.com", "bob@example.com"}
    letter = sent["ann@example.com"]
    assert letter.subject == "Hello ann" and "Hi ann, you are registered." in letter.body
    assert re.fullmatch(
        r"<http://localhost/api/v1/unsubscribe/[^>]+>", letter.extra_headers["List-Unsubscribe"]
    )
    assert letter.extra_headers["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
    html = letter.alternatives[0][0]
    assert "<p>Hi ann, you are registered.</p>" in html and "/settings/email" in html
    found = deliveries(app, cid)
    assert found["ann"] == ("sent", "") and found["bob"] == ("sent", "")
    assert found["cat"] == ("skipped", "no_consent")
    assert found["campadmin"] == ("skipped", "email_not_verified")
    assert status_of(app, cid) == "sent"


def test_one_click_unsubscribe_works_without_a_session_and_stops_the_next_send(
    app, client, make_user, verify, admin, campaign
):
    ann = make_user("ann")
    verify(ann)
    first = campaign(EVERYONE)
    send(app, admin, first)
    (letter,) = outbox(app)
    url = letter.extra_headers["List-Unsubscribe"].strip("<>").replace("http://localhost", "")
    response = client.post(url, data={"List-Unsubscribe": "One-Click"})  # no cookie, no CSRF
    assert response.status_code == 200 and b"unsubscribed" in response.data
    assert (
        client.post(url, data={"List-Unsubscribe": "One-Click"}).status_code == 200
    )  # again: fine
    assert client.post(url[:-4] + "abcd").status_code == 404
    second = campaign(EVERYONE)
    send(app, admin, second)
    assert len(outbox(app)) == 1
    assert deliveries(app, second)["ann"] == ("skipped", "no_consent")
    with app_context(app):
        assert service.counts(first)["unsubscribed"] == 1


def test_the_weekly_frequency_cap_stops_a_send(app, make_user, verify, admin, campaign):
    app.config["CAMPAIGN_FREQUENCY_CAP_PER_WEEK"] = 2
    ann = make_user("ann")
    verify(ann)
    ids = [campaign(EVERYONE) for _ in range(3)]
    for cid in ids:
        send(app, admin, cid)
    assert len(outbox(app)) == 2
    assert deliveries(app, ids[2])["ann"] == ("skipped", "frequency_cap")
    with time_machine.travel(datetime.now(UTC) + timedelta(days=8)):
        later = campaign(EVERYONE)
        send(app, admin, later)
    assert deliveries(app, later)["ann"] == ("sent", "")


def test_a_bounced_address_is_suppressed(app, make_user, verify, admin, campaign):
    ann, bob = make_user("ann"), make_user("bob")
    verify(ann, bob)
    with app.app_context():
        assert service.suppress("ANN@example.com", "bounce") is True
        assert service.suppress("ann@example.com", "bounce") is False
        db.session.commit()
    cid = campaign(EVERYONE)
    send(app, admin, cid)
    assert [m.to for m in outbox(app)] == [["bob@example.com"]]
    assert deliveries(app, cid)["ann"] == ("skipped", "suppressed")


def _sms_member(app, make_user, verify, name, timezone="UTC", phone="+4915100000001"):
    user = make_user(name)
    with app.app_context():
        db.session.get(User, user.id).timezone = timezone
        db.session.commit()
    verify(user, marketing_sms=True, phone=phone, phone_verified_at=datetime.now(UTC))
    return user


def sms_rows(app) -> list[tuple[str, str]]:
    with app.app_context():
        return [
            (m.to, m.body) for m in db.session.scalars(select(SmsMessage).order_by(SmsMessage.id))
        ]


def test_sms_needs_opt_in_and_a_verified_phone(app, make_user, verify, admin, campaign):
    _sms_member(app, make_user, verify, "ann")
    bob = make_user("bob")
    verify(bob, marketing_sms=True, phone="+4915100000002")  # not verified
    cid = campaign(EVERYONE, channel="sms", body="Hi {{name}}: 10% off today")
    with time_machine.travel(datetime(2030, 5, 1, 12, 0, tzinfo=UTC)):
        send(app, admin, cid)
    assert sms_rows(app) == [("+4915100000001", "Hi ann: 10% off today")]
    assert deliveries(app, cid)["bob"] == ("skipped", "no_consent")


def test_sms_quiet_hours_in_the_members_time_zone_defer_the_send(
    app, make_user, verify, admin, campaign
):
    _sms_member(app, make_user, verify, "tokyo", timezone="Asia/Tokyo", phone="+8190000000001")
    _sms_member(app, make_user, verify, "berlin", timezone="Europe/Berlin", phone="+4915100000003")
    cid = campaign(EVERYONE, channel="sms", body="Flash sale")
    noon_utc = datetime(2030, 5, 1, 12, 0, tzinfo=UTC)  # 21:00 in Tokyo, 14:00 in Berlin
    with time_machine.travel(noon_utc, tick=False):
        send(app, admin, cid)
    assert [to for to, _ in sms_rows(app)] == ["+4915100000003"]
    assert deliveries(app, cid)["tokyo"] == ("pending", "quiet_hours")
    assert status_of(app, cid) == "sending"
    with time_machine.travel(noon_utc + timedelta(hours=6), tick=False):  # 03:00 in Tokyo
        with app.app_context():
            service.tick()
        assert len(sms_rows(app)) == 1
    later = noon_utc + timedelta(hours=12, minutes=1)  # 09:01 in Tokyo
    with time_machine.travel(later, tick=False), app.app_context(), app.test_request_context("/"):
        service.tick()
    assert [to for to, _ in sms_rows(app)] == ["+4915100000003", "+8190000000001"]
    assert status_of(app, cid) == "sent"


def test_a_retried_batch_sends_nobody_twice(app, make_user, verify, admin, campaign):
    users = [make_user(f"mem{i}") for i in range(5)]
    verify(*users)
    cid = campaign(EVERYONE)
    send(app, admin, cid)
    assert len(outbox(app)) == 5
    with app.app_context():
        first, last = db.session.execute(
            select(func.min(Delivery.user_id), func.max(Delivery.user_id)).where(
                Delivery.campaign_id == cid
            )
        ).one()
        db.session.get(Campaign, cid).status = "sending"  # as if still running when retried
        db.session.commit()
    assert send_batch.apply(args=(cid, first, last)).get() == 0
    assert send_batch.apply(args=(cid, first, last)).get() == 0
    assert len(outbox(app)) == 5


def test_a_batch_that_dies_after_claiming_sends_nobody_later(
    app, make_user, verify, admin, campaign, monkeypatch
):
    """The claim commits before any send; a worker lost in between never sends twice."""
    users = [make_user(f"mem{i}") for i in range(3)]
    verify(*users)
    from forum.campaigns.service import delivery

    def crash(*args):
        raise SystemExit("worker killed")

    monkeypatch.setattr(delivery, "_send_email", crash)
    cid = campaign(EVERYONE)
    with pytest.raises(SystemExit):
        send(app, admin, cid)
    monkeypatch.undo()
    with app.app_context():
        claimed = db.session.scalar(
            select(func.count()).where(Delivery.campaign_id == cid, Delivery.status == "sending")
        )
    assert claimed == 3
    with app.app_context(), app.test_request_context("/"):
        service.plan(cid)  # resumed: the claimed rows are not sent again
    assert outbox(app) == []
    hour_later = datetime.now(UTC) + timedelta(hours=1)
    with time_machine.travel(hour_later), app.app_context(), app.test_request_context("/"):
        service.tick()
    found = deliveries(app, cid)
    assert {status for status, _ in found.values() if status != "skipped"} == {"failed"}


def test_the_holdout_receives_nothing_and_is_counted_as_control(
    app, make_user, verify, admin, campaign
):
    users = [make_user(f"hold{i:02d}") for i in range(40)]
    verify(*users)
    cid = campaign(EVERYONE, holdout_bp=2500)
    send(app, admin, cid)
    found = deliveries(app, cid)
    held = {name for name, (status, _) in found.items() if status == "holdout"}
    assert len(held) == 41 * 2500 // 10000 == 10  # exactly a quarter of 41 (with the admin)
    assert not held & {m.to[0].split("@")[0] for m in outbox(app)}
    with app.app_context():
        counts = service.counts(cid)
        assert counts["holdout"] == 10 and counts["recipients"] == 31
        # Everyone treated was mailed, except the admin (not verified) when treated.
        assert counts["sent"] == 31 - (found["campadmin"][0] != "holdout")
        lift = service.lift(db.session.get(Campaign, cid))
    assert lift["control"] == 10 and lift["treated"] == 31 and lift["control_buyers"] == 0


def test_pause_resume_cancel(app, make_user, verify, admin, campaign):
    app.config["CAMPAIGN_BATCH_SIZE"] = 2
    users = [make_user(f"pau{i}") for i in range(5)]
    verify(*users)
    cid = campaign(EVERYONE)
    with app.app_context(), app.test_request_context("/"):
        actor = db.session.get(User, admin.id)
        item = db.session.get(Campaign, cid)
        service.send_now(actor, item)
        service.pause(actor, item)  # paused before the plan ran (after commit)
        db.session.commit()
    assert outbox(app) == [] and status_of(app, cid) == "paused"
    with app.app_context(), app.test_request_context("/"):
        actor = db.session.get(User, admin.id)
        service.resume(actor, db.session.get(Campaign, cid))
        db.session.commit()
    assert len(outbox(app)) == 5 and status_of(app, cid) == "sent"
    with app.app_context(), app.test_request_context("/"), pytest.raises(service.Conflict):
        service.cancel(db.session.get(User, admin.id), db.session.get(Campaign, cid))


def test_campaign_clicks_credit_orders_to_the_campaign(
    app, make_user, verify, admin, campaign, make_shop, make_product, token_for
):
    shop = make_shop("acme", free_from=None)
    product_id = make_product(shop, "Kettle", price_cents=1250, stock=5)
    set_rates(app, shop.user, cps_rate_bp=1000)
    buyer = make_user("buyer")
    verify(buyer)
    cid = campaign(
        {"all": [{"field": "email_verified", "op": "eq", "value": True}]},
        body=f"Back in stock: [[product:{product_id}]]",
    )
    send(app, admin, cid)
    (letter,) = outbox(app)
    link = re.search(r"http://localhost(/c/l/\S+)", letter.body).group(1)
    browser = app.test_client()
    login(browser, buyer)
    hop = browser.get(link, headers=BROWSER)
    assert hop.status_code == 302 and hop.headers["Location"].startswith("/go/")
    landed = browser.get(hop.headers["Location"], headers=BROWSER)
    assert landed.status_code == 302 and landed.headers["Location"] == f"/shop/p/{product_id}"
    headers = token_for(buyer)
    placed = browser.post("/api/v1/orders", json=order_body((product_id, 1)), headers=headers)
    assert placed.status_code == 201
    paid = browser.post(
        f"/api/v1/orders/{placed.json['id']}/pay", json={"provider": "sandbox"}, headers=headers
    )
    assert paid.status_code == 200
    admin_headers = token_for(admin)
    report = browser.get(f"/api/v1/admin/campaigns/{cid}", headers=admin_headers).get_json()
    assert report["clicked"] == 1 and report["orders"] == 1
    assert report["revenue_cents"] == placed.json["total_cents"]
    assert report["status"] == "sent" and report["sent"] == 1


def test_the_api_creates_sends_and_reports_for_admins_only(
    app, client, make_user, verify, admin, token_for, make_segment
):
    ann = make_user("ann")
    verify(ann)
    headers = token_for(admin)
    segment_id = make_segment(EVERYONE)
    body = {
        "name": "API",
        "channel": "email",
        "segment_id": segment_id,
        "subject": "Hi",
        "body": "Hello",
    }
    created = client.post("/api/v1/admin/campaigns", json=body, headers=headers)
    assert created.status_code == 201 and created.get_json()["status"] == "draft"
    cid = created.get_json()["id"]
    sent = client.post(f"/api/v1/admin/campaigns/{cid}/send", headers=headers)
    assert sent.status_code == 202 and sent.get_json()["status"] == "sending"
    got = client.get(f"/api/v1/admin/campaigns/{cid}", headers=headers).get_json()
    assert got["status"] == "sent" and got["sent"] == 1 and got["recipients"] == 2
    again = client.post(f"/api/v1/admin/campaigns/{cid}/send", headers=headers)
    assert again.status_code == 409
    member = token_for(ann)
    assert client.get(f"/api/v1/admin/campaigns/{cid}", headers=member).status_code == 403
    assert client.post("/api/v1/admin/campaigns", json=body, headers=member).status_code == 403
    bad = client.post("/api/v1/admin/campaigns", json={**body, "channel": "fax"}, headers=headers)
    assert bad.status_code == 422
    assert (
        client.post(
            "/api/v1/admin/campaigns", json={**body, "body": "{{shoe}}"}, headers=headers
        ).status_code
        == 422
    )
    settings = client.patch("/api/v1/me/settings", json={"marketing_email": False}, headers=member)
    assert settings.status_code == 200 and settings.get_json()["marketing_email"] is False
    assert (
        client.patch(
            "/api/v1/me/settings", json={"notifications": {"nope": "off"}}, headers=member
        ).status_code
        == 422
    )


def test_sms_segment_count():
    from forum.campaigns.sms import segment_count

    assert segment_count("a" * 160).segments == 1
    assert segment_count("a" * 161).segments == 2
    assert segment_count("€" * 80).segments == 1 and segment_count("€" * 81).segments == 2
    assert segment_count("ü" * 160).encoding == "GSM-7"
    assert segment_count("😀" * 35).segments == 1 and segment_count("ç" * 71).segments == 2
