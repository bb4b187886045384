"""The plugins' tests use the core's fixtures (database, app, demo data, signed-in clients)."""
from tests.conftest import (app, app_config, client, database_url, demo,  # noqa: F401
                            signed_in)
