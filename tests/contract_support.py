"""What the contract tests share: a live server's database made ready for a site's integration.

The contract tests run against pytest-django's `live_server` on a transactional database (the
server thread reads what the test wrote), which starts empty: the shipped protocols are loaded
here, an active allocation list is generated, and an API user with a token is made.
"""

from __future__ import annotations

import importlib
import json
import urllib.request

from django.apps import apps
from django.contrib.auth import get_user_model

from ecrf.tokens import issue_token
from trials.models import Study
from trials.randomization.services import allocation_list_generate
from trials.services import load_protocol, shipped_protocol_paths

STUDY = "NCT05471050"


def prepare_site(*, slots_per_stratum: int = 20) -> tuple[Study, str]:
    """Loads the CTCAE terms, the shipped protocols and an active allocation list of STUDY;
    returns the study and a superuser's API token."""
    # A flushed database lost what data migrations load: the built-in CTCAE terms.
    importlib.import_module("visits.safety.migrations.0002_builtin_ctcae_terms").load_builtin_terms(
        apps, None
    )
    for path in shipped_protocol_paths():
        load_protocol(str(path))
    study = Study.objects.get(registry_id=STUDY)
    admin = get_user_model().objects.create_superuser("integrator", password="contract-2026")
    allocation_list_generate(actor=admin, study=study, seed=11, slots_per_stratum=slots_per_stratum)
    key, _ = issue_token(admin)
    return study, key


def live_schema(base_url: str, token: str) -> dict:
    """The schema as a signed-in client downloads it (JSON; the schema is not public)."""
    request = urllib.request.Request(
        f"{base_url}/api/schema/",
        headers={
            "Accept": "application/vnd.oai.openapi+json",
            "Authorization": f"Token {token}",
        },
    )
    with urllib.request.urlopen(request, timeout=60) as response:
        return json.loads(response.read())
