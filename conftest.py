"""The shared fixtures, for the tests in every app's `tests/` folder and in the top-level `tests/`.

pytest applies a conftest only to its own folder and below, so the fixtures live in
tests/fixtures.py and are registered here, at the root, as a plugin."""

pytest_plugins = ["tests.fixtures", "tests.browser"]
