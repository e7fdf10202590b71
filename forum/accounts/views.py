from functools import wraps
from zoneinfo import available_timezones

from flask import (
    Blueprint,
    abort,
    current_app,
    flash,
    g,
    redirect,
    render_template,
    request,
    session,
    url_for,
)
from flask_login import current_user, login_required, login_user, logout_user

from .. import signals
from ..board import service as board
from ..errors import ServiceError
from ..extensions import db, limiter, login_manager
from ..web import bring_coupon, brought_coupon, form_status, run_form, safe_next
from . import service
from .forms import AvatarForm, LoginForm, PasswordForm, ProfileForm, RegisterForm, TokenForm

bp = Blueprint("accounts", __name__)

login_manager.login_view = "accounts.login"
login_manager.login_message = "Please log in to continue."
login_manager.login_message_category = "info"
login_manager.session_protection = "basic"


def bearer_secret(req) -> str | None:
    """The token of an ``Authorization: Bearer`` header on an API request, else None."""
    if not req.path.startswith("/api/"):
        return None
    scheme, _, secret = req.headers.get("Authorization", "").partition(" ")
    return secret.strip() if scheme.lower() == "bearer" else None


@login_manager.user_loader
def load_user(session_id: str):
    # An API request that names a token is authenticated by that token alone: a cookie
    # riding along (ambient, forgeable cross-site) never stands in for a bad token.
    if bearer_secret(request) is not None:
        return None
    return service.load_session_user(session_id)


@login_manager.request_loader
def load_user_from_bearer(req):
    secret = bearer_secret(req)
    if secret is None:
        return None
    token = service.token_for_secret(secret)
    if token is None:
        return None
    g.api_token = token  # its scopes are checked by the API's before_request
    return token.user


def _start_session(user, remember: bool) -> None:
    brought = brought_coupon()  # a campaign link followed before logging in
    session.clear()  # a fresh session at login: no fixation
    login_user(user, remember=remember)
    session.permanent = True
    bring_coupon(brought)


def _register(form):
    from ..campaigns import service as campaigns
    from ..moderation import service as moderation

    accepted = moderation.check_guidelines_accepted(form.accept_guidelines.data)
    user = service.register(
        form.username.data, form.email.data, form.password.data, guidelines_accepted_at=accepted
    )
    campaigns.on_registered(user)  # the verification email, sent after commit
    return user


def _signing_in(view):
    """A page that lets a visitor in (register, log in): its POSTs are rate-limited per
    address, and a member who is already in is sent home instead."""

    @wraps(view)
    def guest_only(*args, **kwargs):
        if current_user.is_authenticated:
            return redirect(url_for("pages.home"))
        return view(*args, **kwargs)

    return limiter.limit(lambda: current_app.config["LOGIN_LIMIT_PER_IP"], methods=["POST"])(
        guest_only
    )


@bp.route("/register", methods=["GET", "POST"])
@_signing_in
def register():
    form = RegisterForm()
    done = run_form(form, lambda: _register(form))
    if done:
        _start_session(done.value, remember=False)
        flash(f"Welcome to Plaza, {done.value.username}!", "success")
        return redirect(safe_next(url_for("pages.home")))
    from ..moderation import service as moderation

    return render_template(
        "accounts/register.html", form=form, guidelines=moderation.guidelines_html()
    ), form_status(form)


@bp.route("/login", methods=["GET", "POST"])
@_signing_in
def login():
    form = LoginForm()
    status = 200
    if form.validate_on_submit():
        try:
            user = service.authenticate(
                form.username.data, form.password.data, address=request.remote_addr
            )
        except ServiceError as err:
            form.form_errors.append(err.message)
            status = err.status
        else:
            db.session.commit()  # a hash upgraded to the current parameters
            _start_session(user, remember=form.remember.data)
            return redirect(safe_next(url_for("pages.home")))
    elif form.is_submitted():
        status = 422
    return render_template("accounts/login.html", form=form), status


@bp.post("/logout")
@login_required
def logout():
    """Ends every session of this user (all devices), not only this cookie."""
    service.end_all_sessions(current_user._get_current_object())
    db.session.commit()
    logout_user()
    session.clear()
    flash("You are logged out.", "info")
    return redirect(url_for("pages.home"))


@bp.get("/u/<username>")
def profile(username: str):
    user = service.get_by_username(username)
    posts = board.recent_posts_by(user, viewer=current_user, limit=10)
    # Other features add lines (attribution: what the member's posts earned) by answering
    # ``signals.profile_shown`` with a ProfileStat, without this package knowing them.
    answers = signals.profile_shown.send(user, viewer=current_user)
    stats = [stat for _receiver, stat in answers if isinstance(stat, service.ProfileStat)]
    return render_template("accounts/profile.html", user=user, posts=posts, stats=stats)


def _settings_page(user, *, form=None, password_form=None, avatar_form=None, status=200):
    form = form or ProfileForm(obj=user, formdata=None)
    form.timezone.choices = ["UTC", *sorted(available_timezones() - {"UTC"})]
    return render_template(
        "accounts/settings.html",
        form=form,
        password_form=password_form or PasswordForm(prefix="pw", formdata=None),
        avatar_form=avatar_form or AvatarForm(prefix="av", formdata=None),
    ), status


@bp.route("/settings", methods=["GET", "POST"])
@login_required
def settings():
    user = current_user._get_current_object()
    form = ProfileForm(obj=user)
    form.timezone.choices = ["UTC", *sorted(available_timezones() - {"UTC"})]
    if run_form(
        form, lambda: service.update_profile(user, bio=form.bio.data, timezone=form.timezone.data)
    ):
        flash("Profile saved.", "success")
        return redirect(url_for("accounts.settings"))
    return _settings_page(user, form=form, status=form_status(form))


@bp.get("/avatars/<name>")
def avatar(name: str):
    try:
        return service.send_avatar(name)
    except ServiceError:
        abort(404)


@bp.post("/settings/avatar")
@login_required
def upload_avatar():
    """A new avatar through the one upload pipeline (a plain multipart form)."""
    user = current_user._get_current_object()
    avatar_form = AvatarForm(prefix="av")
    done = run_form(
        avatar_form,
        lambda: service.set_avatar(user, service.read_avatar(avatar_form.avatar.data.stream)),
    )
    if done:
        flash("Avatar saved.", "success")
        return redirect(url_for("accounts.settings"))
    return _settings_page(user, avatar_form=avatar_form, status=422)


@bp.post("/settings/avatar/remove")
@login_required
def remove_avatar():
    service.remove_avatar(current_user._get_current_object())
    db.session.commit()
    flash("Avatar removed; your initials are shown again.", "success")
    return redirect(url_for("accounts.settings"))


@bp.post("/settings/password")
@login_required
def change_password():
    user = current_user._get_current_object()
    password_form = PasswordForm(prefix="pw")
    change = lambda: service.change_password(  # noqa: E731
        user, password_form.current_password.data, password_form.new_password.data
    )
    if run_form(password_form, change):
        # Every other session is now over; keep this one by logging in afresh.
        _start_session(user, remember=False)
        flash("Password changed. Other devices have been logged out.", "success")
        return redirect(url_for("accounts.settings"))
    return _settings_page(user, password_form=password_form, status=422)


def _token_form(user, formdata=True) -> TokenForm:
    form = TokenForm(prefix="tok") if formdata else TokenForm(prefix="tok", formdata=None)
    form.scopes.choices = [(scope, scope) for scope in service.default_scopes(user)]
    if not form.is_submitted() or not formdata:
        form.scopes.data = ["read", "write"]
    return form


def _tokens_page(user, *, token_form=None, new_token=None, status=200):
    return render_template(
        "accounts/tokens.html",
        tokens=service.list_tokens(user),
        token_form=token_form or _token_form(user, formdata=False),
        new_token=new_token,
    ), status


@bp.get("/settings/tokens")
@login_required
def tokens():
    return _tokens_page(current_user._get_current_object())


@bp.post("/settings/tokens")
@login_required
def create_token():
    user = current_user._get_current_object()
    token_form = _token_form(user)
    done = run_form(
        token_form,
        lambda: service.create_token(user, token_form.name.data, token_form.scopes.data or None),
    )
    return _tokens_page(
        user,
        token_form=token_form,
        new_token=done.value[1] if done else None,
        status=200 if done else 422,
    )


@bp.post("/settings/tokens/<int:token_id>/revoke")
@login_required
def revoke_token(token_id: int):
    user = current_user._get_current_object()
    token = service.revoke_token(user, token_id)
    db.session.commit()
    flash(f"Token “{token.name}” revoked; it no longer works.", "success")
    return redirect(url_for("accounts.tokens"))
