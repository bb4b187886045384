"""An approved custom trajectory appears in the provider's catalogue, priced from the same tariffs."""
from __future__ import annotations

from sqlmodel import select

from portal import db
from portal.models import CustomTrajectory, User
from tests.test_url_map import _sample_proposal


def test_approved_custom_trajectory_is_in_the_providers_catalogue(app, demo, signed_in):
    with app.app_context():
        session = db.session()
        admin = session.exec(select(User).where(User.email == "beheer@zorggroep-maasland.example")).one()
        _sample_proposal(app, session, admin)
        custom = session.exec(select(CustomTrajectory)).one()
        year = custom.valid_from.year
    provider = signed_in("beheer@zorggroep-maasland.example").get(f"/catalogus/?jaar={year}").get_data(as_text=True)
    assert "Uw maatwerktrajecten in" in provider and custom.code in provider
    section = provider.split("Uw maatwerktrajecten in", 1)[1]
    assert "€" in section and "Geen prijs" not in section
    other = signed_in("beheer@thuishulp-venray.example").get(f"/catalogus/?jaar={year}").get_data(as_text=True)
    assert custom.code not in other and "geen goedgekeurde maatwerktrajecten" in other
    manager = signed_in("contractmanager@mgr-noord-limburg.example").get(f"/catalogus/?jaar={year}")
    assert "Uw maatwerktrajecten" not in manager.get_data(as_text=True)
