"""The Wmo plugin registers the Wmo segments of DOMAIN.md §3 and its overview page."""
import pytest


@pytest.fixture
def app_config():
    return {"ENABLED_PLUGINS": "wmo"}


def test_wmo_segments(app):
    domain = app.extensions["portal.registry"].domains["wmo"]
    assert [s.code for s in domain.segments] == ["S1a", "S1b", "S2a", "S2b", "S3a", "S3b"]
    funding = {s.code: s.funding_forms for s in domain.segments}
    assert funding["S1a"] == ("trajectory", "budget_ceiling")
    assert funding["S2a"] == funding["S2b"] == funding["S3a"] == ("population",)
    assert funding["S3b"] == ("pxq",)
    assert {s.contract_duration for s in domain.segments} == {"3+1+1"}
    assert domain.segments[-1].lots == ("open_house",)


def test_wmo_overview_page(app, signed_in):
    page = signed_in("medewerker@venlo.example").get("/wmo/")
    body = page.get_data(as_text=True)
    assert page.status_code == 200
    assert "Hulp bij het huishouden" in body and "Populatiebekostiging" in body
    home = signed_in("medewerker@venlo.example").get("/").get_data(as_text=True)
    assert 'href="/wmo/"' in home  # the plugin's entry on the home page
