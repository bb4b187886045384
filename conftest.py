"""Options for the whole test suite (the core's tests/ and each plugin's tests/)."""
import os


def pytest_addoption(parser):
    parser.addoption("--db", default=os.environ.get("PORTAL_TEST_DB", "sqlite"),
                     choices=("sqlite", "postgresql"), help="database to run the suite on")


def pytest_report_header(config):
    return f"portal database: {config.getoption('--db')}"
