"""Scripted dialogue suites: YAML user turns with assertions, run against a real App."""

# The catalogs a suite can name (runner.py `catalog_source` finds each one's file);
# kept here, light, so `recochat eval dialogues --catalog` offers the same choices.
CATALOGS = ("demo", "redial", "opendialkg")
