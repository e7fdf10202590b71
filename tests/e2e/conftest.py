"""Browser tests: Debian's Chromium driven by Playwright against a real server process.

``live_server`` starts ``flask --app forum serve`` (Werkzeug + simple-websocket,
the same Socket.IO stack as development; forked from a process that imported the app
already, see tests/fixtures/server_zygote.py) on a free port, pointed at the test's
own database; the test seeds data through services in its own process, since
both share the committed database. Screenshots go to test-artifacts/ (git-ignored).
"""

import atexit
import contextlib
import os
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest
import requests

from tests.fixtures.server_zygote import ForkedProcess, Zygote

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking"]
ARTIFACTS = Path(__file__).resolve().parents[2] / "test-artifacts"

pytestmark = pytest.mark.e2e


# Under load (2 cores shared by many jobs) a server can take well over 30 s to boot.
STARTUP_SECONDS = float(os.environ.get("PLAZA_STARTUP_SECONDS", "120"))


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


# Servers are forks of one process that imported the app already (see server_zygote);
# PLAZA_ZYGOTE=0 starts each as a fresh interpreter instead.
USE_ZYGOTE = os.environ.get("PLAZA_ZYGOTE", "1") != "0"
_zygote = Zygote()
atexit.register(_zygote.stop)


class LiveServer:
    def __init__(self, url: str, process: "subprocess.Popen | ForkedProcess", log: Path, log_file):
        self.url = url
        self.process = process
        self.log = log
        self.log_file = log_file

    def stop(self) -> None:
        self.process.terminate()
        try:
            self.process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()
        self.log_file.close()

    def __call__(self, path: str = "/") -> str:
        return self.url + path


def wait_until_healthy(
    url: str,
    process: "subprocess.Popen | ForkedProcess",
    log: Path,
    seconds: float = STARTUP_SECONDS,
) -> str | None:
    """Poll ``url``/healthz until it answers 200; None when ready, else why not (the log's tail)."""
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if process.poll() is not None:
            return "server exited:\n" + log.read_text()[-3000:]
        try:
            if requests.get(url + "/healthz", timeout=1).status_code == 200:
                return None
        except requests.RequestException:
            time.sleep(0.2)
    return f"server did not start within {seconds:.0f} s:\n" + log.read_text()[-3000:]


def start_server(
    database_uri: str, tmp_path: Path, extra_env: dict | None = None, *, port: int | None = None
) -> LiveServer:
    port = port or free_port()
    env = {
        **os.environ,
        "FORUM_ENV": "testing",
        "FORUM_SECRET_KEY": "e2e-secret",
        "FORUM_SQLALCHEMY_DATABASE_URI": database_uri,
        "FORUM_RATELIMIT_ENABLED": "false",
        "FORUM_SESSION_COOKIE_SECURE": "false",
        "FORUM_REMEMBER_COOKIE_SECURE": "false",
        "FORUM_PASSWORD_HASH_METHOD": "pbkdf2:sha256:1000",
        "FORUM_UPLOAD_FOLDER": str(tmp_path / "uploads"),
        "FORUM_FIRST_POSTS_HELD": "0",  # as in tests/conftest.py: new accounts post at once
        **(extra_env or {}),
    }
    log = tmp_path / f"server-{port}.log"
    log_file = log.open("w")
    argv = ["--app", "forum", "serve", "--port", str(port)]
    process: subprocess.Popen | ForkedProcess
    if USE_ZYGOTE:
        process = _zygote.spawn(argv, env, log)
    else:
        process = subprocess.Popen(
            [sys.executable, "-m", "flask", *argv],
            env=env,
            stdout=log_file,
            stderr=subprocess.STDOUT,
        )
    server = LiveServer(f"http://127.0.0.1:{port}", process, log, log_file)
    failure = wait_until_healthy(server.url, process, log)
    if failure is not None:
        server.stop()
        raise RuntimeError(failure)
    return server


@pytest.fixture
def live_server(app, database_uri, tmp_path):
    # ``app`` first: its fixture has built (SQLite copy / PostgreSQL truncate) the database.
    server = start_server(database_uri, tmp_path)
    yield server
    server.stop()


@pytest.fixture(scope="session")
def browser():
    from playwright.sync_api import sync_playwright

    if not Path(CHROMIUM).exists():
        pytest.fail(
            "Debian's chromium is not installed: run `make chromium` (apt-get install chromium)"
        )
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        yield browser
        browser.close()


@pytest.fixture
def new_page(browser, request):
    """A fresh browser context (its own cookies) per call; screenshots saved on teardown."""
    contexts = []

    def make(width: int = 1280, height: int = 900):
        context = browser.new_context(viewport={"width": width, "height": height})
        context.set_default_timeout(10_000)
        contexts.append(context)
        page = context.new_page()
        page.console_errors = []
        page.on("pageerror", lambda exc: page.console_errors.append(str(exc)))
        return page

    yield make
    ARTIFACTS.mkdir(exist_ok=True)
    for index, context in enumerate(contexts):
        for number, page in enumerate(context.pages):
            # A page that already closed has nothing to show.
            with contextlib.suppress(Exception):
                page.screenshot(
                    path=str(ARTIFACTS / f"{request.node.name}-{index}-{number}.png"),
                    full_page=True,
                )
        context.close()


def log_in(page, server: LiveServer, username: str, password: str) -> None:
    page.goto(server("/login"))
    page.fill("#username", username)
    page.fill("#password", password)
    page.click("button[type=submit]")
    page.wait_for_url(lambda url: "/login" not in url)


def open_shop(app, seller, *, name: str, price_cents: int, stock: int, shipping_fee_cents: int):
    """``seller`` (a merchant) opens "Acme Store" with one product; returns the product id."""
    from forum.accounts.models import User
    from forum.extensions import db
    from forum.shop_embed import service as shop
    from tests.conftest import app_context

    with app_context(app), app.test_request_context("/"):
        merchant = db.session.get(User, seller.id)
        shop.save_merchant_profile(
            merchant,
            name="Acme Store",
            slug="acme",
            logo_initials="AS",
            shipping_fee_cents=shipping_fee_cents,
            free_shipping_threshold_cents=None,
        )
        product = shop.create_product(
            merchant, name=name, description="Grippy.", price_cents=price_cents, stock=stock
        )
        db.session.commit()
        return product.id


def check_out_with_the_sandbox(page) -> None:
    """On the checkout page: fill the address, pay with the sandbox card, wait for the order."""
    page.fill("#name", "Bea Buyer")
    page.fill("#line1", "1 Market Street")
    page.fill("#postal_code", "12345")
    page.fill("#city", "Springfield")
    page.fill("#country", "US")
    page.get_by_label("Sandbox card (test payments)").check()
    page.locator("[data-place-order]").click()
    page.wait_for_url("**/shop/orders/*?placed=1")
