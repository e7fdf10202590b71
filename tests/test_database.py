"""forum/database.py's statement helpers on the engine in use (SQLite, or PostgreSQL with
PLAZA_TEST_DATABASE_URL): ``insert_ignore`` is compiled once per shape and still inserts
once, ``prepared`` statements are built once and run with fresh values."""

from sqlalchemy import bindparam, event, func, select
from sqlalchemy.engine.default import CACHE_HIT, CACHE_MISS

from forum.accounts.models import User
from forum.database import insert_ignore, prepared, prepared_for
from forum.extensions import db
from forum.members.models import PerkGrant, TierRules
from forum.members.service.rules import rules


def _grant(key: str, amount: int = 100, user_id: int = 1) -> dict:
    return {
        "user_id": user_id,
        "order_id": 7,
        "merchant_id": 1,
        "perk": "rebate",
        "amount_cents": amount,
        "currency": "USD",
        "funded_by": "site",
        "key": key,
    }


def test_insert_ignore_has_one_cache_key_per_shape_and_none_for_an_upsert(app):
    with app.app_context():
        first = insert_ignore(PerkGrant, _grant("a"), index_elements=["key"])
        same = insert_ignore(PerkGrant, _grant("b", 5), index_elements=[PerkGrant.key])
        other = insert_ignore(PerkGrant, _grant("a"), index_elements=["order_id"])
        anything = insert_ignore(PerkGrant, _grant("a"))
        key = first._generate_cache_key()
        assert key is not None
        assert key == same._generate_cache_key()  # a column or its name: the same SQL
        assert key != other._generate_cache_key()
        assert key != anything._generate_cache_key()
        assert "ON CONFLICT (key) DO NOTHING" in str(first.compile(db.engine)).replace('"', "")


def test_insert_ignore_inserts_once_and_compiles_once(app, make_user):
    user = make_user("granted")
    with app.app_context():
        caching = []
        engine = db.engine

        @event.listens_for(engine, "before_cursor_execute")
        def record(conn, cursor, statement, parameters, context, executemany):
            if statement.startswith("INSERT INTO member_perk_grants"):
                caching.append(context.cache_hit)

        try:
            made = [
                db.session.execute(
                    insert_ignore(
                        PerkGrant, _grant(key, user_id=user.id), index_elements=["key"]
                    ).returning(PerkGrant.id)
                ).scalar()
                for key in ("once", "once", "twice")
            ]
        finally:
            event.remove(engine, "before_cursor_execute", record)
        assert made[0] is not None and made[1] is None and made[2] not in (None, made[0])
        # Compiled at most once (an earlier test may have compiled this shape already).
        assert caching[0] in (CACHE_MISS, CACHE_HIT) and caching[1:] == [CACHE_HIT, CACHE_HIT]
        assert db.session.scalar(select(func.count()).select_from(PerkGrant)) == 2
        db.session.rollback()


def test_a_prepared_statement_is_built_once_and_runs_with_each_call_s_values(app, make_user):
    builds = []

    @prepared
    def named():
        builds.append(1)
        return select(User.username).where(User.id == bindparam("user_id"))

    @prepared_for
    def counted(dialect: str, role: str):
        builds.append(dialect)
        return select(func.count()).select_from(User).where(User.role == role)

    ann, bob = make_user("ann"), make_user("bob", role="merchant")
    with app.app_context():
        assert db.session.scalar(named(), {"user_id": ann.id}) == "ann"
        assert db.session.scalar(named(), {"user_id": bob.id}) == "bob"
        assert named() is named()
        assert db.session.scalar(counted(db.session, "merchant")) == 1
        assert db.session.scalar(counted(db.session, "member")) == 1
        assert counted(db.session, "merchant") is counted(db.engine, "merchant")
        assert builds == [1, db.engine.dialect.name, db.engine.dialect.name]


def test_the_member_rules_are_read_once_per_transaction_and_again_after_it(app):
    with app.app_context():
        first = rules()
        assert rules() is first  # the defaults, asked for once
        db.session.add(TierRules(id=1, vip_min_orders=9))
        db.session.commit()
        saved = rules()
        assert saved.vip_min_orders == 9 and rules() is saved
