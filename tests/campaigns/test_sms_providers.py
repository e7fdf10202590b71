"""SMS providers: the sandbox keeps an outbox; the Twilio adapter (Twilio's official
library) talks to a local stand-in of Twilio's API, never the internet; phone numbers
are verified by a texted code."""

import base64
import json
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs

import pytest
from sqlalchemy import select

from forum.accounts.models import User
from forum.campaigns import service
from forum.campaigns.models import SmsMessage
from forum.campaigns.sms import SmsError, TwilioSms
from forum.errors import ValidationFailed
from forum.extensions import db

SID = "AC" + "0" * 32


class StandIn(BaseHTTPRequestHandler):
    requests: list = []
    refuse = False

    def do_POST(self):  # noqa: N802 (http.server's name)
        length = int(self.headers.get("Content-Length", 0))
        form = parse_qs(self.rfile.read(length).decode())
        StandIn.requests.append((self.path, self.headers.get("Authorization"), form))
        if StandIn.refuse:
            body = {"code": 21211, "message": "The 'To' number is not valid.", "status": 400}
            self.send_response(400)
        else:
            body = {
                "sid": "SM" + "1" * 32,
                "status": "queued",
                "to": form["To"][0],
                "body": form["Body"][0],
            }
            self.send_response(201)
        payload = json.dumps(body).encode()
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(payload)))
        self.end_headers()
        self.wfile.write(payload)

    def log_message(self, *args):
        pass


@pytest.fixture
def twilio_stand_in():
    server = ThreadingHTTPServer(("127.0.0.1", 0), StandIn)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    StandIn.requests, StandIn.refuse = [], False
    yield f"http://127.0.0.1:{server.server_address[1]}"
    server.shutdown()
    server.server_close()


def twilio_config(base_url):
    return {
        "TWILIO_ACCOUNT_SID": SID,
        "TWILIO_AUTH_TOKEN": "secret-token",
        "TWILIO_FROM": "+15005550006",
        "TWILIO_BASE_URL": base_url,
    }


def test_the_twilio_adapter_posts_to_the_messages_api(app, twilio_stand_in):
    with app.app_context():
        reference = TwilioSms(twilio_config(twilio_stand_in)).send("+4915100000009", "Hi there")
        db.session.commit()
        (row,) = db.session.scalars(select(SmsMessage)).all()
    assert reference == "SM" + "1" * 32 and row.provider == "twilio" and row.reference == reference
    ((path, auth, form),) = StandIn.requests
    assert path == f"/2010-04-01/Accounts/{SID}/Messages.json"
    assert auth == "Basic " + base64.b64encode(f"{SID}:secret-token".encode()).decode()
    assert form == {"To": ["+4915100000009"], "From": ["+15005550006"], "Body": ["Hi there"]}


def test_a_twilio_refusal_is_an_sms_error_with_the_reason(app, twilio_stand_in):
    StandIn.refuse = True
    with app.app_context(), pytest.raises(SmsError) as caught:
        TwilioSms(twilio_config(twilio_stand_in)).send("+4915100000009", "Hi")
    assert "not valid" in str(caught.value)
    with app.app_context():
        assert db.session.scalars(select(SmsMessage)).all() == []


def test_twilio_without_credentials_refuses_to_start(app):
    with app.app_context(), pytest.raises(SmsError):
        TwilioSms({})


def test_a_phone_is_verified_by_the_texted_code(app, member):
    with app.app_context():
        user = db.session.get(User, member.id)
        with pytest.raises(ValidationFailed):
            service.start_phone_verification(user, "0151 not a number")
        code = service.start_phone_verification(user, "+49 151 0000 0010")
        db.session.commit()
        (text,) = db.session.scalars(select(SmsMessage)).all()
        assert text.to == "+4915100000010" and code in text.body
        with pytest.raises(ValidationFailed):
            service.confirm_phone(user, "000000" if code != "000000" else "111111")
        service.confirm_phone(user, code)
        db.session.commit()
        settings = service.settings_of(user)
    assert settings["phone"] == "+4915100000010" and settings["phone_verified"] is True
