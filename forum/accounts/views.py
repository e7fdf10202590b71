from collections.abc import Callable
from dataclasses import dataclass
from zoneinfo import available_timezones

from flask import (
    Blueprint,
    current_app,
    flash,
    redirect,
    render_template,
    session,
    url_for,
)
from flask_login import current_user, login_required, login_user, logout_user

from ..errors import ServiceError
from ..extensions import db, limiter, login_manager
from ..web import form_status, run_form, safe_next
from . import service
from .forms import LoginForm, PasswordForm, ProfileForm, RegisterForm, TokenForm

bp = Blueprint("accounts", __name__)

login_manager.login_view = "accounts.login"
login_manager.login_message = "Please log in to continue."
login_manager.login_message_category = "info"
login_manager.session_protection = "basic"


@login_manager.user_loader
def load_user(session_id: str):
    return service.load_session_user(session_id)


@login_manager.request_loader
def load_user_from_bearer(req):
    header = req.headers.get("Authorization", "")
    if header.startswith("Bearer "):
        return service.user_for_token(header[7:].strip())
    return None


def _start_session(user, remember: bool) -> None:
    session.clear()  # a fresh session at login: no fixation
    login_user(user, remember=remember)
    session.permanent = True


@bp.route("/register", methods=["GET", "POST"])
@limiter.limit(lambda: current_app.config["LOGIN_LIMIT_PER_IP"], methods=["POST"])
def register():
    if current_user.is_authenticated:
        return redirect(url_for("pages.home"))
    form = RegisterForm()
    done = run_form(
        form, lambda: service.register(form.username.data, form.email.data, form.password.data)
    )
    if done:
        _start_session(done.value, remember=False)
        flash(f"Welcome to Plaza, {done.value.username}!", "success")
        return redirect(safe_next(url_for("pages.home")))
    return render_template("accounts/register.html", form=form), form_status(form)


@bp.route("/login", methods=["GET", "POST"])
@limiter.limit(lambda: current_app.config["LOGIN_LIMIT_PER_IP"], methods=["POST"])
def login():
    if current_user.is_authenticated:
        return redirect(url_for("pages.home"))
    form = LoginForm()
    status = 200
    if form.validate_on_submit():
        try:
            user = service.authenticate(form.username.data, form.password.data)
        except ServiceError as err:
            form.form_errors.append(err.message)
            status = err.status
        else:
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


@dataclass(frozen=True)
class ProfileStat:
    label: str
    value: str
    href: str | None = None


# Later features add lines to a profile (attribution: what the member's posts earned)
# without this package knowing them: ``stat(user, viewer) -> ProfileStat | None``.
_profile_stats: list[Callable[..., ProfileStat | None]] = []


def profile_stat(func: Callable[..., ProfileStat | None]):
    if func not in _profile_stats:
        _profile_stats.append(func)
    return func


@bp.get("/u/<username>")
def profile(username: str):
    from ..board import service as board

    user = service.get_by_username(username)
    posts = board.recent_posts_by(user, viewer=current_user, limit=10)
    stats = [s for s in (stat(user, current_user) for stat in _profile_stats) if s is not None]
    return render_template("accounts/profile.html", user=user, posts=posts, stats=stats)


def _settings_page(
    user, *, form=None, password_form=None, token_form=None, new_token=None, status=200
):
    form = form or ProfileForm(obj=user, formdata=None)
    form.timezone.choices = ["UTC", *sorted(available_timezones() - {"UTC"})]
    return render_template(
        "accounts/settings.html",
        form=form,
        password_form=password_form or PasswordForm(prefix="pw", formdata=None),
        token_form=token_form or TokenForm(prefix="tok", formdata=None),
        new_token=new_token,
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


@bp.post("/settings/tokens")
@login_required
def create_token():
    user = current_user._get_current_object()
    token_form = TokenForm(prefix="tok")
    done = run_form(token_form, lambda: service.issue_token(user, token_form.name.data))
    return _settings_page(
        user,
        token_form=token_form,
        new_token=done.value if done else None,
        status=200 if done else 422,
    )
