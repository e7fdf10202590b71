from flask import (
    Blueprint,
    abort,
    flash,
    jsonify,
    make_response,
    redirect,
    render_template,
    request,
    url_for,
)
from flask_login import current_user, login_required

from .. import pagecache, signals
from ..embeds import EmbedContext, preload
from ..errors import ServiceError
from ..extensions import db
from ..web import form_status, run_form
from . import service
from .forms import CategoryForm, EditForm, MoveForm, ReplyForm, ThreadForm, TitleForm
from .schemas import dump_read_mark

bp = Blueprint("board", __name__)


def post_context(post) -> EmbedContext:
    return EmbedContext("post", post.id, post.author_id)


@bp.get("/c/<slug>")
def category(slug: str):
    cat = service.get_category(slug, current_user)
    args = request.args

    def render_list() -> str:
        shown = service.listing(args, cat, viewer=current_user)
        return render_template(
            "board/_thread_list.html",
            page=shown.page,
            view=shown.view,
            period=shown.period,
            states=shown.states,
        )

    thread_list, validators = pagecache.thread_list(
        pagecache.list_key(f"category:{cat.id}", args), render_list
    )
    if (unchanged := pagecache.not_modified(validators)) is not None:
        return unchanged
    page = render_template(
        "board/category.html",
        category=cat,
        thread_list=thread_list,
        view=args.get("view", "latest"),
        period=args.get("period", "week"),
        level=service.category_level(current_user, cat),
    )
    return pagecache.conditional(make_response(page), validators)


@bp.route("/c/<slug>/new", methods=["GET", "POST"])
@login_required
def new_thread(slug: str):
    cat = service.get_category(slug, current_user)
    if cat.experience_reports:  # a report is tied to a purchase: its own composer
        return redirect(url_for("reviews.new_report", category=cat.slug))
    form = ThreadForm()
    done = run_form(
        form, lambda: service.create_thread(current_user, cat, form.title.data, form.body.data)
    )
    if done:
        return redirect(url_for("board.thread", thread_id=done.value.id))
    return render_template("board/new_thread.html", category=cat, form=form), form_status(form)


@bp.get("/t/<int:thread_id>")
def thread(thread_id: int):
    item = service.get_thread(thread_id, viewer=current_user)
    pages = service.page_count(item)
    asked = request.args.get("page", "1")
    if not asked.isdigit() or not 1 <= int(asked) <= pages:
        if asked == "last":
            return redirect(url_for("board.thread", thread_id=thread_id, page=pages))
        abort(404)
    page = int(asked)
    move_form = None
    if service.can_moderate(current_user):
        move_form = MoveForm()
        move_form.category.choices = [
            (c.slug, c.name) for c in service.list_categories(current_user)
        ]
        move_form.category.data = item.category.slug
    # Only members see the reply form: building one makes a CSRF token, hence a session.
    form = ReplyForm() if current_user.is_authenticated else None
    return _render_thread(item, page, pages, form, move_form)


def _render_thread(item, page: int, pages: int, form: ReplyForm | None, move_form) -> str:
    """The thread page at ``page``, with the reply form as it stands."""
    posts = service.posts_on_page(item, page, viewer=current_user)
    preload(post.body_html for post in posts)
    return render_template(
        "board/thread.html",
        # Shown above the posts by other features (reviews: "bought this" on a report).
        banners=[
            answer
            for _receiver, answer in signals.thread_shown.send(item, viewer=current_user)
            if answer
        ],
        thread=item,
        posts=posts,
        page=page,
        pages=pages,
        liked=service.liked_post_ids(current_user, [p.id for p in posts]),
        level=service.thread_level(current_user, item),
        form=form,
        move_form=move_form,
        post_context=post_context,
    )


@bp.get("/t/<int:thread_id>/unread")
def first_unread(thread_id: int):
    """Open a thread where the viewer left off: the first post after the last one read."""
    item = service.get_thread(thread_id, viewer=current_user)
    post = service.first_unread_post(current_user, item)
    if post is None:
        return redirect(url_for("board.thread", thread_id=item.id))
    return redirect(
        url_for(
            "board.thread", thread_id=item.id, page=service.page_of(post), _anchor=f"post-{post.id}"
        )
    )


@bp.post("/t/<int:thread_id>/read")
@login_required
def mark_read(thread_id: int):
    """The thread page's beacon: the viewer has read up to ``position``."""
    item = service.get_thread(thread_id, viewer=current_user)
    raw = request.form.get("position", "")
    try:
        mark = service.mark_read(
            current_user, item, int(raw) if raw.isascii() and raw.isdigit() else raw
        )
    except ServiceError as err:
        return jsonify(err.to_dict()), err.status
    db.session.commit()
    return jsonify(dump_read_mark(item, mark))


@bp.post("/t/<int:thread_id>/watch")
@login_required
def watch_thread(thread_id: int):
    item = service.get_thread(thread_id, viewer=current_user)
    return _set_level(
        lambda: service.set_thread_level(current_user, item, request.form.get("level")),
        url_for("board.thread", thread_id=item.id),
    )


@bp.post("/c/<slug>/watch")
@login_required
def watch_category(slug: str):
    cat = service.get_category(slug)
    return _set_level(
        lambda: service.set_category_level(current_user, cat, request.form.get("level")),
        url_for("board.category", slug=cat.slug),
    )


def _set_level(change, back: str):
    try:
        level = change()
    except ServiceError as err:
        if request.accept_mimetypes.best == "application/json":
            return jsonify(err.to_dict()), err.status
        flash(err.message, "error")
        return redirect(back)
    db.session.commit()
    if request.accept_mimetypes.best == "application/json":
        return jsonify({"level": level})
    flash(f"Notifications: {level}.", "success")
    return redirect(back)


@bp.post("/t/<int:thread_id>/reply")
@login_required
def reply(thread_id: int):
    item = service.get_thread(thread_id, viewer=current_user)
    form = ReplyForm()
    # The new post's id, read before the commit expires the post (no read back).
    done = run_form(
        form,
        lambda: (
            service.reply(current_user, item, form.body.data, reply_to_id=form.reply_to.data).id
        ),
    )
    if done:
        return redirect(url_for("board.goto_post", post_id=done.value))
    pages = service.page_count(item)
    return _render_thread(item, pages, pages, form, None), 422


@bp.get("/p/<int:post_id>")
def goto_post(post_id: int):
    post = service.visible_post(post_id, viewer=current_user)
    return redirect(
        url_for(
            "board.thread",
            thread_id=post.thread_id,
            page=service.page_of(post),
            _anchor=f"post-{post.id}",
        )
    )


@bp.get("/t/<int:thread_id>/fragment/<int:post_id>")
def post_fragment(thread_id: int, post_id: int):
    """One rendered post, for live insertion when a reply arrives."""
    post = service.visible_post(post_id, viewer=current_user)
    if post.thread_id != thread_id:
        abort(404)
    preload([post.body_html])
    return render_template(
        "board/_post.html",
        post=post,
        thread=post.thread,
        liked=service.liked_post_ids(current_user, [post.id]),
        post_context=post_context,
    )


@bp.route("/p/<int:post_id>/edit", methods=["GET", "POST"])
@login_required
def edit_post(post_id: int):
    post = service.post_to_change(post_id, current_user)
    service.check_can_change(current_user, post)
    form = EditForm(obj=post)
    if run_form(form, lambda: service.edit_post(current_user, post, form.body.data)):
        return redirect(url_for("board.goto_post", post_id=post.id))
    return render_template("board/edit_post.html", post=post, form=form), form_status(form)


@bp.route("/t/<int:thread_id>/title", methods=["GET", "POST"])
@login_required
def edit_title(thread_id: int):
    thread = service.get_thread(thread_id, viewer=current_user)
    service.check_can_rename(current_user, thread)
    form = TitleForm(obj=thread)
    done = run_form(
        form,
        lambda: service.rename_thread(current_user, thread, form.title.data, form.reason.data),
    )
    if done:
        return redirect(url_for("board.thread", thread_id=thread.id))
    return render_template(
        "board/edit_title.html",
        thread=thread,
        form=form,
        revisions=service.title_revisions(thread),
        needs_reason=current_user.id != thread.author_id,
    ), form_status(form)


@bp.get("/p/<int:post_id>/revisions")
def revisions(post_id: int):
    post = service.visible_post(post_id, viewer=current_user)
    return render_template("board/revisions.html", post=post, revisions=service.revisions(post))


@bp.post("/p/<int:post_id>/delete")
@login_required
def delete_post(post_id: int):
    post = service.post_to_change(post_id, current_user)
    thread_id = post.thread_id
    service.delete_post(current_user, post, request.form.get("reason", ""))
    db.session.commit()
    if post.position == 1:
        return redirect(url_for("board.category", slug=post.thread.category.slug))
    return redirect(url_for("board.thread", thread_id=thread_id, page=service.page_of(post)))


@bp.post("/p/<int:post_id>/like")
@login_required
def toggle_like(post_id: int):
    post = service.visible_post(post_id, viewer=current_user)
    if post.id in service.liked_post_ids(current_user, [post.id]):
        count, liked = service.unlike(current_user, post), False
    else:
        count, liked = service.like(current_user, post), True
    db.session.commit()
    if request.accept_mimetypes.best == "application/json":
        return jsonify({"liked": liked, "like_count": count})
    return redirect(url_for("board.goto_post", post_id=post.id))


@bp.post("/preview")
@login_required
def preview():
    try:
        return jsonify({"html": service.preview(current_user, request.form.get("body", ""))})
    except ServiceError as err:  # always JSON: the composer's script reads the message
        return jsonify(err.to_dict()), err.status


@bp.route("/admin/categories", methods=["GET", "POST"])
@login_required
def admin_categories():
    if not current_user.is_admin:
        abort(403)
    form = CategoryForm()
    if run_form(
        form,
        lambda: service.create_category(
            current_user, form.slug.data, form.name.data, form.description.data or ""
        ),
    ):
        return redirect(url_for("board.admin_categories"))
    return render_template(
        "board/admin_categories.html", form=form, categories=service.list_categories(current_user)
    ), (422 if form.is_submitted() and form.errors else 200)


@bp.post("/admin/categories/<slug>/edit")
@login_required
def edit_category(slug: str):
    """Edit, reorder, archive a category and set who may read and post in it."""
    if not current_user.is_admin:
        abort(403)
    category = service.get_category(slug, current_user)
    form = request.form
    raw_position = form.get("position", "")
    values = {
        "name": form.get("name"),
        "description": form.get("description"),
        "position": int(raw_position)
        if raw_position.isdigit() and len(raw_position) < 6
        else raw_position or None,
        "archived": form.get("archived") == "y",
        **{
            key: form.getlist(key)
            for key in ("read_roles", "read_tiers", "post_roles", "post_tiers")
        },
        **{
            key: int(form[key])
            if form.get(key, "").isdigit() and len(form[key]) < 3
            else form.get(key)
            for key in ("read_min_trust", "post_min_trust")
        },
    }
    try:
        service.update_category(current_user, category, **values)
        db.session.commit()
        flash(f"“{category.name}” saved.", "success")
    except ServiceError as err:
        db.session.rollback()
        flash(
            " ".join([err.message, *(f"{k}: {' '.join(v)}" for k, v in err.fields.items())]),
            "error",
        )
    return redirect(url_for("board.admin_categories"), 303)
