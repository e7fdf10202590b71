"""The user card (public facts only, a Message button when allowed) and avatars through
the one upload pipeline (re-encoded, cut square, refusals, removal)."""

import io
from datetime import timedelta

from PIL import Image

from forum.accounts.models import User
from forum.clock import now
from forum.extensions import db


def png(size=(300, 200), color=(200, 30, 30)) -> bytes:
    out = io.BytesIO()
    Image.new("RGB", size, color).save(out, "PNG")
    return out.getvalue()


def upload(api, data, filename="me.png"):
    return api.post(
        "/api/v1/me/avatar",
        data={"avatar": (io.BytesIO(data), filename)},
        content_type="multipart/form-data",
    )


def avatar_of(app, user):
    with app.app_context():
        return db.session.get(User, user.id).avatar_name


def test_the_card_shows_public_facts_and_a_message_button(app, make_user, api_for, client):
    alice, bob = make_user("alice"), make_user("bob")
    card = api_for(bob).get("/api/v1/users/alice/card").json
    assert card["username"] == "alice" and card["trust_level"] == 1 and card["tier"] == "registered"
    assert card["can_message"] is True and card["suspended"] is False
    assert "email" not in card and "alice@example.com" not in str(card)
    html = api_for(bob).client.get("/u/alice/card").get_data(as_text=True)
    assert "Message" in html and "/dm/alice" in html and "Trust level 1" in html
    visitor = client.get("/u/alice/card").get_data(as_text=True)
    assert "/dm/alice" not in visitor  # a visitor cannot message
    assert api_for(alice).get("/api/v1/users/alice/card").json["can_message"] is False  # yourself
    assert client.get("/api/v1/users/nobody/card").status_code == 404


def test_a_suspended_or_silenced_members_card_keeps_their_private_details(app, make_user, api_for):
    alice, bob, carol = make_user("alice"), make_user("bob"), make_user("carol")
    with app.app_context():
        a = db.session.get(User, alice.id)
        a.suspended_until, a.suspension_reason = now() + timedelta(days=3), "spam links"
        c = db.session.get(User, carol.id)
        c.silenced_until, c.silence_reason = now() + timedelta(days=1), "heated thread"
        db.session.commit()
    b = api_for(bob)
    card = b.get("/api/v1/users/alice/card").json
    assert card["suspended"] is True and card["can_message"] is False
    html = b.client.get("/u/alice/card").get_data(as_text=True)
    assert "spam links" not in html and "suspended" in html
    silenced = b.client.get("/u/carol/card").get_data(as_text=True)
    assert "heated thread" not in silenced and "ilenced" not in silenced


def test_a_newcomer_gets_no_message_button_below_the_dm_trust_level(app, make_user, api_for):
    make_user("alice")
    newcomer = make_user("newbie", trust_level=0)
    app.config["TRUST_DIRECT_MESSAGE_LEVEL"] = 1
    assert api_for(newcomer).get("/api/v1/users/alice/card").json["can_message"] is False


def test_an_avatar_is_re_encoded_cut_square_and_shown_on_posts_card_and_profile(
    app, make_user, make_thread, api_for, tmp_path
):
    alice = make_user("alice")
    thread_id = make_thread(alice)
    a = api_for(alice)
    answer = upload(a, png((300, 200)))
    assert answer.status_code == 201, answer.json
    url = answer.json["avatar_url"]
    served = a.client.get(url)
    assert served.status_code == 200 and served.mimetype == "image/png"
    assert Image.open(io.BytesIO(served.data)).size == (256, 256)  # the centred square, scaled
    served.close()
    for page in (f"/t/{thread_id}", "/u/alice", "/u/alice/card"):
        assert f'src="{url}"' in a.client.get(page).get_data(as_text=True), page
    assert a.get("/api/v1/users/alice/card").json["avatar_url"] == url
    # A new one replaces the old, whose file goes once the change is committed.
    old = avatar_of(app, alice)
    assert upload(a, png((64, 64), (0, 90, 200))).status_code == 201
    assert not (tmp_path / "uploads" / "avatars" / old).exists()
    assert a.client.get(url).status_code == 404


def test_refusals_keep_the_old_avatar_and_store_nothing(app, make_user, api_for, tmp_path):
    alice = make_user("alice")
    a = api_for(alice)
    assert upload(a, png()).status_code == 201
    kept = avatar_of(app, alice)
    folder = tmp_path / "uploads" / "avatars"
    not_image = upload(a, b"%PDF-1.4 not a picture", "cv.png")
    assert not_image.status_code == 422 and not_image.json["error"]["code"] == "invalid_image"
    assert "avatar" in not_image.json["error"]["fields"]
    app.config["UPLOAD_MAX_BYTES"] = 1024
    noisy = io.BytesIO()
    Image.effect_noise((200, 200), 80).convert("RGB").save(noisy, "PNG")
    too_big = upload(a, noisy.getvalue())
    assert too_big.status_code == 422 and too_big.json["error"]["code"] == "image_too_large"
    assert (
        a.post("/api/v1/me/avatar", data={}, content_type="multipart/form-data").status_code == 422
    )
    assert avatar_of(app, alice) == kept and sorted(p.name for p in folder.iterdir()) == [kept]


def test_the_settings_form_uploads_and_removes(app, make_user, api_for, tmp_path):
    alice = make_user("alice")
    client = api_for(alice).client
    saved = client.post(
        "/settings/avatar",
        data={"av-avatar": (io.BytesIO(png()), "me.png")},
        content_type="multipart/form-data",
    )
    assert saved.status_code == 302 and avatar_of(app, alice)
    refused = client.post(
        "/settings/avatar",
        data={"av-avatar": (io.BytesIO(b"nope"), "x.png")},
        content_type="multipart/form-data",
    )
    assert refused.status_code == 422 and "not an image" in refused.get_data(as_text=True)
    assert client.post("/settings/avatar/remove").status_code == 302
    assert avatar_of(app, alice) is None
    assert list((tmp_path / "uploads" / "avatars").iterdir()) == []


def test_a_visitor_cannot_upload_an_avatar(app, client):
    assert upload(client, png()).status_code == 401
    assert client.get("/avatars/" + "0" * 32 + ".png").status_code == 404
