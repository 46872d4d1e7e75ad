"""``sync.salesforce``: answers read as simple-salesforce's json reading would read them."""

from __future__ import annotations

import json

import pytest
import requests

from sync.salesforce import _Salesforce


def answer(body: bytes) -> requests.Response:
    response = requests.Response()
    response.status_code = 200
    response._content = body
    response.encoding = "utf-8"
    return response


@pytest.mark.parametrize(
    "body",
    [
        b'{"records": [{"Id": "00Q1", "Score__c": 1.5, "N": 12, "Ok": true, "X": null}]}',
        '{"Name": "Zoë ✓", "Esc": "a\\u00e9\\n"}'.encode(),
        b'{"big": 123456789012345678901234567890}',  # beyond 64 bits: json's way
        b'[{"NaN": NaN}]',
    ],
)
def test_answers_parse_as_json_would(body):
    sf = _Salesforce(instance_url="https://org.example", session_id="token", object_pairs_hook=None)
    parsed = sf.parse_result_to_json(answer(body))
    assert repr(parsed) == repr(json.loads(body))
