"""Command-line tools: ``flask --app wsgi db-upgrade`` and ``flask --app wsgi demo``."""
from __future__ import annotations

from pathlib import Path

import click
from flask import current_app

from portal import migrate, roles


def init_app(app) -> None:
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
