"""SQL statements per reply and per member's front page: the peer kit's reply row and a
signed-in reader's list are mostly these. The bounds are today's counts; a change that
needs more must say why here. ``python -m tests.bench.profile_reply`` prints a reply's.
"""

from tests.conftest import login

# The reader (Flask-Login), the thread, its category, its held-opening check, the
# first-post setting; the position, the post, the thread's last post, the author's and
# the category's counts, the thread read back; watchers (muted and watching at once);
# the thread author's bell (mutes, the open group, its update, the unread count); trust
# (the counters, the day's visit, the newcomer, the welcomer mark and its count, the
# rules, the counters row: the next level is out of reach, so no visit or flag counts);
# attribution (a savepoint around one update); the author's read mark and the bell it
# clears; the author's watch; the search document; the author's drafts (two).
REPLY_STATEMENTS = 32
# The reader, the hidden categories (list, sidebar, suggestions), the threads with their
# authors, their categories (one query for all), read marks, the category sidebar and
# the suggestions.
FRONT_PAGE_STATEMENTS = 9


def _counted(statements: list[str]) -> list[str]:
    return [s for s in statements if not s.startswith(("BEGIN", "COMMIT", "ROLLBACK"))]


def test_a_reply_stays_within_its_statement_budget(
    app, client, make_user, make_thread, count_queries
):
    starter, replier = make_user("starter"), make_user("replier")
    thread_id = make_thread(starter, title="Budgeted thread")
    login(client, replier)
    assert (
        client.post(f"/t/{thread_id}/reply", data={"body": "the first writes more"}).status_code
        == 302
    )
    with count_queries() as statements:
        response = client.post(f"/t/{thread_id}/reply", data={"body": "A **second** reply"})
    assert response.status_code == 302
    assert len(_counted(statements)) <= REPLY_STATEMENTS, _counted(statements)


def test_the_front_page_loads_every_threads_category_in_one_query(
    app, client, make_user, make_category, make_thread, count_queries
):
    author = make_user("writer")
    for n in range(6):  # six categories, a thread in each: still one category query
        make_thread(author, title=f"Thread in place {n}", category_id=make_category(f"place-{n}"))
    login(client, author)
    client.get("/")
    with count_queries() as statements:
        response = client.get("/")
    assert response.status_code == 200
    html = response.get_data(as_text=True)
    assert all(f"Thread in place {n}" in html for n in range(6))
    counted = _counted(statements)
    per_row = [s for s in counted if "FROM categories" in s and "WHERE categories.id = " in s]
    assert per_row == [], per_row
    assert len(counted) <= FRONT_PAGE_STATEMENTS, counted
