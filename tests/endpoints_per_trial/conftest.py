"""Every test of the package evaluates the design as stored in the database."""

from __future__ import annotations

import pytest

from tests.endpoints_per_trial.support import load_stored_design


@pytest.fixture(autouse=True)
def stored_design(db) -> None:
    load_stored_design()
