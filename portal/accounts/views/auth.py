"""Sign-in, sign-out, forgotten password and accepting an invitation."""
from __future__ import annotations

from flask import Blueprint, current_app, flash, redirect, render_template, request, url_for
from flask_login import current_user, login_required
from sqlmodel import select

from portal import audit, db, mail
from portal.accounts import service as accounts
from portal.accounts import sessions, throttle, tokens
from portal.accounts.forms import ForgotPasswordForm, NewPasswordForm, SignInForm
from portal.accounts.passwords import hash_password, needs_rehash, verify_password
from portal.forms import ConfirmForm
from portal.models import User
from portal.web.common import rejected_status, safe_next

bp = Blueprint("auth", __name__)

WRONG_CREDENTIALS = "Het e-mailadres of het wachtwoord is onjuist."


@bp.route("/inloggen", methods=["GET", "POST"])
def sign_in():
    if current_user.is_authenticated:
        return redirect(url_for("home.index"))
    form = SignInForm()
    status = 200
    if request.method == "POST":
        status = rejected_status(form) or _attempt_sign_in(form)
        if status is None:
            return redirect(safe_next(request.args.get("next")) or url_for("home.index"))
    return render_template("auth/sign_in.html", form=form), status


def _attempt_sign_in(form) -> int | None:
    """Sign in, or put the reason on the form and return the status code."""
    email = form.email.data.strip().lower()
    client = audit.client_address() or "-"
    session = db.session()
    if throttle.is_throttled(email, client):
        audit.record_now("auth.sign_in_throttled", f"Inlogpoging voor {email} afgeremd na te veel fouten",
                         details={"email": email})
        form.form_errors.append("U hebt te vaak een onjuist wachtwoord ingevuld. Wacht een kwartier "
                                "en probeer het dan opnieuw, of vraag een nieuw wachtwoord aan.")
        return 429
    user = session.exec(select(User).where(User.email == email)).first()
    password_ok = verify_password(user.password_hash if user else None, form.password.data)
    reason = ("unknown_email" if user is None else "wrong_password" if not password_ok
              else "inactive" if not user.is_active else None)
    memberships = sessions.memberships_of(user) if user else []
    # Events about a known account belong to its region, so its contract managers see them.
    region_id = memberships[0][1].region_id if memberships else None
    if reason is None and not memberships:
        reason = "no_membership"
    if reason:
        throttle.record_failure(email, client)
        audit.record("auth.sign_in_failed", f"Mislukte inlogpoging voor {email}",
                     details={"email": email, "reason": reason}, actor=user if user else None,
                     object_type="user", object_id=user.id if user else None, region_id=region_id)
        session.commit()
        if reason == "no_membership":
            form.form_errors.append("Uw account hoort (nog) bij geen actieve organisatie. "
                                    "Neem contact op met de beheerder van uw organisatie.")
            return 403
        form.form_errors.append(WRONG_CREDENTIALS)
        return 401
    if needs_rehash(user.password_hash):
        user.password_hash = hash_password(form.password.data)
        session.add(user)
    throttle.clear_failures(email, client)
    audit.record("auth.signed_in", f"{email} ingelogd", actor=user, object_type="user", object_id=user.id,
                 region_id=region_id)
    session.commit()
    sessions.start_session(user, client)
    return None


@bp.route("/uitloggen", methods=["POST"])
@login_required
def sign_out():
    form = ConfirmForm()
    if rejected_status(form):
        return redirect(url_for("home.index"))
    audit.record("auth.signed_out", f"{current_user.email} uitgelogd", object_type="user",
                 object_id=current_user.id)
    db.session().commit()
    sessions.end_session(current_user._get_current_object())
    flash("U bent uitgelogd.", "success")
    return redirect(url_for("auth.sign_in"))


@bp.route("/wachtwoord-vergeten", methods=["GET", "POST"])
def forgot_password():
    form = ForgotPasswordForm()
    if request.method == "POST":
        status = rejected_status(form)
        if status:
            return render_template("auth/forgot_password.html", form=form), status
        session = db.session()
        user = session.exec(select(User).where(User.email == form.email.data)).first()
        if user is not None and user.is_active:
            link = url_for("auth.reset_password", token=tokens.make_token(tokens.PASSWORD_RESET, user),
                           _external=True)
            minutes = current_app.config["PASSWORD_RESET_MAX_AGE"] // 60
            mail.send_mail(user.email, "Nieuw wachtwoord voor het aanbiedersportaal",
                           f"Beste {user.name},\n\nVia deze link kiest u een nieuw wachtwoord. De link "
                           f"werkt één keer en is {minutes} minuten geldig:\n\n{link}\n\n"
                           f"Hebt u dit niet zelf aangevraagd? Dan kunt u deze e-mail negeren.\n")
            audit.record("auth.password_reset_requested", f"Wachtwoordherstel aangevraagd voor {user.email}",
                         actor=user, object_type="user", object_id=user.id)
        else:
            audit.record("auth.password_reset_unknown", "Wachtwoordherstel aangevraagd voor onbekend adres",
                         details={"email": form.email.data})
        session.commit()
        # The same answer whether or not the address is known: nobody learns who has an account.
        flash("Als dit e-mailadres bij ons bekend is, ontvangt u binnen enkele minuten een e-mail "
              "met een link om een nieuw wachtwoord te kiezen.", "success")
        return redirect(url_for("auth.sign_in"))
    return render_template("auth/forgot_password.html", form=form)


def _token_page(purpose: str, token: str, template: str, success_message: str, action: str):
    try:
        user, token_id = tokens.read_token(purpose, token)
    except tokens.TokenError as error:
        audit.record_now("auth.token_refused", f"Link geweigerd ({purpose}): {error.reason}",
                         details={"purpose": purpose, "reason": error.reason})
        status = 410 if error.reason in ("expired", "reused") else 400
        return render_template("auth/token_error.html", message=error.message, purpose=purpose), status
    form = NewPasswordForm()
    form._email = user.email
    if request.method == "POST":
        status = rejected_status(form)
        if status:
            return render_template(template, form=form, user=user), status
        try:
            tokens.spend_token(purpose, token_id)
        except tokens.TokenError as error:
            return render_template("auth/token_error.html", message=error.message, purpose=purpose), 410
        accounts.set_password(user, form.password.data)
        audit.record(action, f"Wachtwoord ingesteld voor {user.email}", actor=user,
                     object_type="user", object_id=user.id)
        db.session().commit()
        flash(success_message, "success")
        return redirect(url_for("auth.sign_in"))
    return render_template(template, form=form, user=user)


@bp.route("/wachtwoord-herstellen/<token>", methods=["GET", "POST"])
def reset_password(token):
    return _token_page(tokens.PASSWORD_RESET, token, "auth/reset_password.html",
                       "Uw wachtwoord is gewijzigd. Log in met uw nieuwe wachtwoord.", "auth.password_reset")


@bp.route("/uitnodiging/<token>", methods=["GET", "POST"])
def accept_invitation(token):
    return _token_page(tokens.INVITATION, token, "auth/accept_invitation.html",
                       "Welkom! Uw account is klaar. Log in met uw e-mailadres en nieuwe wachtwoord.",
                       "auth.invitation_accepted")
