"""The plugin kit for municipalities (issue 13): ``flask --app wsgi plugins`` and docs/plugins.md.

The walk-through's package is taken from the page itself (the fenced blocks after
``<!-- file: ... -->``), made into a wheel and installed in a throw-away virtualenv, never in the
project's own: there the command must show Venray's value in force with the plugin as its source,
and the package's own test (which builds the app and has the check refuse a line) must pass.
"""
from __future__ import annotations

import base64
import email.parser
import hashlib
import inspect
import os
import re
import subprocess
import sys
import sysconfig
import types
import zipfile
from pathlib import Path

import pytest

from portal import hookimpl, hookspecs
from portal.registry import LocalRule, SettlementParameter
from tests.conftest import FIRST_REGION_PLUGINS

ROOT = Path(__file__).resolve().parent.parent
DOC = ROOT / "docs" / "plugins.md"
FILE_BLOCK = re.compile(r"<!-- file: (\S+) -->\n```[a-z]*\n(.*?)^```", re.DOTALL | re.MULTILINE)
OUTPUT_BLOCK = re.compile(r"<!-- output: flask --app wsgi (.+?) -->\n```text\n(.*?)^```",
                          re.DOTALL | re.MULTILINE)


def doc_files() -> dict[str, str]:
    return {path: text for path, text in FILE_BLOCK.findall(DOC.read_text(encoding="utf-8"))}


def test_the_page_names_every_hook_and_the_walk_through_is_complete():
    text = DOC.read_text(encoding="utf-8")
    hooks = [name for name, function in inspect.getmembers(hookspecs, inspect.isfunction)
             if hasattr(function, "portal_spec")]
    assert len(hooks) > 10
    missing = [name for name in hooks if f"| `{name}` |" not in text]
    assert missing == [], "hooks without a row in the reference table of docs/plugins.md"
    assert "../portal/hookspecs.py" in text
    assert sorted(doc_files()) == ["venray-regels/pyproject.toml", "venray-regels/test_venray_regels.py",
                                   "venray-regels/venray_regels.py"]
    assert len(OUTPUT_BLOCK.findall(text)) == 1


# --- The command, in this process -------------------------------------------------------------


def _kit_plugin():
    """A municipality plugin as a module: local values for Venray and Venlo, a check, and two typos."""
    module = types.ModuleType("proefgemeente")
    module.portal_local_rules = hookimpl(lambda: [
        LocalRule("reporting_period", "quarter", "noord-limburg", municipality="0983",
                  reason="Venlo per kwartaal"),
        LocalRule("band_scope", "region", "noord-limburg", segment="jeugd.S3"),
        LocalRule("outside_band", "excess", "noord_limburg"),  # a typo in the region code
    ])
    module.portal_settlement_parameters = hookimpl(lambda: [
        SettlementParameter("jeugd.shared_savings", "share", "0.40", "noord-limburg", municipality="0984"),
        # a typo in the municipality code
        SettlementParameter("jeugd.shared_savings", "share", "0.35", "noord-limburg", municipality="0948"),
    ])
    module.portal_realisation_checks = hookimpl(lambda: [_kit_check])
    return module


def _kit_check(line, context):
    return []


@pytest.fixture
def app_config():
    return {"EXTRA_PLUGINS": [_kit_plugin()], "ENABLED_PLUGINS": FIRST_REGION_PLUGINS}


@pytest.fixture
def region(app):
    from portal import db
    from portal.models import Organisation, OrganisationKind, Region

    with app.app_context():
        session = db.session()
        row = Region(code="noord-limburg", name="Noord-Limburg")
        session.add(row)
        session.flush()
        for name, code in (("Venlo", "0983"), ("Venray", "0984")):
            session.add(Organisation(region_id=row.id, kind=OrganisationKind.MUNICIPALITY, name=name,
                                     municipality_code=code))
        session.commit()


def _compact(text: str) -> str:
    return "\n".join(" ".join(line.split()) for line in text.splitlines())


def test_the_command_shows_each_value_in_force_with_its_source(app, region):
    result = app.test_cli_runner().invoke(args=["plugins"])
    assert result.exit_code == 0, result.output
    out = _compact(result.output)
    assert "wmo pakket portal 0.1.0, entry point wmo = plugins.wmo" in out
    assert ("proefgemeente geen entry point: meegegeven aan create_app (EXTRA_PLUGINS)\n"
            "hooks: portal_local_rules, portal_realisation_checks, portal_settlement_parameters") in out
    assert ("reporting_period: Periode van realisatieverantwoording (plug-in core)\n"
            "keuzes: month = Per maand, quarter = Per kwartaal; standaard: Per maand\n"
            "regio noord-limburg Per maand Standaardwaarde\n"
            "gemeente Venlo (0983) Per kwartaal Lokale regel van gemeente (proefgemeente)\n"
            "reden: Venlo per kwartaal") in out
    assert ("regio noord-limburg Per gemeente Standaardwaarde\n"
            "regio noord-limburg, segment Jeugd S3 Regionaal totaal Lokale regel van regio en segment "
            "(proefgemeente)") in out
    assert ("gemeente Venray (0984)\nshare 40% Eigen afspraak van gemeente (proefgemeente)") in out
    # What a typo in a plugin looks like: the value holds nowhere, and the report says so.
    assert "noord_limburg: LET OP, staat niet in de database" in out
    assert "regio noord_limburg Alleen het deel buiten de band Lokale regel van regio (proefgemeente)" in out
    assert ("gemeente 0948 (LET OP: geen gemeente van noord-limburg)\n"
            "share 35% Eigen afspraak van gemeente (proefgemeente)") in out
    assert "op realisatieregels (portal_realisation_checks): tests.test_plugin_kit._kit_check" in out


def test_the_command_for_one_region_and_for_an_unknown_one(app, region):
    runner = app.test_cli_runner()
    one = runner.invoke(args=["plugins", "--region", "noord-limburg"])
    assert one.exit_code == 0, one.output
    assert "noord_limburg" not in one.output and "noord-limburg: Noord-Limburg, 2 gemeenten" in one.output
    unknown = runner.invoke(args=["plugins", "--region", "rivierenland"])
    assert unknown.exit_code == 2
    assert unknown.output == ("Fout: Er is geen regio met de code 'rivierenland'. "
                              "Bekende regio's: noord-limburg.\n")


# --- The walk-through, installed in a throw-away virtualenv -----------------------------------


def build_wheel(source: Path, out: Path) -> Path:
    """A wheel of the package in ``source``: setuptools reads its pyproject.toml and writes the
    metadata and the modules; this function only zips them up (what the ``wheel`` package's
    bdist_wheel would do, and the project's setuptools cannot without it)."""
    egg_base, lib = out / "egg", out / "lib"
    egg_base.mkdir(parents=True)
    built = subprocess.run([sys.executable, "-W", "ignore", "-c", "from setuptools import setup; setup()",
                            "-q", "egg_info", "--egg-base", str(egg_base),
                            "build_py", "--build-lib", str(lib)],
                           check=False, cwd=source, capture_output=True, text=True)
    assert built.returncode == 0, built.stderr
    egg_info = next(egg_base.glob("*.egg-info"))
    metadata = (egg_info / "PKG-INFO").read_text(encoding="utf-8")
    headers = email.parser.Parser().parsestr(metadata)
    name, version = re.sub(r"[-_.]+", "_", headers["Name"]).lower(), headers["Version"]
    dist_info = f"{name}-{version}.dist-info"
    files = {path.relative_to(lib).as_posix(): path.read_bytes()
             for path in lib.rglob("*") if path.is_file()}
    files[f"{dist_info}/METADATA"] = metadata.encode()
    files[f"{dist_info}/entry_points.txt"] = (egg_info / "entry_points.txt").read_bytes()
    files[f"{dist_info}/top_level.txt"] = (egg_info / "top_level.txt").read_bytes()
    files[f"{dist_info}/WHEEL"] = (b"Wheel-Version: 1.0\nGenerator: tests/test_plugin_kit.py\n"
                                   b"Root-Is-Purelib: true\nTag: py3-none-any\n")
    def digest(data: bytes) -> str:
        return base64.urlsafe_b64encode(hashlib.sha256(data).digest()).rstrip(b"=").decode()

    record = [f"{path},sha256={digest(data)},{len(data)}" for path, data in files.items()]
    files[f"{dist_info}/RECORD"] = ("\n".join(record + [f"{dist_info}/RECORD,,"]) + "\n").encode()
    wheel = out / f"{name}-{version}-py3-none-any.whl"
    with zipfile.ZipFile(wheel, "w", zipfile.ZIP_DEFLATED) as archive:
        for path, data in files.items():
            archive.writestr(path, data)
    return wheel


def throwaway_venv(path: Path) -> Path:
    """A virtualenv that sees the project's packages (the portal's dependencies, pip) through a .pth
    file but installs into its own site-packages; returns its python."""
    subprocess.run([sys.executable, "-m", "venv", "--without-pip", str(path)], check=True)
    python = path / "bin" / "python"
    site_packages = subprocess.run(
        [str(python), "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])"],
        check=True, capture_output=True, text=True).stdout.strip()
    ours = dict.fromkeys([sysconfig.get_paths()["purelib"], sysconfig.get_paths()["platlib"]])
    Path(site_packages, "portal-project.pth").write_text(
        "".join(f"import site; site.addsitedir({folder!r})\n" for folder in ours), encoding="utf-8")
    return python


def test_the_walk_through_installs_and_holds(tmp_path):
    for relative, text in doc_files().items():
        target = tmp_path / "src" / relative
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_text(text, encoding="utf-8")
    wheel = build_wheel(tmp_path / "src" / "venray-regels", tmp_path / "build")
    python = throwaway_venv(tmp_path / "venv")
    installed = subprocess.run([str(python), "-m", "pip", "install", "--quiet", "--no-deps", "--no-index",
                                str(wheel)], check=False, capture_output=True, text=True)
    assert installed.returncode == 0, installed.stderr

    env = {key: value for key, value in os.environ.items()
           if not key.startswith(("PORTAL_", "FLASK_", "PYTEST_"))}
    env.update(PORTAL_DATABASE_URL=f"sqlite:///{tmp_path / 'portal.db'}",
               PORTAL_INSTANCE_PATH=str(tmp_path / "instance"),
               PYTHONPATH=str(ROOT))  # this working copy's portal, whatever the project's venv points at

    def run(*args, cwd=ROOT, **extra_env):
        return subprocess.run([str(python), *args], check=False, cwd=cwd, env={**env, **extra_env},
                              capture_output=True, text=True, timeout=120)

    demo = run("-m", "flask", "--app", "wsgi", "demo", "--password", "demo-wachtwoord-2026")
    assert demo.returncode == 0, demo.stderr
    report = run("-m", "flask", "--app", "wsgi", "plugins", "--region", "noord-limburg")
    assert report.returncode == 0, report.stderr
    out = _compact(report.stdout)
    assert ("gemeente Venray (0984)\n"
            "share 40% Eigen afspraak van gemeente (venray)\n") in out
    assert "venray pakket venray-regels 0.1.0, entry point venray = venray_regels" in out
    # Every line the page shows is in the real output, in the same order.
    command, shown = OUTPUT_BLOCK.search(DOC.read_text(encoding="utf-8")).groups()
    assert command == "plugins --region noord-limburg"
    position = 0
    for line in _compact(shown).splitlines():
        if line in ("...", ""):
            continue
        found = out.find(line, position)
        assert found >= 0, f"docs/plugins.md shows a line the command does not print (here): {line!r}"
        position = found + len(line)

    # The package's own test (step 4): it builds the app and has Venray's check refuse a line. It
    # runs from another folder than the source, so it imports the installed copy.
    tests = tmp_path / "package-tests"
    tests.mkdir()
    package_test = doc_files()["venray-regels/test_venray_regels.py"]
    (tests / "test_venray_regels.py").write_text(package_test, encoding="utf-8")
    own = run("-m", "pytest", "-q", "-p", "no:cacheprovider", "test_venray_regels.py", cwd=tests,
              PYTEST_DISABLE_PLUGIN_AUTOLOAD="1")
    assert own.returncode == 0, own.stdout + own.stderr
    assert "2 passed" in own.stdout
