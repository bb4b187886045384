"""htmx requests get the part of the page they swap in; other requests get the whole page."""
from __future__ import annotations

import pytest

HTMX = {"HX-Request": "true"}


@pytest.mark.parametrize("path, marker", [
    ("/organisaties/?zoek=maas", "Zorggroep Maasland"),
    ("/logboek/?actie=demo", "Demoregio Noord-Limburg geladen"),
])
def test_partial_for_htmx_whole_page_otherwise(signed_in, path, marker):
    client = signed_in("contractmanager@mgr-noord-limburg.example")
    partial = client.get(path, headers=HTMX)
    body = partial.get_data(as_text=True)
    assert partial.status_code == 200 and marker in body
    assert "<html" not in body and "<form" not in body
    assert "HX-Request" in partial.headers["Vary"]
    whole = client.get(path).get_data(as_text=True)
    assert "<html" in whole and marker in whole and 'hx-target="#resultaten"' in whole
    restored = client.get(path, headers={**HTMX, "HX-History-Restore-Request": "true"})
    assert "<html" in restored.get_data(as_text=True)


def test_htmx_filter_is_scoped_and_filtered(signed_in):
    client = signed_in("contractmanager@mgr-noord-limburg.example")
    body = client.get("/organisaties/?soort=municipality", headers=HTMX).get_data(as_text=True)
    assert "Venlo" in body and "Zorggroep Maasland" not in body
    assert "7 organisaties gevonden" in body
