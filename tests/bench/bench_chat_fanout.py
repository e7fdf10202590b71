"""Chat fan-out benchmark: N clients in one room, M messages; deliveries/s and latency.

Runs twice under the same server settings (Werkzeug + simple-websocket threads, as
``flask --app forum serve``; optionally with a Redis message queue):

1. Plaza: ``flask --app forum serve`` with our /chat namespace (auth, rights,
   rate-limit check, Markdown + sanitizing, the database write, presence, announce
   after commit);
2. a bare Flask-SocketIO echo app: ``join`` joins a room, ``send`` emits the body
   to the room and acks, nothing else.

One sender sends M messages one after another (each waits for its ack, as the
chat page does); N other clients receive every message. Printed per app:
deliveries per second (N*M / time from first send to last delivery) and the
p50/p99 send-to-receive latency over all N*M deliveries; then the ratios.

    python -m tests.bench.bench_chat_fanout --clients 50 --messages 200
    python -m tests.bench.bench_chat_fanout --redis redis://127.0.0.1:6379/14
    python -m tests.bench.bench_chat_fanout --database-url postgresql+psycopg://postgres@127.0.0.1/plaza_bench

Not a test (pytest does not collect bench_*.py); the figures depend on the machine.
"""

import argparse
import os
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path

import socketio as socketio_client

from tests.e2e.conftest import wait_until_healthy

NS = "/chat"
ROOM = "bench"


# --- the bare comparison app ---------------------------------------------------------------


def serve_bare(port: int, redis_url: str | None) -> None:
    """A Flask-SocketIO app that only relays: the floor any chat on this stack pays."""
    from flask import Flask, request
    from flask_socketio import SocketIO, emit, join_room

    app = Flask(__name__)
    sio = SocketIO(
        app, async_mode="threading", message_queue=redis_url, logger=False, engineio_logger=False
    )
    counter = {"id": 0}
    lock = threading.Lock()

    @app.get("/healthz")
    def health():
        return {"ok": True}

    @sio.on("connect", namespace=NS)
    def connect(auth=None):
        # The same socket setting Plaza applies (forum.sockets.send_without_delay).
        raw = request.environ.get("werkzeug.socket")
        if raw is not None:
            raw.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        return True

    @sio.on("join", namespace=NS)
    def join(data):
        join_room(f"room:{data['room']}")
        return {"ok": True}

    @sio.on("send", namespace=NS)
    def send(data):
        with lock:
            counter["id"] += 1
            ident = counter["id"]
        emit(
            "message",
            {"id": ident, "room": data["room"], "body": data["body"]},
            to=f"room:{data['room']}",
        )
        return {"id": ident}

    sio.run(
        app,
        host="127.0.0.1",
        port=port,
        allow_unsafe_werkzeug=True,
        use_reloader=False,
        log_output=False,
    )


# --- servers ---------------------------------------------------------------------------------


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@dataclass
class Server:
    url: str
    process: subprocess.Popen
    log: str

    def stop(self) -> None:
        self.process.terminate()
        try:
            self.process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self.process.kill()


def spawn(command: list[str], env: dict, port: int, workdir: str) -> Server:
    log_path = os.path.join(workdir, f"server-{port}.log")
    with open(log_path, "w") as log:
        process = subprocess.Popen(command, env=env, stdout=log, stderr=subprocess.STDOUT)
    url = f"http://127.0.0.1:{port}"
    failure = wait_until_healthy(url, process, Path(log_path))
    if failure is not None:
        process.kill()
        raise RuntimeError(failure)
    return Server(url, process, log_path)


def ensure_database(database_url: str) -> None:
    """Create a PostgreSQL database that does not exist yet (SQLite files make themselves)."""
    from sqlalchemy import create_engine, text
    from sqlalchemy.engine import make_url

    url = make_url(database_url)
    if not url.drivername.startswith("postgresql"):
        return
    admin = create_engine(url.set(database="postgres"), isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        if not conn.scalar(
            text("SELECT 1 FROM pg_database WHERE datname = :n"), {"n": url.database}
        ):
            conn.execute(text(f'CREATE DATABASE "{url.database}"'))
    admin.dispose()


def prepare_plaza(database_url: str, clients: int) -> list[str]:
    """Schema (dropped and rebuilt), users, tokens and the room; returns the API tokens (sender first)."""
    ensure_database(database_url)
    from forum import create_app
    from forum.accounts import service as accounts
    from forum.chat import service as chat
    from forum.extensions import db

    app = create_app(
        {
            "ENV": "testing",
            "SECRET_KEY": "bench",
            "SQLALCHEMY_DATABASE_URI": database_url,
            "RATELIMIT_ENABLED": False,
            "PASSWORD_HASH_METHOD": "pbkdf2:sha256:1000",
        }
    )
    tokens = []
    with app.app_context(), app.test_request_context("/"):
        db.drop_all()
        db.create_all()
        admin = accounts.register(
            "benchadmin", "benchadmin@example.com", "bench-passphrase-kept", role="admin"
        )
        chat.create_public_room(admin, ROOM, "Bench")
        for index in range(clients + 1):
            user = accounts.register(
                f"bench{index}", f"bench{index}@example.com", "bench-passphrase-kept"
            )
            tokens.append(accounts.issue_token(user, "bench"))
        db.session.commit()
        db.engine.dispose()
    return tokens


# --- clients ---------------------------------------------------------------------------------


class _Done:
    def join(self, timeout=None) -> None:
        pass


def _run_inline(target, *args, **kwargs):
    target(*args, **kwargs)
    return _Done()


@dataclass
class Recorder:
    expected: int
    received_at: dict[int, list[float]] = field(
        default_factory=dict
    )  # message index -> receive times
    count: int = 0
    done: threading.Event = field(default_factory=threading.Event)
    lock: threading.Lock = field(default_factory=threading.Lock)

    def on_message(self, message: dict) -> None:
        at = time.perf_counter()
        index = int(message["body"].split()[-1])
        with self.lock:
            self.received_at.setdefault(index, []).append(at)
            self.count += 1
            if self.count >= self.expected:
                self.done.set()


def connect(url: str, auth: dict | None, recorder: Recorder | None) -> socketio_client.Client:
    # websocket-client checks each text frame's UTF-8 in pure Python (~0.25 us a byte
    # without wsaccel): 80 us for a Plaza message, 15 us for the echo's, in this process,
    # on the cores the server needs. A browser does it natively: skip it for both apps.
    client = socketio_client.Client(
        reconnection=False, websocket_extra_options={"skip_utf8_validation": True}
    )
    if recorder is not None:
        client.on("message", recorder.on_message, namespace=NS)
    client.connect(url, namespaces=[NS], auth=auth, transports=["websocket"], wait_timeout=20)
    # One thread per incoming packet would measure the client, not the server.
    client.eio.start_background_task = _run_inline
    ack = client.call("join", {"room": ROOM}, namespace=NS, timeout=20)
    if not ack or not ack.get("ok"):
        raise RuntimeError(f"join refused: {ack}")
    return client


def measure(url: str, auths: list[dict | None], messages: int, warmup: int) -> dict:
    sender_auth, receiver_auths = auths[0], auths[1:]
    receivers = len(receiver_auths)
    recorder = Recorder(expected=receivers * (messages + warmup))
    clients = [connect(url, auth, recorder) for auth in receiver_auths]
    sender = connect(url, sender_auth, None)
    sent_at: dict[int, float] = {}
    try:
        for index in range(warmup):
            sender.call(
                "send", {"room": ROOM, "body": f"warmup {-1 - index}"}, namespace=NS, timeout=30
            )
        start = time.perf_counter()
        for index in range(messages):
            sent_at[index] = time.perf_counter()
            ack = sender.call(
                "send", {"room": ROOM, "body": f"message {index}"}, namespace=NS, timeout=30
            )
            if "id" not in ack:
                raise RuntimeError(f"send refused: {ack}")
        send_done = time.perf_counter()
        if not recorder.done.wait(60):
            raise RuntimeError(f"only {recorder.count} of {recorder.expected} deliveries arrived")
    finally:
        # websocket-client waits up to 3 s for each close handshake: close them together.
        closers = [threading.Thread(target=client.disconnect) for client in [sender, *clients]]
        for closer in closers:
            closer.start()
        for closer in closers:
            closer.join(10)
    latencies = [
        (at - sent_at[index]) * 1000
        for index, times in recorder.received_at.items()
        if index >= 0
        for at in times
    ]
    last = max(at for index, times in recorder.received_at.items() if index >= 0 for at in times)
    elapsed = last - start
    quantiles = statistics.quantiles(latencies, n=100)
    return {
        "deliveries": len(latencies),
        "elapsed": elapsed,
        "per_second": len(latencies) / elapsed,
        "sends_per_second": messages / (send_done - start),
        "p50": statistics.median(latencies),
        "p99": quantiles[98],
    }


# Issue 20's goal: at least this share of the bare echo app's deliveries/s at 50 clients.
TARGET_RATIO = 0.7


def _median_run(runs: list[dict]) -> dict:
    """The run with the median deliveries/s (its latencies go with it)."""
    return sorted(runs, key=lambda figures: figures["per_second"])[len(runs) // 2]


def report(name: str, figures: dict) -> None:
    print(
        f"{name:<26} {figures['deliveries']:>7} deliveries in {figures['elapsed']:6.2f} s  "
        f"{figures['per_second']:9.0f} deliveries/s  {figures['sends_per_second']:6.1f} sends/s  "
        f"p50 {figures['p50']:7.2f} ms  p99 {figures['p99']:7.2f} ms"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument(
        "--clients", type=int, default=50, help="receivers in the room (default 50)"
    )
    parser.add_argument("--messages", type=int, default=200, help="messages sent (default 200)")
    parser.add_argument("--warmup", type=int, default=10)
    parser.add_argument(
        "--rounds", type=int, default=3, help="Plaza and bare runs, interleaved (default 3)"
    )
    parser.add_argument(
        "--redis", default=None, help="a Redis URL: both servers use it as message queue"
    )
    parser.add_argument(
        "--database-url",
        default=None,
        help="Plaza's database, emptied first (default: a temporary SQLite file)",
    )
    parser.add_argument("--serve-bare", type=int, default=None, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.serve_bare:
        serve_bare(args.serve_bare, args.redis)
        return

    workdir = tempfile.mkdtemp(prefix="plaza-bench-")
    root = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
    env = {**os.environ, "PYTHONPATH": root + os.pathsep + os.environ.get("PYTHONPATH", "")}
    try:
        database_url = args.database_url or f"sqlite:///{os.path.join(workdir, 'bench.sqlite3')}"
        tokens = prepare_plaza(database_url, args.clients)
        plaza_env = {
            **env,
            "FORUM_ENV": "testing",
            "FORUM_SECRET_KEY": "bench",
            "FORUM_SQLALCHEMY_DATABASE_URI": database_url,
            "FORUM_RATELIMIT_ENABLED": "false",
            "FORUM_SESSION_COOKIE_SECURE": "false",
        }
        if args.redis:
            plaza_env["FORUM_SOCKETIO_MESSAGE_QUEUE"] = args.redis
        print(
            f"{args.clients} receivers + 1 sender in one room, {args.messages} messages "
            f"(after {args.warmup} warm-up), Werkzeug + simple-websocket threads"
            + (f", Redis queue {args.redis}" if args.redis else ", no message queue")
        )
        ours_runs, floor_runs = [], []
        for _ in range(args.rounds):  # interleaved: a busy machine slows both alike
            port = free_port()
            plaza = spawn(
                [sys.executable, "-m", "flask", "--app", "forum", "serve", "--port", str(port)],
                plaza_env,
                port,
                workdir,
            )
            try:
                ours_runs.append(
                    measure(
                        plaza.url,
                        [{"token": token} for token in tokens],
                        args.messages,
                        args.warmup,
                    )
                )
            finally:
                plaza.stop()
            report("Plaza /chat", ours_runs[-1])

            port = free_port()
            command = [sys.executable, os.path.abspath(__file__), "--serve-bare", str(port)]
            if args.redis:
                command += ["--redis", args.redis]
            bare = spawn(command, env, port, workdir)
            try:
                floor_runs.append(
                    measure(bare.url, [None] * (args.clients + 1), args.messages, args.warmup)
                )
            finally:
                bare.stop()
            report("bare Flask-SocketIO echo", floor_runs[-1])
        ours, floor = _median_run(ours_runs), _median_run(floor_runs)
        ratio = ours["per_second"] / floor["per_second"]
        print(
            f"Plaza / bare (median of {args.rounds}): {ratio:.2f}x the deliveries/s "
            f"({ratio / TARGET_RATIO:.2f}x the {TARGET_RATIO}x goal), "
            f"{ours['p50'] / floor['p50']:.2f}x the p50 latency, {ours['p99'] / floor['p99']:.2f}x the p99 latency"
        )
    finally:
        shutil.rmtree(workdir, ignore_errors=True)


if __name__ == "__main__":
    main()
