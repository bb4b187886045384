"""The Jeugd plugin registers the youth-care segments of DOMAIN.md §3 and its overview page."""
import pytest


@pytest.fixture
def app_config():
    return {"ENABLED_PLUGINS": "jeugd"}


def test_jeugd_segments(app):
    registry = app.extensions["portal.registry"]
    assert set(registry.domains) == {"jeugd"}
    segments = {s.code: s for s in registry.domains["jeugd"].segments}
    assert list(segments) == ["S1", "S2", "S3", "S4"]
    assert segments["S2"].funding_forms == ("price_per_day",)
    assert "budget_agreement" in segments["S3"].funding_forms
    assert "eigen bijdrage" in segments["S3"].description
    assert "ouderbijdrage" in segments["S4"].description
    assert registry.segments["jeugd.S3"] is not None


def test_jeugd_overview_page(app, signed_in):
    client = signed_in("beheer@zorggroep-maasland.example")
    body = client.get("/jeugd/").get_data(as_text=True)
    assert "Dagactiviteiten en dagbehandeling" in body and "Jeugdwet" in body
    assert client.get("/wmo/").status_code == 404  # not enabled here
