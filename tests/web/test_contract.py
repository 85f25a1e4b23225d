"""The JSON API keeps the contract /openapi.json states, checked by Schemathesis: requests
generated from the document (valid ones and, for each parameter, invalid ones) against the app
over the seeded archive and its search index. No 5xx, every response as described, every valid
request answered, every invalid one refused."""

from __future__ import annotations

import json

import schemathesis
from hypothesis import HealthCheck, settings
from schemathesis import GenerationMode

from newsdiff.web.openapi import DOCUMENT

MAX_EXAMPLES = 25  # per operation and mode: the suite stays fast (about 20 s for all of them)


# The document the app serves (test_openapi_document_is_what_the_app_serves checks they match).
schema = schemathesis.openapi.from_dict(DOCUMENT)
schema.config.generation.update(
    modes=[GenerationMode.POSITIVE, GenerationMode.NEGATIVE],
    max_examples=MAX_EXAMPLES,
    deterministic=True,
    database="none",
)


def test_openapi_document_is_what_the_app_serves(client):
    assert client.get("/openapi.json").json() == json.loads(json.dumps(DOCUMENT))


@schema.parametrize()
@settings(
    max_examples=MAX_EXAMPLES,
    deadline=None,
    derandomize=True,
    suppress_health_check=list(HealthCheck),
)
def test_the_api_keeps_its_contract(case, live_server):
    case.call_and_validate(base_url=live_server)
