"""A trivial HTTPS endpoint for benchmarks: canned Salesforce-shaped answers, no database.

Benchmarks print each sandbox figure beside the same call against this server, so the
sandbox's own share (over TLS, HTTP and JSON costs) is visible.
"""

import json

PAGE = 2000
TOTAL = 100_000
CREATED = json.dumps({"id": "00Q5g00000ZZZZZEA5", "success": True, "errors": []}).encode()


def _page(offset: int) -> bytes:
    records = [
        {
            "attributes": {
                "type": "Lead",
                "url": "/services/data/v59.0/sobjects/Lead/00Q5g00000ZZZZZEA5",
            },
            "Id": "00Q5g00000ZZZZZEA5",
            "LastName": f"Seed {offset + i}",
            "Company": "Bench Co",
            "Email": f"seed{offset + i}@bench.example",
        }
        for i in range(PAGE)
    ]
    body = {"totalSize": TOTAL, "done": offset + PAGE >= TOTAL, "records": records}
    if not body["done"]:
        body["nextRecordsUrl"] = f"/services/data/v59.0/query/01gTRIVIAL-{offset + PAGE}"
    return json.dumps(body).encode()


def application(environ: dict, start_response) -> list[bytes]:
    """Answer creates, collections and query pages with fixed bodies."""
    path = environ.get("PATH_INFO", "")
    length = int(environ.get("CONTENT_LENGTH") or 0)
    raw = environ["wsgi.input"].read(length) if length else b""
    if "/query/01gTRIVIAL-" in path:
        body = _page(int(path.rsplit("-", 1)[1]))
    elif "/query" in path:
        body = _page(0)
    elif "composite/sobjects" in path:
        count = len(json.loads(raw).get("records", [])) if raw else 0
        body = json.dumps([json.loads(CREATED)] * count).encode()
    else:
        body = CREATED
    status = (
        "201 Created"
        if environ["REQUEST_METHOD"] == "POST" and "/sobjects/" in path and "composite" not in path
        else "200 OK"
    )
    start_response(
        status,
        [("Content-Type", "application/json;charset=UTF-8"), ("Content-Length", str(len(body)))],
    )
    return [body]
