"""Command-line tools: ``flask --app wsgi db-upgrade``, ``flask --app wsgi demo`` and
``flask --app wsgi token create|revoke|list`` (API tokens), ``flask --app wsgi settle-preview FILE.json``
and ``flask --app wsgi allocate-costs AMOUNT --region CODE`` (settlement, issue 6), and
``flask --app wsgi plugins [--region CODE]`` (the loaded plugins and the rules in force)."""
from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import NoReturn

import click
from babel.numbers import format_decimal
from flask import current_app
from flask.cli import AppGroup, with_appcontext
from sqlalchemy import func
from sqlalchemy.exc import SQLAlchemyError
from sqlmodel import select

from portal import clock, db, migrate, plugin_report
from portal.accounts import api_tokens, roles
from portal.demo import load_regions, region_names, write_accounts_file
from portal.demo import region_codes as demo_regions
from portal.formatting import TIMEZONE, nl_date
from portal.models import User
from portal.money import parse_amount
from portal.settlement.cost_allocation import allocate
from portal.settlement.engine import ScenarioError
from portal.settlement.engine import euro as nbsp_euro
from portal.settlement.population import PopulationMissing, allocation_json, region_by_code, residents_of
from portal.settlement.scenario import load_json, preview
from portal.validators import RuleViolation


def init_app(app) -> None:
    app.cli.add_command(token_group)
    app.cli.add_command(settle_preview)
    app.cli.add_command(allocate_costs)
    app.cli.add_command(plugins_command)
    app.cli.add_command(worker_command)

    @app.cli.command("db-upgrade")
    def db_upgrade():
        """Upgrade the database to the newest schema (Alembic head)."""
        migrate.upgrade(current_app.config["DATABASE_URL"])
        click.echo("Database bijgewerkt tot de nieuwste versie.")

    @app.cli.command("demo")
    @click.option("--password", help="Wachtwoord voor alle demogebruikers (minstens 12 tekens).")
    @click.option("--today", help="Bouw de demo rond deze datum (JJJJ-MM-DD) in plaats van vandaag.")
    @click.option("--region", "region_codes", multiple=True, metavar="CODE",
                  help="Laad alleen deze regio (mag vaker); zonder: alle regio's.")
    @click.option("--size", type=click.Choice(["demo", "region"]), default="demo", show_default=True,
                  help="demo: klein en snel; region: Noord-Limburg op ware grootte (~22.000 trajecten per "
                       "jaar, vijf jaar; enkele minuten).")
    def demo(password, today, region_codes, size):
        """Migrate the database and load the demo regions (idempotent): the first region, built
        around today (or ``--today``) with five years of agreements up to this year, realisation up
        to last month and last year ended and ready to settle, and every installed region pack's
        region with its own providers and agreements."""
        known = demo_regions()
        unknown = [code for code in region_codes if code not in known]
        if unknown:
            raise click.BadParameter(f"onbekende regio {', '.join(unknown)}; bekend: {', '.join(known)}.",
                                     param_hint="--region")
        if password is not None and len(password) < current_app.config["PASSWORD_MIN_LENGTH"]:
            raise click.BadParameter(
                f"kies minstens {current_app.config['PASSWORD_MIN_LENGTH']} tekens.", param_hint="--password")
        if today:
            try:
                current_app.config["TODAY"] = clock.parse_today(today)
            except ValueError:
                raise click.BadParameter(f"{today!r} is geen datum; schrijf bijvoorbeeld 2028-02-29.",
                                         param_hint="--today") from None
        migrate.upgrade(current_app.config["DATABASE_URL"])
        codes = list(region_codes) or known
        accounts, new_password = load_regions(password, codes, size=size)
        path = Path(current_app.instance_path) / "demo-accounts.json"
        write_accounts_file(path, accounts)
        names = ", ".join(region_names()[code] for code in codes)
        click.echo(f"Demoregio's geladen rond {nl_date(clock.today())}: {names}. Accounts:")
        for account in accounts:
            click.echo(f"  {account.email:48} {roles.LABELS[account.role]:28} {account.organisation}")
        if new_password:
            click.echo(f"Wachtwoord voor alle demogebruikers: {new_password}")
        else:
            click.echo("Wachtwoorden zijn niet gewijzigd (geef --password om ze te zetten).")
        click.echo(f"Overzicht geschreven naar {path}")
        if today:
            click.echo(f"Start het portaal met PORTAL_TODAY={today} om op die dag te werken.")


# --- API tokens ------------------------------------------------------------------------------

token_group = AppGroup("token", help="API-sleutels (bearer tokens) maken, intrekken en tonen.")


def _fail(message: str) -> NoReturn:
    """A refusal: the message on stderr, exit code 2 (as click does for a usage error)."""
    click.echo(f"Fout: {message}", err=True)
    raise click.exceptions.Exit(2)


def _user_by_email(email: str):
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


# --- Settlement preview and cost allocation (issue 6) -----------------------------------------


@click.command("settle-preview")
@with_appcontext
@click.argument("file", metavar="FILE.json")
def settle_preview(file):
    """Reken de afrekening van het scenario in FILE.json door ('-' leest standaardinvoer) en toon het
    resultaat als JSON. Er wordt niets in de database gelezen of opgeslagen. Een ongeldig scenario:
    de melding op stderr, afsluitcode 2."""
    try:
        text = sys.stdin.read() if file == "-" else Path(file).read_text(encoding="utf-8-sig")
    except FileNotFoundError:
        _fail(f"Kan {file} niet lezen: het bestand bestaat niet.")
    except IsADirectoryError:
        _fail(f"Kan {file} niet lezen: dit is een map, geen bestand.")
    except PermissionError:
        _fail(f"Kan {file} niet lezen: geen leesrechten.")
    except UnicodeDecodeError:
        _fail(f"Kan {file} niet lezen: het is geen tekst in UTF-8.")
    except OSError as error:
        _fail(f"Kan {file} niet lezen: {error.strerror or error}.")
    try:
        scenario = load_json(text)
    except ValueError as error:
        _fail(f"{file} is geen geldig scenario: {error}.")
    try:
        result = preview(scenario)
    except ScenarioError as error:
        _fail(f"{error}.")
    click.echo(json.dumps(result, ensure_ascii=False, indent=2))


@click.command("allocate-costs")
@with_appcontext
@click.argument("amount")
@click.option("--region", "region_code", required=True, metavar="CODE",
              help="Code van de regio, bijvoorbeeld noord-limburg.")
@click.option("--method", type=click.Choice(["table", "exact"]), default="table", show_default=True,
              help="table: per gemeente half-up op hele euro's, zoals de gepubliceerde tabel (het "
                   "afrondingsverschil wordt getoond); exact: grootste rest, de delen tellen precies op.")
@click.option("--json", "as_json", is_flag=True, help="Uitvoer als JSON.")
def allocate_costs(amount, region_code, method, as_json):
    """Verdeel AMOUNT (euro, bijvoorbeeld 215000 of 215.000,00) over de gemeenten van de regio naar de
    verdeelsleutel inwonertallen (aandelen in procenten op twee decimalen)."""
    def euro(value):  # plain spaces: the output goes to terminals and files
        return nbsp_euro(value).replace("\xa0", " ")

    try:
        value = parse_amount(amount)
    except ValueError:
        _fail(f"{amount!r} is geen bedrag; schrijf bijvoorbeeld 215000 of 215.000,00.")
    try:
        region = region_by_code(region_code)
        found, residents = residents_of(region.id)
        allocation = allocate(value, residents, method)
    except (PopulationMissing, ValueError) as error:
        _fail(str(error).rstrip(".") + ".")
    if as_json:
        click.echo(json.dumps(allocation_json(region, found, allocation), ensure_ascii=False, indent=2))
        return

    def number(value):
        return format_decimal(value, locale="nl_NL")

    def share(value):
        return format_decimal(value, format="#,##0.00", locale="nl_NL") + "%"

    way = ("per gemeente afgerond op hele euro's (zoals de tabel)" if method == "table"
           else "grootste rest: de bijdragen tellen precies op")
    click.echo(f"Verdeling van {euro(allocation.amount)} over de gemeenten van {region.name} naar inwonertal; "
               f"{way}.")
    click.echo(f"{'Gemeente':24} {'Inwoners':>10} {'Aandeel':>9} {'Bijdrage':>16}")
    for part in allocation.parts:
        click.echo(f"{part.name:24} {number(part.residents):>10} {share(part.share):>9} {euro(part.amount):>16}")
    click.echo(f"{'Totaal':24} {number(allocation.residents_total):>10} {share(allocation.shares_total):>9} "
               f"{euro(allocation.total):>16}")
    difference = allocation.rounding_difference
    if difference:
        more = "meer" if difference > 0 else "minder"
        click.echo(f"Afrondingsverschil: {euro(abs(difference))}: de bijdragen samen zijn {more} dan het "
                   f"bedrag van {euro(allocation.amount)}.")
    else:
        click.echo("Afrondingsverschil: geen; de bijdragen tellen precies op tot het bedrag.")


# --- Plugins and the rules in force (issue 13) ------------------------------------------------


@click.command("plugins")
@with_appcontext
@click.option("--region", "region_code", metavar="CODE",
              help="Alleen deze regio, bijvoorbeeld noord-limburg (anders elke regio).")
def plugins_command(region_code):
    """Toon de geladen plug-ins (pakket, versie, hooks), de lokale regels en de parameters van de
    afrekenregels die gelden per regio, gemeente en segment, en waar elke waarde vandaan komt.
    Een onbekende regio: de bekende op stderr, afsluitcode 2."""
    try:
        report = plugin_report.build_report(current_app.extensions["portal.plugins"],
                                            current_app.extensions["portal.registry"], region_code)
    except plugin_report.UnknownRegion as error:
        _fail(str(error))
    except SQLAlchemyError:
        _fail("De database is niet te lezen of nog niet bijgewerkt; "
              "draai eerst 'flask --app wsgi db-upgrade'.")
    for line in plugin_report.render(report):
        click.echo(line)


@click.command("worker")
@click.option("--burst", is_flag=True, help="Stop zodra de wachtrij leeg is (tests, cron).")
@click.option("--simple", is_flag=True,
              help="Voer elke taak in het workerproces zelf uit in plaats van in een afgesplitst proces.")
@with_appcontext
def worker_command(burst, simple):
    """Run the portal's jobs from Redis (PORTAL_REDIS_URL): realisation uploads and settlement runs.
    Each job runs in a forked work-horse unless ``--simple``; start as many workers as you like."""
    from portal import jobs

    app = current_app._get_current_object()
    if not app.config.get("REDIS_URL"):
        _fail("PORTAL_REDIS_URL is niet gezet: zonder Redis draaien taken in het webproces en is er geen worker nodig.")
    click.echo(f"Worker op wachtrij '{jobs.QUEUE}' ({app.config['REDIS_URL'].rsplit('@', 1)[-1]}).")
    jobs.work(app, burst=burst, simple=simple)
