"""Command-line tools: ``flask --app wsgi db-upgrade``, ``flask --app wsgi demo`` and
``flask --app wsgi token create|revoke|list`` (API tokens)."""
from __future__ import annotations

from pathlib import Path
from typing import NoReturn

import click
from flask import current_app
from flask.cli import AppGroup

from portal import migrate, roles


def init_app(app) -> None:
    app.cli.add_command(token_group)

    @app.cli.command("db-upgrade")
    def db_upgrade():
        """Upgrade the database to the newest schema (Alembic head)."""
        migrate.upgrade(current_app.config["DATABASE_URL"])
        click.echo("Database bijgewerkt tot de nieuwste versie.")

    @app.cli.command("demo")
    @click.option("--password", help="Wachtwoord voor alle demogebruikers (minstens 12 tekens).")
    def demo(password):
        """Migrate the database and load the demo region Noord-Limburg (idempotent)."""
        from portal.demo import load_demo, write_accounts_file

        if password is not None and len(password) < current_app.config["PASSWORD_MIN_LENGTH"]:
            raise click.BadParameter(
                f"kies minstens {current_app.config['PASSWORD_MIN_LENGTH']} tekens.", param_hint="--password")
        migrate.upgrade(current_app.config["DATABASE_URL"])
        accounts, new_password = load_demo(password)
        path = Path(current_app.instance_path) / "demo-accounts.json"
        write_accounts_file(path, accounts)
        click.echo("Demoregio Noord-Limburg geladen. Accounts:")
        for account in accounts:
            click.echo(f"  {account.email:48} {roles.LABELS[account.role]:28} {account.organisation}")
        if new_password:
            click.echo(f"Wachtwoord voor alle demogebruikers: {new_password}")
        else:
            click.echo("Wachtwoorden zijn niet gewijzigd (geef --password om ze te zetten).")
        click.echo(f"Overzicht geschreven naar {path}")


# --- API tokens ------------------------------------------------------------------------------

token_group = AppGroup("token", help="API-sleutels (bearer tokens) maken, intrekken en tonen.")


def _fail(message: str) -> NoReturn:
    """A refusal: the message on stderr, exit code 2 (as click does for a usage error)."""
    click.echo(f"Fout: {message}", err=True)
    raise click.exceptions.Exit(2)


def _user_by_email(email: str):
    from sqlalchemy import func
    from sqlmodel import select

    from portal import db
    from portal.models import User

    user = db.session().exec(select(User).where(func.lower(User.email) == email.strip().lower())).first()
    if user is None:
        _fail(f"Er is geen account met het e-mailadres {email}.")
    return user


@token_group.command("create")
@click.argument("email")
@click.option("--label", default="", help="Waarvoor de sleutel dient, bijvoorbeeld 'koppeling ECD'.")
@click.option("--organisation", default=None,
              help="Naam van de organisatie waarvoor de sleutel werkt (nodig als het account voor meer "
                   "organisaties werkt).")
def token_create(email, label, organisation):
    """Make an API token for the account EMAIL; prints only the token on stdout (shown once)."""
    from portal import api_tokens, db
    from portal.validators import RuleViolation

    user = _user_by_email(email)
    try:
        membership = api_tokens.membership_for(user, organisation)
        token, plain = api_tokens.create_token(user, membership, label, via="opdrachtregel")
    except RuleViolation as error:
        db.session().rollback()
        _fail(error.message)
    db.session().commit()
    click.echo(f"API-sleutel {token.id} (kenmerk {api_tokens.fingerprint(token)}) gemaakt voor {user.email}. "
               "Bewaar hem nu: hij wordt niet nog eens getoond.", err=True)
    click.echo(plain)


@token_group.command("revoke")
@click.argument("token_id_or_prefix")
def token_revoke(token_id_or_prefix):
    """Revoke a token, named by its number, its fingerprint (or a prefix of it) or the token itself."""
    from portal import api_tokens, db
    from portal.validators import RuleViolation

    try:
        token = api_tokens.find_token(token_id_or_prefix)
        api_tokens.revoke_token(token, via="opdrachtregel")
    except RuleViolation as error:
        db.session().rollback()
        _fail(error.message)
    db.session().commit()
    click.echo(f"API-sleutel {token.id} (kenmerk {api_tokens.fingerprint(token)}) is ingetrokken.")


@token_group.command("list")
@click.argument("email", required=False)
def token_list(email):
    """List API tokens (of one account when EMAIL is given), newest first."""
    from portal import api_tokens
    from portal.templating import TIMEZONE

    user = _user_by_email(email) if email else None
    rows = api_tokens.list_tokens(user)
    if not rows:
        click.echo("Geen API-sleutels.")
        return

    def moment(value):
        return value.astimezone(TIMEZONE).strftime("%Y-%m-%d %H:%M") if value else "-"

    click.echo(f"{'nr':>5}  {'kenmerk':12}  {'status':11}  {'gemaakt':16}  {'laatst gebruikt':16}  "
               f"{'e-mailadres':36}  {'organisatie (rol)':44}  omschrijving")
    for row in rows:
        status = "ingetrokken" if row.token.revoked_at else "actief"
        click.echo(f"{row.token.id:>5}  {row.fingerprint:12}  {status:11}  {moment(row.token.created_at):16}  "
                   f"{moment(row.token.last_used_at):16}  {row.user.email:36}  "
                   f"{row.organisation.name + ' (' + roles.LABELS[row.role] + ')':44}  {row.token.label}")
