"""Outgoing mail through a pluggable backend.

Every message is first written to the outbox table (so it is on record); the backend named by
``PORTAL_MAIL_BACKEND`` then delivers it: ``outbox`` (default) keeps it there and, in development,
echoes it to the console; ``smtp`` sends it to ``PORTAL_SMTP_HOST:PORTAL_SMTP_PORT``; any other
value is a dotted path ``module:callable`` taking ``(app, MailMessage)``.
"""
from __future__ import annotations

import importlib
import smtplib
import sys
from email.message import EmailMessage

from flask import current_app

from portal import db
from portal.models import MailMessage, utcnow


def _outbox_backend(app, message: MailMessage) -> None:
    if app.config["MAIL_ECHO"]:
        print(
            f"--- e-mail aan {message.recipient} ---\nOnderwerp: {message.subject}\n\n{message.body}\n---",
            file=sys.stderr,
        )


def _smtp_backend(app, message: MailMessage) -> None:
    email = EmailMessage()
    email["From"] = app.config["MAIL_SENDER"]
    email["To"] = message.recipient
    email["Subject"] = message.subject
    email.set_content(message.body)
    with smtplib.SMTP(app.config["SMTP_HOST"], int(app.config["SMTP_PORT"]), timeout=10) as smtp:
        smtp.send_message(email)
    message.sent_at = utcnow()


BACKENDS = {"outbox": _outbox_backend, "smtp": _smtp_backend}


def _backend(name: str):
    if name in BACKENDS:
        return BACKENDS[name]
    module_name, _, attribute = name.partition(":")
    return getattr(importlib.import_module(module_name), attribute)


def send_mail(recipient: str, subject: str, body: str) -> MailMessage:
    """Record the message in the outbox and hand it to the backend (caller commits)."""
    app = current_app._get_current_object()
    message = MailMessage(recipient=recipient, subject=subject, body=body)
    session = db.session()
    session.add(message)
    _backend(app.config["MAIL_BACKEND"])(app, message)
    return message
