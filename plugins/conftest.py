"""The plugins' tests use the core's fixtures (database, app, demo data, signed-in clients)."""
from tests.conftest import app, app_config, client, database_url, demo, signed_in  # noqa: F401
