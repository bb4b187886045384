"""The Participatie plugin registers the segments of DOMAIN.md §3 and its overview page."""
import pytest


@pytest.fixture
def app_config():
    return {"ENABLED_PLUGINS": "participatie"}


def test_participatie_segments(app):
    segments = {s.code: s for s in app.extensions["portal.registry"].domains["participatie"].segments}
    assert list(segments) == ["S1", "S2", "S3"]
    assert {s.contract_duration for s in segments.values()} == {"3+3+3"}
    assert segments["S1"].funding_forms == ("availability", "trajectory", "budget_agreement")
    assert segments["S1"].funding_combinations == (frozenset({"availability", "trajectory"}),)  # 000 §7.3
    assert segments["S2"].funding_combinations == ()
    assert segments["S2"].funding_forms == ("pxq", "result")
    assert "boeggolfprincipe" in segments["S3"].description
    assert segments["S3"].bow_wave_extensions and not segments["S1"].bow_wave_extensions  # 3+3+3 met boeggolf


def test_participatie_overview_page(app, signed_in):
    body = signed_in("auditor@accountant-noord-limburg.example").get("/participatie/").get_data(as_text=True)
    assert "Werkgeversdienstverlening" in body and "3+3+3 jaar" in body
