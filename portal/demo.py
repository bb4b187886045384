"""The demo region Noord-Limburg: organisations and one account per role, loaded idempotently.

Municipalities and residents on 1-1-2020 from 000 §9; provider names, KvK numbers and AGB codes
are made up. E-mail addresses use the reserved ``.example`` domain, so no mail reaches anyone.
"""
from __future__ import annotations

import json
import secrets
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path

from flask import current_app
from sqlmodel import select

from portal import audit, clock, db
from portal.accounts import roles
from portal.accounts.passwords import hash_password
from portal.models import Membership, Organisation, OrganisationKind, Region, User
from portal.realisation.demo import load_demo_realisation
from portal.region_demo import load_region_size
from portal.registry import region_scope

REGION_CODE = "noord-limburg"
REGION_NAME = "Noord-Limburg"

# name, CBS code, residents on 1-1-2020
MUNICIPALITIES = [
    ("Beesel", "0889", 13_483),
    ("Bergen (L)", "0893", 13_085),
    ("Gennep", "0907", 16_935),
    ("Horst aan de Maas", "1507", 42_407),
    ("Peel en Maas", "1894", 43_430),
    ("Venlo", "0983", 101_797),
    ("Venray", "0984", 43_596),
]

PURCHASING_OFFICE = "MGR Sociaal Domein Noord-Limburg"
AUDITOR = "Accountantsdienst Noord-Limburg"

# name, KvK number, AGB code, lot (shown in the demo text; contracts arrive with the contracts issue)
PROVIDERS = [
    ("Zorggroep Maasland", "61234567", "73730101", "regionaal"),
    ("Stichting Jeugdhulp Peel en Maas", "62345678", "75750202", "regionaal"),
    ("Werkbedrijf Noord-Limburg", "63456789", "98980303", "regionaal"),
    ("Thuishulp Venray", "64567890", "73730404", "lokaal"),
    ("Dagbesteding De Schakel", "65678901", "73730505", "lokaal"),
    ("Begeleiding Op Maat Gennep", "66789012", "73730606", "lokaal"),
]


# The demo tells five years of history up to and including the year of the day it is loaded.
DEMO_YEARS = 5


@dataclass
class DemoContext:
    """What ``portal_demo_data`` gets: the demo region, its organisations by name, the session and
    the day the demo is built around (``today``): its years run from ``first_year`` up to and
    including ``today.year``, so the region is alive whatever the date."""

    region: Region
    organisations: dict[str, Organisation]
    session: object
    today: date
    # The hash of the demo password that :meth:`account` gives a new account (or every account,
    # when the command was given a password), and the accounts made so far.
    password_hash: str | None = None
    accounts: list = field(default_factory=list)
    # Each segment's yearly volume in euros at the region's real size (segment key → Decimal), set by
    # the domain plugins' demo data; ``flask demo --size region`` spreads it over added providers.
    volumes: dict = field(default_factory=dict)

    @property
    def first_year(self) -> int:
        return self.today.year - DEMO_YEARS + 1

    @property
    def years(self) -> list[int]:
        return list(range(self.first_year, self.today.year + 1))

    def organisation(self, name: str, kind: str, **values) -> Organisation:
        """The region's organisation ``name`` (made or updated: ``kvk_number``, ``agb_code``,
        ``residents``, ``municipality_code``), also in :attr:`organisations`."""
        organisation = _upsert_organisation(self.session, self.region, name, kind, **values)
        self.session.flush()
        self.organisations[name] = organisation
        return organisation

    def account(self, email: str, name: str, role: str, organisation: str) -> None:
        """A demo account with ``role`` at the organisation named ``organisation``."""
        account = DemoAccount(email, name, role, organisation)
        _upsert_account(self.session, account, self.organisations[organisation], self.password_hash)
        self.accounts.append(account)


@dataclass(frozen=True)
class DemoAccount:
    email: str
    name: str
    role: str
    organisation: str


ACCOUNTS = [
    DemoAccount("contractmanager@mgr-noord-limburg.example", "Marieke Janssen", roles.CONTRACT_MANAGER, PURCHASING_OFFICE),
    DemoAccount("contractmanager2@mgr-noord-limburg.example", "Ruud Hermans", roles.CONTRACT_MANAGER, PURCHASING_OFFICE),
    DemoAccount("auditor@accountant-noord-limburg.example", "Sanne Peeters", roles.AUDITOR, AUDITOR),
    DemoAccount("beheer@zorggroep-maasland.example", "Anouk Verstegen", roles.PROVIDER_ADMIN, "Zorggroep Maasland"),
    DemoAccount("medewerker@zorggroep-maasland.example", "Tom Gielen", roles.PROVIDER_USER, "Zorggroep Maasland"),
    DemoAccount("beheer@thuishulp-venray.example", "Lotte Hendrikx", roles.PROVIDER_ADMIN, "Thuishulp Venray"),
    DemoAccount("medewerker@thuishulp-venray.example", "Bram Willems", roles.PROVIDER_USER, "Thuishulp Venray"),
    DemoAccount("beheer@jeugdhulp-peelenmaas.example", "Fleur Coenen", roles.PROVIDER_ADMIN, "Stichting Jeugdhulp Peel en Maas"),
] + [
    DemoAccount(f"medewerker@{name.lower().replace(' (l)', '').replace(' ', '')}.example",
                f"Medewerker {name}", roles.MUNICIPALITY_USER, name)
    for name, _code, _residents in MUNICIPALITIES
]


def _upsert_organisation(session, region: Region, name: str, kind: str, **values) -> Organisation:
    organisation = session.exec(select(Organisation).where(
        Organisation.region_id == region.id, Organisation.name == name)).first()
    if organisation is None:
        organisation = Organisation(region_id=region.id, name=name, kind=kind)
    organisation.kind = kind
    organisation.is_active = True
    for key, value in values.items():
        setattr(organisation, key, value)
    session.add(organisation)
    return organisation


def load_regions(password: str | None, codes: list[str] | None = None,
                 today: date | None = None, size: str = "demo") -> tuple[list[DemoAccount], str | None]:
    """Create or update the demo regions named in ``codes`` (default: all of
    :func:`region_codes`): the first region with :func:`load_demo` (``size="region"``: at the size
    of the real region, :mod:`portal.region_demo`), a pack's with
    :func:`load_pack_demo`. Returns the accounts and the password newly set (if any)."""
    codes = codes or region_codes()
    today = today or clock.today()
    accounts: list[DemoAccount] = []
    new_password = password
    packs = current_app.extensions["portal.registry"].packs
    if new_password is None:
        known = set(db.session().exec(select(Region.code)).all())
        if any(code not in known for code in codes if code in packs):
            new_password = secrets.token_urlsafe(12)
    if REGION_CODE in codes:
        accounts, new_password = load_demo(new_password, today=today, size=size)
    pack_codes = [code for code in codes if code in packs]
    # One hash for the packs' accounts (hashing is deliberately slow), only when there are any.
    new_hash = hash_password(new_password) if new_password and pack_codes else None
    for code in pack_codes:
        pack, plugin = packs[code]
        accounts += load_pack_demo(pack, plugin, new_hash, today)
    return accounts, new_password


def load_demo(password: str | None, realisation: bool = True,
              today: date | None = None, size: str = "demo") -> tuple[list[DemoAccount], str | None]:
    """Create or update the first demo region. Returns the accounts and the password newly set
    (if any).

    Without ``password``, existing accounts keep theirs and new ones get one random password.
    ``realisation=False`` leaves out the months of realisation (most tests do not need them and
    they cost about a second on PostgreSQL). ``today`` (default: the portal's clock) is the day the
    demo is built around: five years of agreements up to its year, realisation up to the month
    before it (:mod:`portal.realisation.demo`). ``size="region"`` then adds the rest of the
    region at its real size (:func:`portal.region_demo.load_region_size`): minutes,
    not seconds, so never the default.
    """
    today = today or clock.today()
    session = db.session()
    region = session.exec(select(Region).where(Region.code == REGION_CODE)).first()
    if region is None:
        region = Region(code=REGION_CODE, name=REGION_NAME)
        session.add(region)
        session.flush()
    organisations = {}
    for name, code, residents in MUNICIPALITIES:
        organisations[name] = _upsert_organisation(session, region, name, OrganisationKind.MUNICIPALITY,
                                                   residents=residents, municipality_code=code)
    organisations[PURCHASING_OFFICE] = _upsert_organisation(session, region, PURCHASING_OFFICE,
                                                            OrganisationKind.PURCHASING_OFFICE)
    organisations[AUDITOR] = _upsert_organisation(session, region, AUDITOR, OrganisationKind.AUDITOR)
    for name, kvk, agb, _lot in PROVIDERS:
        organisations[name] = _upsert_organisation(session, region, name, OrganisationKind.PROVIDER,
                                                   kvk_number=kvk, agb_code=agb)
    session.flush()

    new_password = password
    if new_password is None and any(
            session.exec(select(User).where(User.email == a.email)).first() is None for a in ACCOUNTS):
        new_password = secrets.token_urlsafe(12)
    # One hash for the one shared demo password (hashing is deliberately slow).
    new_hash = hash_password(new_password) if new_password else None
    for account in ACCOUNTS:
        _upsert_account(session, account, organisations[account.organisation], new_hash)

    pm = current_app.extensions["portal.plugins"]
    registry = current_app.extensions["portal.registry"]
    packs = [pm.get_plugin(plugin) for plugin in registry.pack_plugins()]
    context = DemoContext(region=region, organisations=organisations, session=session, today=today,
                          password_hash=new_hash)
    pm.subset_hook_caller("portal_demo_data", remove_plugins=packs)(demo=context)
    # Realisation goes through the import pipeline, which commits on its own: after the rest.
    session.commit()
    if realisation:
        load_demo_realisation(context)
    if size == "region":
        load_region_size(context)
    audit.record("demo.loaded", f"Demoregio {REGION_NAME} geladen", region_id=region.id,
                 object_type="region", object_id=region.id)
    session.commit()
    return list(ACCOUNTS), new_password


def region_codes() -> list[str]:
    """The regions ``flask demo`` can load: the first region and every region pack's."""
    return list(region_names())


def region_names() -> dict[str, str]:
    """The regions ``flask demo`` can load, code → name."""
    packs = current_app.extensions["portal.registry"].packs
    return {REGION_CODE: REGION_NAME, **{code: packs[code][0].name for code in sorted(packs)}}


def load_pack_demo(pack, plugin: str, password_hash: str | None, today: date) -> list[DemoAccount]:
    """Create or update a region pack's region: the region, its municipalities (the pack's
    population key) and purchasing office, then the pack's own demo data (``portal_demo_data``,
    which adds providers, accounts, catalogue and agreements). Returns the pack's accounts."""
    session = db.session()
    region = session.exec(select(Region).where(Region.code == pack.code)).first()
    if region is None:
        region = Region(code=pack.code, name=pack.name)
    region.name = pack.name
    session.add(region)
    session.flush()
    context = DemoContext(region=region, organisations={}, session=session, today=today,
                          password_hash=password_hash)
    for name, code, residents in pack.municipalities:
        context.organisation(name, OrganisationKind.MUNICIPALITY, residents=residents, municipality_code=code)
    if pack.purchasing_office:
        context.organisation(pack.purchasing_office, OrganisationKind.PURCHASING_OFFICE)
    pm = current_app.extensions["portal.plugins"]
    others = [p for name, p in pm.list_name_plugin() if name != plugin]
    with region_scope(pack.code):
        pm.subset_hook_caller("portal_demo_data", remove_plugins=others)(demo=context)
    audit.record("demo.loaded", f"Demoregio {pack.name} geladen", region_id=region.id,
                 object_type="region", object_id=region.id)
    session.commit()
    return context.accounts


def _upsert_account(session, account: DemoAccount, organisation: Organisation, password_hash: str | None) -> User:
    """The account (made, or its name and role brought up to date) with its membership; a new
    account, or any when ``password_hash`` is the password the command was given, gets that hash."""
    user = session.exec(select(User).where(User.email == account.email)).first()
    if user is None:
        user = User(email=account.email, name=account.name)
    user.name, user.is_active = account.name, True
    if password_hash and user.password_hash != password_hash:
        user.password_hash = password_hash
    session.add(user)
    session.flush()
    membership = session.exec(select(Membership).where(
        Membership.user_id == user.id, Membership.organisation_id == organisation.id)).first()
    if membership is None:
        membership = Membership(user_id=user.id, organisation_id=organisation.id, role=account.role)
    membership.role = account.role
    session.add(membership)
    return user


def write_accounts_file(path: Path, accounts: list[DemoAccount]) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(
        [{"email": a.email, "role": a.role, "organisation": a.organisation} for a in accounts],
        indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
