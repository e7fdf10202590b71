"""Search rules: keeping the documents in step with their owners, and finding them.

Owners decide what is searchable: each answers ``search_documents(ids=..., after=...,
limit=...)`` from its service front (board: posts and threads, chat: public messages,
shop: products, events: events; reviews add their text to a product's). When something
changes an owner says so (``post_created``, ``message_sent``, ``search_stale``) and
:func:`index` asks it again for those rows, in the same transaction: a row it no
longer hands over (deleted, private) leaves the index. A new chat message, which has
no document yet, is added from the objects in hand (``chat.message_document``).

Finding (:func:`search`) is one indexed statement per page. PostgreSQL: the GIN index
on the stored, weighted ``tsv`` (title A over body B) answers ``@@`` on
``websearch_to_tsquery`` with the last word as a prefix, ranked by ``ts_rank_cd``.
SQLite: the FTS5 table with ``bm25`` (title weighted 10 to the body's 1). Pages are
keyset on (rank, id). Snippets come from the engine (``ts_headline``, FTS5
``snippet``) over the stored plain text, with private-use marks that become
``<mark>`` only after everything else is escaped, so no user text reaches HTML raw.
"""

import html
import re
from collections.abc import Callable, Iterable
from datetime import UTC, datetime, time, timedelta

from sqlalchemy import (
    ColumnElement,
    Float,
    Select,
    cast,
    delete,
    false,
    func,
    insert,
    literal_column,
    or_,
    select,
    text,
    tuple_,
)

from ..accounts import service as accounts
from ..board import service as board
from ..chat import service as chat
from ..errors import NotFound, field_error
from ..events import service as events
from ..extensions import db
from ..pagination import Page, decode, encode, keyset_page
from ..permissions import can_moderate, is_member
from ..reviews import service as reviews
from ..shop_embed import service as shop
from .models import FTS_CONFIG, TAG_CHARS, TAG_STANDINS, SearchDocument
from .schemas import Document, Hit, SearchQuery

WORD_RE = re.compile(r"\w+", re.UNICODE)
MAX_WORDS = 12
BATCH = 1000
# The engine puts these around each match; they are stripped from stored text
# (``markup.plain_text`` drops control characters), so only the engine writes them.
MARK_OPEN, MARK_CLOSE = "\x02", "\x03"
_LAST_WORD_RE = re.compile(r"(?:^|\s)(\w+)\s*$", re.UNICODE)
_PG_CONFIG: ColumnElement = literal_column(f"'{FTS_CONFIG}'::regconfig")
_HEADLINE = (
    f"StartSel={MARK_OPEN}, StopSel={MARK_CLOSE}, MinWords=12, MaxWords=32, "
    'MaxFragments=2, FragmentDelimiter=" … "'
)

Owner = Callable[..., tuple[list[Document], int | None]]


def _product_documents(ids=None, *, after: int = 0, limit: int = BATCH):
    """The shop's products with the text of their counted reviews (reviews' service)."""
    docs, last = shop.search_documents(ids=ids, after=after, limit=limit)
    texts = reviews.review_texts([doc.source_id for doc in docs])
    for doc in docs:
        if texts.get(doc.source_id):
            doc.body = f"{doc.body} {texts[doc.source_id]}".strip()
    return docs, last


def owners() -> dict[str, Owner]:
    """Who answers for each ``source``."""
    return {
        "post": board.search_documents,
        "message": chat.search_documents,
        "product": _product_documents,
        "event": events.search_documents,
    }


# --- keeping the index -----------------------------------------------------------------


def _columns(doc: Document) -> dict:
    return {
        "source": doc.source,
        "source_id": doc.source_id,
        "kind": doc.kind,
        "ref_id": doc.ref_id,
        "url": doc.url[:300],
        "title": doc.title,
        "body": doc.body,
        "label": doc.label[:300],
        "category_id": doc.category_id,
        "author_id": doc.author_id,
        "has_offer": doc.has_offer,
        "hidden": doc.hidden,
        "created_at": doc.created_at or datetime.now(UTC),
    }


def index(source: str, ids: Iterable[int]) -> None:
    """Bring the documents of ``source`` rows ``ids`` in step with their owner: new ones
    added, changed ones rewritten, ones the owner no longer hands over removed."""
    wanted = sorted({int(i) for i in ids})
    owner = owners()[source]
    for start in range(0, len(wanted), BATCH):
        chunk = wanted[start : start + BATCH]
        docs, _last = owner(ids=chunk)
        by_id = {doc.source_id: doc for doc in docs}
        rows = db.session.scalars(
            select(SearchDocument).where(
                SearchDocument.source == source, SearchDocument.source_id.in_(chunk)
            )
        )
        stored = {row.source_id: row for row in rows}
        for source_id in chunk:
            doc, row = by_id.get(source_id), stored.get(source_id)
            if doc is None:
                if row is not None:
                    db.session.delete(row)
            elif row is None:
                db.session.add(SearchDocument(**_columns(doc)))
            else:
                for name, value in _columns(doc).items():
                    if getattr(row, name) != value:
                        setattr(row, name, value)
    db.session.flush()


def rebuild(sources: Iterable[str] | None = None, *, progress=None) -> dict[str, int]:
    """Rebuild the index of ``sources`` (all by default) from their owners, in batches
    of bulk inserts; returns the number of documents per source. For a new install,
    after a bulk load, or to repair. Commits after each batch."""
    counts = {}
    table = owners()
    for source in sources or table:
        db.session.execute(delete(SearchDocument).where(SearchDocument.source == source))
        after, count = 0, 0
        while True:
            docs, last = table[source](after=after, limit=BATCH)
            if docs:
                db.session.execute(insert(SearchDocument), [_columns(doc) for doc in docs])
                count += len(docs)
            db.session.commit()
            if progress:
                progress(source, count)
            if last is None:
                break
            after = last
        counts[source] = count
    return counts


def on_post_created(post, *, thread=None, **_extra) -> None:
    """A new post has no document yet: add its own (the board's rule says whether),
    from the objects in hand; no read back, no lookup (one INSERT at the flush). A post
    hidden as it was written (held for moderation) was indexed by its hiding already."""
    if post.hidden_at is not None:
        index("post", [post.id])
        return
    doc = board.post_document(post, thread or post.thread)
    if doc is not None:
        db.session.add(SearchDocument(**_columns(doc)))


# A chat send is the busiest write: its document's INSERT is built once and run at once
# (Core, no unit of work at the commit's flush; forum/chat/service/messages.py says why).
_INSERT_DOCUMENT = insert(SearchDocument.__table__)


def on_message_sent(message, *, room, **_extra) -> None:
    """A new message has no document yet: add its own (chat's rule says whether), from the
    objects in hand; no read back, no lookup (one INSERT)."""
    doc = chat.message_document(message, room)
    if doc is not None:
        db.session.execute(_INSERT_DOCUMENT, _columns(doc))


def on_review_changed(review, *, change: str) -> None:
    """A review's words or standing changed: its product's document carries them."""
    index("product", [review.product_id])


def on_search_stale(source: str, *, ids) -> None:
    if source == "thread":  # a thread moved or went: every post of it
        index("post", board.thread_post_ids(ids))
    else:
        index(source, ids)


# --- finding ---------------------------------------------------------------------------


def _split_last(q: str) -> tuple[str, str | None]:
    """``q`` without its last word, and that word when it may be a prefix (a bare
    word, not negated, not inside quotes)."""
    match = _LAST_WORD_RE.search(q)
    if match is None or q.count('"') % 2:
        return q, None
    return q[: match.start(1)], match.group(1)


def _pg_tsquery(q: str) -> ColumnElement:
    head, last = _split_last(q)
    if last is None:
        return func.websearch_to_tsquery(_PG_CONFIG, q)
    prefix = func.to_tsquery(_PG_CONFIG, last + ":*")
    if not head.strip():
        return prefix
    return func.websearch_to_tsquery(_PG_CONFIG, head).op("&&")(prefix)


def _fts5_match(words: list[str]) -> str:
    """Every word (AND), the last one as a prefix; each quoted, so nothing in the
    input is FTS5 syntax."""
    quoted = [f'"{word}"' for word in words]
    quoted[-1] += "*"
    return " ".join(quoted)


def _day(value, *, end: bool = False) -> datetime:
    at = datetime.combine(value, time.min, tzinfo=UTC)
    return at + timedelta(days=1) if end else at


def _filters(query: SearchQuery, viewer) -> list[ColumnElement[bool]]:
    """The query's filters, and what ``viewer`` may read: the board's category rule,
    hidden documents for moderators and their authors only."""
    doc = SearchDocument
    where: list[ColumnElement[bool]] = []
    if query.type:
        where.append(doc.kind == query.type)
    if query.category:
        try:
            category = board.get_category(query.category, viewer)
        except NotFound:
            raise field_error("category", "No such category.") from None
        where.append(doc.category_id == category.id)
    readable = board.readable_category_ids(viewer)
    if readable is not None:
        where.append(or_(doc.category_id.is_(None), doc.category_id.in_(sorted(readable))))
    if query.author:
        try:
            author = accounts.get_by_username(query.author)
        except NotFound:
            raise field_error("author", "No member has that name.") from None
        where.append(doc.author_id == author.id)
    if query.since and query.until and query.since > query.until:
        raise field_error("until", "The end date comes before the start date.")
    if query.since:
        where.append(doc.created_at >= _day(query.since))
    if query.until:
        where.append(doc.created_at < _day(query.until, end=True))
    if query.has_offer:
        where.append(doc.has_offer.is_(True))
    if not can_moderate(viewer):
        mine = doc.author_id == viewer.id if is_member(viewer) else false()
        where.append(or_(doc.hidden.is_(False), mine))
    return where


def _cursor(cursor: str | None) -> tuple[float, int] | None:
    after = decode(cursor, 2)
    if after is None:
        return None
    rank, last_id = after
    if not isinstance(rank, int | float) or isinstance(rank, bool) or not isinstance(last_id, int):
        raise field_error("cursor", "That cursor is not valid.")
    return float(rank), last_id


def _ranked_pg(q: str, where, after, limit: int) -> tuple[Select, ColumnElement]:
    tsquery = _pg_tsquery(q)
    # float8, so the cursor's rank (a Python float) compares equal to the row's
    rank = cast(func.ts_rank_cd(SearchDocument.tsv, tsquery), Float(53))
    stmt = select(SearchDocument.id, rank.label("rank")).where(
        SearchDocument.tsv.op("@@")(tsquery), *where
    )
    if after is not None:
        stmt = stmt.where(tuple_(rank, SearchDocument.id) < tuple_(*after))
    return stmt.order_by(rank.desc(), SearchDocument.id.desc()).limit(limit + 1), tsquery


def _ranked_sqlite(match: str, where, after, limit: int) -> Select:
    matched = (
        select(
            literal_column("search_fts.rowid").label("id"),
            literal_column("-bm25(search_fts, 10.0, 1.0)").label("rank"),
        )
        .select_from(text("search_fts"))
        .where(text("search_fts MATCH :match").bindparams(match=match))
        .subquery("matched")
    )
    stmt = (
        select(SearchDocument.id, matched.c.rank)
        .join(matched, matched.c.id == SearchDocument.id)
        .where(*where)
    )
    if after is not None:
        stmt = stmt.where(tuple_(matched.c.rank, SearchDocument.id) < tuple_(*after))
    return stmt.order_by(matched.c.rank.desc(), SearchDocument.id.desc()).limit(limit + 1)


def ranked_statement(query: SearchQuery, *, viewer=None, cursor=None, limit: int = 20) -> Select:
    """The one statement that finds a page (what :func:`search` runs; EXPLAIN it)."""
    return _plan(query, viewer, cursor, limit)[0]


def _plan(query: SearchQuery, viewer, cursor, limit):
    q = " ".join((query.q or "").split())
    words = WORD_RE.findall(q)[:MAX_WORDS]
    if not words:
        raise field_error("q", "Type at least one word to search for.")
    after = _cursor(cursor)
    where = _filters(query, viewer)
    if db.session.get_bind().dialect.name == "postgresql":
        stmt, tsquery = _ranked_pg(q, where, after, limit)
        return stmt, ("pg", tsquery)
    match = _fts5_match(words)
    return _ranked_sqlite(match, where, after, limit), ("sqlite", match)


_FROM_STANDINS = str.maketrans(TAG_STANDINS, TAG_CHARS)


def _marked(raw: str | None) -> str:
    """Escape the engine's text, then turn its match marks into ``<mark>``."""
    escaped = html.escape((raw or "").translate(_FROM_STANDINS), quote=False)
    opened = escaped.count(MARK_OPEN)
    out = escaped.replace(MARK_OPEN, "<mark>").replace(MARK_CLOSE, "</mark>")
    return out + "</mark>" * max(0, opened - escaped.count(MARK_CLOSE))


_EDGE = " \u01c2 "  # "ǂ", a letter nobody searches for


def _standins(column) -> ColumnElement:
    return func.translate(column, TAG_CHARS, TAG_STANDINS)


def _pg_headlines(tsquery) -> tuple[ColumnElement, ColumnElement]:
    """ts_headline of the title (all of it) and of the body (two fragments)."""
    title = func.ts_headline(
        _PG_CONFIG,
        # ts_headline drops leading and trailing non-words ("<b>"): a word either
        # side, taken off again, keeps the whole title
        _EDGE + _standins(SearchDocument.title) + _EDGE,
        tsquery,
        f"HighlightAll=true, StartSel={MARK_OPEN}, StopSel={MARK_CLOSE}",
    )
    return title, func.ts_headline(_PG_CONFIG, _standins(SearchDocument.body), tsquery, _HEADLINE)


def _pg_title(raw: str) -> str:
    return raw.strip().strip(_EDGE.strip()).strip()


def _fts5_highlights(match: str, ids: list[int]) -> dict[int, tuple[str, str]]:
    """(title, snippet) per document id, marked by FTS5."""
    if not ids:
        return {}
    rows = db.session.execute(
        text(
            "SELECT rowid, highlight(search_fts, 0, :o, :c), "
            "snippet(search_fts, 1, :o, :c, '…', 32) FROM search_fts "
            "WHERE search_fts MATCH :match AND rowid IN (SELECT value FROM json_each(:ids))"
        ),
        {"o": MARK_OPEN, "c": MARK_CLOSE, "match": match, "ids": str(ids)},
    )
    return {row[0]: (row[1], row[2]) for row in rows}


def _readable(rows: list[SearchDocument], viewer) -> list[SearchDocument]:
    """The owners' own rules, once more, on the page: a post the board would not show
    this viewer (deleted since, in a category they may not read) or a message of a room
    that is no longer public is left out."""
    posts = board.readable_post_ids([r.source_id for r in rows if r.source == "post"], viewer)
    messages = chat.public_message_ids([r.source_id for r in rows if r.source == "message"])
    allowed = {"post": posts, "message": messages}
    return [r for r in rows if r.source not in allowed or r.source_id in allowed[r.source]]


def search(
    query: SearchQuery, *, viewer=None, cursor: str | None = None, limit: int = 20
) -> Page[Hit]:
    """Documents matching ``query`` that ``viewer`` may read, best first, keyset-paginated
    on (rank, id). Raises ValidationFailed for no words, an unknown category or author,
    dates the wrong way round, a forged cursor."""
    stmt, (kind, matcher) = _plan(query, viewer, cursor, limit)
    if kind == "pg":
        # One round trip: the ranked page, its documents and their headlines (computed
        # for the page's rows only, outside the LIMIT).
        ranked = stmt.subquery("ranked")
        title_marks, body_marks = _pg_headlines(matcher)
        rows = db.session.execute(
            select(SearchDocument, ranked.c.rank, title_marks, body_marks)
            .join(ranked, ranked.c.id == SearchDocument.id)
            .order_by(ranked.c.rank.desc(), SearchDocument.id.desc())
        ).all()
        page = keyset_page(rows, limit, lambda row: encode([float(row[1]), row[0].id]))
        marks = {row[0].id: (_pg_title(row[2]), row[3]) for row in page.items}
        docs = [(row[0], float(row[1])) for row in page.items]
    else:
        ranked_rows = db.session.execute(stmt).all()
        page = keyset_page(ranked_rows, limit, lambda row: encode([float(row.rank), row.id]))
        ids = [row.id for row in page.items]
        found = (
            {
                d.id: d
                for d in db.session.scalars(
                    select(SearchDocument).where(SearchDocument.id.in_(ids))
                )
            }
            if ids
            else {}
        )
        docs = [(found[row.id], float(row.rank)) for row in page.items if row.id in found]
        marks = {}
    readable = {doc.id for doc in _readable([doc for doc, _rank in docs], viewer)}
    docs = [(doc, rank) for doc, rank in docs if doc.id in readable]
    if kind != "pg":
        marks = _fts5_highlights(matcher, [doc.id for doc, _rank in docs])
    hits = []
    for doc, rank in docs:
        title, snippet = (_marked(text) for text in marks.get(doc.id, ("", "")))
        hits.append(
            Hit(
                type=doc.kind,
                id=doc.ref_id,
                url=doc.url,
                title=title or html.escape(doc.label, quote=False),
                snippet=snippet,
                label=doc.label,
                author_id=doc.author_id,
                created_at=doc.created_at,
                rank=rank,
            )
        )
    return Page(hits, page.next_cursor)


def query_from(args) -> SearchQuery:
    """A :class:`SearchQuery` from request arguments (empty values are absent); raises
    ValidationFailed naming the fields that are wrong."""
    from pydantic import ValidationError

    values = {
        name: args.get(name)
        for name in ("q", "type", "category", "author", "since", "until")
        if args.get(name)
    }
    if args.get("has_offer") not in (None, "", "0", "false", "off"):
        values["has_offer"] = True
    try:
        return SearchQuery.model_validate(values, strict=False)
    except ValidationError as err:
        fields: dict[str, list[str]] = {}
        for problem in err.errors():
            name = str(problem["loc"][0]) if problem["loc"] else "q"
            fields.setdefault(name, []).append(_explain(name))
        from ..errors import ValidationFailed

        raise ValidationFailed("Check the search fields.", fields=fields) from None


def _explain(name: str) -> str:
    return {
        "q": "Use at most 200 characters.",
        "type": "Choose post, thread, product, event or message.",
        "since": "Use a date like 2026-01-31.",
        "until": "Use a date like 2026-01-31.",
    }.get(name, "This value is not valid.")
