"""The package layout holds: one package per domain, domains import each other in one direction
only, and other packages reach a domain through its public modules (its ``__all__``).

The order (README, "Layout"): accounts ← catalogue ← contracts ← proposals; realisation and
settlement build on contracts, catalogue and accounts. The core's own modules (``portal/*.py``,
``portal/models``) import no domain at all, except the faces that put the domains together."""
from __future__ import annotations

import ast
import importlib
from dataclasses import dataclass
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
PORTAL = ROOT / "portal"

# Each domain and the domains below it, the only ones it may import.
BELOW = {
    "accounts": set(),
    "catalogue": {"accounts"},
    "contracts": {"accounts", "catalogue"},
    "proposals": {"accounts", "catalogue", "contracts"},
    "realisation": {"accounts", "catalogue", "contracts"},
    "settlement": {"accounts", "catalogue", "contracts"},
}
DOMAINS = tuple(BELOW)

# Faces put the domains together; nothing below them imports them.
FACES = (
    "portal",  # create_app
    "portal.api",  # the JSON API over the services
    "portal.web",  # home, audit log screens, blueprints
    "portal.cli",  # the flask commands
    "portal.demo", "portal.demo_loader",  # the demo region and the building blocks plugins load it with
    "portal.region_demo",  # the first region at its 2019 size (flask demo --size region, the page bench)
    "portal.toolkit",  # what plugins import
    "portal.core_plugin", "portal.plugin_manager",  # the core's own plugin and the manager that loads it
    "portal.plugin_report",  # what the loaded plugins add up to (flask --app wsgi plugins)
)
# The screen helpers every domain's views use: part of the core, not of the web face.
SHARED_WEB = ("portal.web.common", "portal.web.charts")


@dataclass(frozen=True)
class Import:
    source: str  # the importing module, e.g. portal.settlement.runs
    target: str  # the imported module, e.g. portal.accounts.people
    name: str | None  # the name taken from it (None when the module itself is imported)
    line: int


def module_name(path: Path) -> str:
    parts = path.relative_to(ROOT).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def is_module(dotted: str) -> bool:
    path = ROOT.joinpath(*dotted.split("."))
    return path.with_suffix(".py").is_file() or (path / "__init__.py").is_file()


def imports_of(path: Path) -> list[Import]:
    source = module_name(path)
    found = []
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            found += [Import(source, alias.name, None, node.lineno) for alias in node.names
                      if alias.name.split(".")[0] == "portal"]
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module \
                and node.module.split(".")[0] == "portal":
            for alias in node.names:
                dotted = f"{node.module}.{alias.name}"
                if is_module(dotted):
                    found.append(Import(source, dotted, None, node.lineno))
                else:
                    found.append(Import(source, node.module, alias.name, node.lineno))
    return found


def domain_of(module: str) -> str | None:
    parts = module.split(".")
    return parts[1] if len(parts) > 1 and parts[0] == "portal" and parts[1] in DOMAINS else None


def within(module: str, packages) -> bool:
    return any(module == package or module.startswith(package + ".") for package in packages)


def is_face(module: str, name: str | None = None) -> bool:
    if within(module, SHARED_WEB):
        return False
    if module == "portal":  # the package itself: create_app is the face, PROJECT_ROOT and hookimpl are not
        return name in (None, "create_app")
    return within(module, FACES[1:])


def public_modules(domain: str) -> set[str]:
    return set(importlib.import_module(f"portal.{domain}").__all__)


def violations(imports: list[Import], public: dict[str, set[str]]) -> list[str]:
    """Every import that breaks the layout, as a sentence naming both ends."""
    found = []
    for imp in imports:
        where = f"{imp.source} (regel {imp.line}) importeert {imp.target}"
        source_domain, target_domain = domain_of(imp.source), domain_of(imp.target)
        if source_domain is not None and target_domain is not None and source_domain != target_domain \
                and target_domain not in BELOW[source_domain]:
            found.append(f"{where}: {source_domain} staat onder {target_domain} in de volgorde")
        if source_domain is not None and is_face(imp.target, imp.name):
            found.append(f"{where}: een domein importeert geen gezicht ({', '.join(FACES)})")
        if source_domain is None and not is_face(imp.source):
            if target_domain is not None:
                found.append(f"{where}: de kern importeert geen domein")
            elif is_face(imp.target, imp.name):
                found.append(f"{where}: de kern importeert geen gezicht")
        if target_domain is not None and source_domain != target_domain:
            parts = imp.target.split(".")
            if len(parts) > 2 and parts[2] not in public[target_domain]:
                found.append(f"{where}: {parts[2]} is intern aan {target_domain} "
                             f"(openbaar: {', '.join(sorted(public[target_domain]))})")
            if imp.name is not None and imp.name.startswith("_"):
                found.append(f"{where}: {imp.name} is intern")
    return found


def all_imports() -> list[Import]:
    return [imp for path in sorted(PORTAL.rglob("*.py")) for imp in imports_of(path)]


def test_every_domain_is_a_package_with_its_public_modules():
    for domain in DOMAINS:
        package = PORTAL / domain
        assert (package / "__init__.py").is_file(), domain
        public = public_modules(domain)
        assert public, domain
        for name in public:
            assert is_module(f"portal.{domain}.{name}"), f"portal.{domain}.__all__ names {name}, which does not exist"


def test_no_flat_domain_modules_are_left_in_the_core():
    """The prefixes that were packages written by hand are gone from portal/."""
    flat = sorted(path.name for path in PORTAL.glob("*.py")
                  if path.stem.split("_")[0] in {"realisation", "settlement", "proposal", "proposals",
                                                 "agreement", "agreements", "catalogue", "contract"})
    assert flat == []


def test_the_portal_keeps_its_layout():
    public = {domain: public_modules(domain) for domain in DOMAINS}
    imports = all_imports()
    assert len(imports) > 300  # the walk found the code
    assert violations(imports, public) == []


@pytest.mark.parametrize("imp, fragment", [
    (Import("portal.contracts.service", "portal.proposals.service", None, 1), "contracts staat onder proposals"),
    (Import("portal.settlement.views.whatif", "portal.realisation.views.dashboard", "choosable", 1),
     "settlement staat onder realisation"),
    (Import("portal.accounts.roles", "portal.catalogue.service", None, 1), "accounts staat onder catalogue"),
    (Import("portal.proposals.pdf", "portal.contracts.pdf", "SummaryPdf", 1), "pdf is intern aan contracts"),
    (Import("portal.web.home", "portal.realisation.files", "sniff", 1), "files is intern aan realisation"),
    (Import("portal.api.views", "portal.proposals.service", "_account", 1), "_account is intern"),
    (Import("portal.money", "portal.accounts.roles", None, 1), "de kern importeert geen domein"),
    (Import("portal.realisation.review", "portal.web.home", None, 1), "een domein importeert geen gezicht"),
    (Import("portal.pagination", "portal.toolkit", None, 1), "de kern importeert geen gezicht"),
])
def test_the_layout_check_names_what_breaks_it(imp, fragment):
    public = {domain: public_modules(domain) for domain in DOMAINS}
    found = violations([imp], public)
    assert len(found) == 1 and fragment in found[0], found


@pytest.mark.parametrize("imp", [
    Import("portal.proposals.service", "portal.contracts.service", "term_of", 1),
    Import("portal.settlement.pdf", "portal.pdf", "SummaryPdf", 1),
    Import("portal.realisation.views.dashboard", "portal.web.charts", None, 1),
    Import("portal.web.blueprints", "portal.settlement.views", None, 1),
    Import("portal.realisation.importing", "portal.realisation.files", "sniff", 1),
])
def test_the_layout_check_lets_the_order_through(imp):
    public = {domain: public_modules(domain) for domain in DOMAINS}
    assert violations([imp], public) == []
