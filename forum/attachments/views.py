"""HTML entry points: serve an image, upload one with a plain form (no script needed),
delete one's own."""

from flask import Blueprint, abort, flash, redirect, render_template, url_for
from flask_login import current_user, login_required

from ..errors import NotFound
from ..extensions import db
from ..web import form_status, run_form
from . import service
from .forms import UploadForm

bp = Blueprint("attachments", __name__)


@bp.get("/media/<name>")
def media(name: str):
    try:
        return service.send(name)
    except NotFound:
        abort(404)


@bp.get("/media/thumbs/<name>")
def thumbnail(name: str):
    try:
        return service.send_thumbnail(name)
    except NotFound:
        abort(404)


@bp.route("/media/upload", methods=["GET", "POST"])
@login_required
def upload():
    form = UploadForm()
    done = run_form(
        form,
        lambda: service.upload(
            current_user._get_current_object(), service.read_limited(form.image.data.stream)
        ),
    )
    if done:
        flash("Uploaded: copy its Markdown into your post.")
        return redirect(url_for("attachments.upload"))
    return render_template(
        "attachments/upload.html",
        form=form,
        images=service.mine(current_user),
        markdown_of=service.markdown_of,
        url_of=service.url_of,
    ), form_status(form)


@bp.post("/media/<int:attachment_id>/delete")
@login_required
def delete(attachment_id: int):
    service.delete(current_user._get_current_object(), attachment_id)
    db.session.commit()
    flash("Image deleted.")
    return redirect(url_for("attachments.upload"))
