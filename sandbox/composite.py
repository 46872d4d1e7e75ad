"""sObject Collections (``/composite/sobjects``) and Composite (``/composite``).

Collections: ≤ 200 records, per-record results in request order with ``statusCode`` errors,
HTTP 200 whenever the request itself is well formed, ``allOrNone`` rollback. Composite: ≤ 25
subrequests, of which ≤ 5 are queries or sObject Collections, run in order through the same
dispatcher, ``@{ref.path}`` references resolved from earlier results; with ``allOrNone`` a
failure rolls back the writes before it. A Composite call counts as one API request, whatever
it holds: subrequests go straight to the ``dispatch`` the router hands in (its resource
dispatcher under ``/services/data/vXX.X/``), past the counting.
"""

import json
import re
import time
from collections.abc import Callable
from urllib.parse import unquote

from django.db import OperationalError, transaction

from sandbox import ids, records
from sandbox.errors import ApiError, not_found
from sandbox.http import Request, Response, error_response, parse_query, require
from sandbox.records import DB, Op, write_records

MAX_RECORDS = 200
MAX_SUBREQUESTS = 25
DEADLOCK_ATTEMPTS = 5
MAX_HEAVY = 5  # query / queryAll / query-more / sObject Collections subrequests per Composite
HEAVY_RE = re.compile(r"^/?services/data/v[\d.]+/(query|queryAll|composite/sobjects)(/|\?|$)")
REFERENCE_RE = re.compile(r"@\{([A-Za-z0-9_]+)((?:\.[A-Za-z0-9_]+|\[\d+\])+)\}")

# Answers a request for ``/services/data/vXX.X/<rest>`` (the router's resource dispatcher).
Dispatch = Callable[[Request, list[str]], Response]


def route(request: Request, rest: list[str], *, dispatch: Dispatch) -> Response:
    """``/composite…``; ``dispatch`` runs each Composite and batch subrequest."""
    if not rest:
        require(request, "POST")
        return composite(request, dispatch)
    if rest[0] == "sobjects":
        return collections(request, rest[1:])
    if rest[0] == "batch" and len(rest) == 1:
        require(request, "POST")
        return batch(request, dispatch)
    raise not_found()


# -- collections -----------------------------------------------------------------------------


def _records_body(request: Request) -> tuple[list, bool]:
    body = request.json()
    if not isinstance(body, dict) or not isinstance(body.get("records"), list):
        raise ApiError(
            "JSON_PARSER_ERROR", "The request body must contain a 'records' array.", 400, None
        )
    items = body["records"]
    if len(items) > MAX_RECORDS:
        raise ApiError(
            "EXCEEDED_ID_LIMIT",
            "record limit reached. cannot submit more than 200 records into this call",
            400,
            None,
        )
    return items, bool(body.get("allOrNone", False))


def _typed_object(request: Request, item: object):
    attributes = item.get("attributes") if isinstance(item, dict) else None
    name = attributes.get("type") if isinstance(attributes, dict) else None
    if not name:
        raise ApiError("INVALID_TYPE", "Must send a concrete entity type.", 400, [])
    obj = request.actor.schema.sobject(name)
    if obj is None or not request.actor.object_perm(obj)[0]:
        raise ApiError("INVALID_TYPE", f"sObject type '{name}' is not supported.", 400, [])
    return obj


def _ops(request: Request, items: list, kind: str, obj=None, ext_field: str = "") -> list:
    """One Op per record; a record that cannot even be typed becomes an error placeholder."""
    ops = []
    for item in items:
        try:
            target = obj or _typed_object(request, item)
            if not isinstance(item, dict):
                raise ApiError("JSON_PARSER_ERROR", "Each record must be a JSON object.", 400, [])
            if kind == "create" and any(k.lower() == "id" for k in item):
                raise ApiError("INVALID_FIELD", "Cannot specify Id in an insert call", 400, ["Id"])
            if kind == "update":
                record_id = item.get("Id") or item.get("id")
                if not record_id:
                    raise ApiError(
                        "MISSING_ARGUMENT", "Id not specified in an update call", 400, []
                    )
                body = {k: v for k, v in item.items() if k.lower() != "id"}
                ops.append(Op("update", target, body, record_id=str(record_id)))
            elif kind == "upsert":
                value = _ext_value(item, ext_field)
                ops.append(Op("upsert", target, item, ext_field=ext_field, ext_value=value))
            else:
                ops.append(Op("create", target, item))
        except ApiError as error:
            ops.append(error)
    return ops


def _ext_value(item: dict, ext_field: str) -> str | None:
    for key, value in item.items():
        if key.lower() == ext_field.lower():
            return None if value is None else str(value)
    return None


def _run(request: Request, ops: list, all_or_none: bool, *, with_created: bool) -> Response:
    prefailed = any(isinstance(op, ApiError) for op in ops)
    good = [op for op in ops if isinstance(op, Op)]
    results = iter(
        write_records(
            request.actor,
            good,
            all_or_none=all_or_none,
            allow_duplicates=request.allows_duplicates(),
            others_failed=prefailed,
        )
    )
    out = []
    for op in ops:
        if isinstance(op, ApiError):
            out.append({"success": False, "errors": [op.as_result()]})
        else:
            out.append(_result_body(next(results), with_created))
    return Response(200, out)


def _result_body(result: records.Result, with_created: bool) -> dict:
    body = result.as_dict(with_created=with_created)
    if result.error and result.error.status == 300:
        body["errors"] = [
            {
                "statusCode": "DUPLICATE_EXTERNAL_ID",
                "message": "Duplicate external id specified",
                "fields": result.error.fields,
            }
        ]
    return body


def collections(request: Request, rest: list[str]) -> Response:
    if not rest:
        require(request, "POST", "PATCH", "DELETE")
        if request.method == "DELETE":
            return _delete(request)
        items, all_or_none = _records_body(request)
        kind = "create" if request.method == "POST" else "update"
        return _run(request, _ops(request, items, kind), all_or_none, with_created=False)
    obj = request.actor.schema.sobject(rest[0])
    if obj is None or not request.actor.object_perm(obj)[0]:
        raise not_found()
    if len(rest) == 1:
        require(request, "GET", "POST")
        return _retrieve(request, obj)
    if len(rest) == 2:
        require(request, "PATCH")
        items, all_or_none = _records_body(request)
        fmeta = request.actor.visible_field(obj, rest[1])
        if fmeta is None or not fmeta.external_id:
            raise ApiError(
                "NOT_FOUND",
                f"Provided external ID field does not exist or is not accessible: {rest[1]}",
                404,
                None,
            )
        return _run(
            request, _ops(request, items, "upsert", obj, fmeta.name), all_or_none, with_created=True
        )
    raise not_found()


def _delete(request: Request) -> Response:
    raw = [i for i in request.query.get("ids", "").split(",") if i]
    if not raw:
        raise ApiError("MISSING_ARGUMENT", "ids parameter is required", 400, None)
    if len(raw) > MAX_RECORDS:
        raise ApiError(
            "EXCEEDED_ID_LIMIT",
            "record limit reached. cannot submit more than 200 records into this call",
            400,
            None,
        )
    schema = request.actor.schema
    ops = []
    for record_id in raw:
        obj = schema.by_prefix.get(record_id[:3]) if ids.normalize(record_id) else None
        ops.append(
            Op("delete", obj, record_id=record_id)
            if obj
            else ApiError("MALFORMED_ID", f"malformed id {record_id}", 400, [])
        )
    all_or_none = request.query.get("allOrNone", "false").lower() == "true"
    response = _run(request, ops, all_or_none, with_created=False)
    for body, record_id in zip(response.payload, raw, strict=True):
        body.setdefault("id", ids.normalize(record_id) if not body["success"] else body["id"])
    return response


def _retrieve(request: Request, obj) -> Response:
    if request.method == "POST":
        body = request.json()
        wanted = body.get("ids", []) if isinstance(body, dict) else []
        names = body.get("fields", []) if isinstance(body, dict) else []
    else:
        wanted = [i for i in request.query.get("ids", "").split(",") if i]
        names = [f for f in request.query.get("fields", "").split(",") if f]
    actor = request.actor
    fields = []
    for name in names:
        fmeta = actor.visible_field(obj, name)
        if fmeta is None:
            raise ApiError(
                "INVALID_FIELD", f"No such column '{name}' on sobject of type {obj.name}", 400, []
            )
        fields.append(fmeta)
    out = []
    for record_id in wanted:
        try:
            record = records.fetch(actor, obj, str(record_id))
        except ApiError:
            out.append(None)
            continue
        out.append(records.serialize(actor, obj, record.data, request.version, fields or None))
    return Response(200, out)


# -- composite -------------------------------------------------------------------------------


def _lookup(results: dict, ref: str, path: str) -> object:
    if ref not in results:
        raise ApiError(
            "INVALID_REFERENCE",
            f"Invalid reference specified. No value for {ref}"
            f"{path} found in {ref}. Provided referenceId ('{ref}') must be declared "
            "before it is used.",
            400,
            None,
        )
    value = results[ref]
    for key, index in re.findall(r"\.([A-Za-z0-9_]+)|\[(\d+)\]", path):
        try:
            value = value[int(index)] if index else value[key]
        except (KeyError, IndexError, TypeError) as exc:
            raise ApiError(
                "INVALID_REFERENCE",
                f"Invalid reference specified. No value for {ref}{path} found in {ref}.",
                400,
                None,
            ) from exc
    return value


def _substitute(node: object, results: dict) -> object:
    if isinstance(node, str):
        whole = REFERENCE_RE.fullmatch(node)
        if whole:
            return _lookup(results, whole.group(1), whole.group(2))
        return REFERENCE_RE.sub(lambda m: str(_lookup(results, m.group(1), m.group(2))), node)
    if isinstance(node, dict):
        return {k: _substitute(v, results) for k, v in node.items()}
    if isinstance(node, list):
        return [_substitute(v, results) for v in node]
    return node


def _subrequest(request: Request, sub: dict, results: dict, dispatch: Dispatch) -> Response:
    url = _substitute(sub.get("url", ""), results)
    method = str(sub.get("method", "")).upper()
    if method not in ("GET", "POST", "PATCH", "DELETE", "PUT", "HEAD"):
        raise ApiError("INVALID_INPUT", f"Invalid method: {method}", 400, None)
    path, _, query_text = str(url).partition("?")
    parts = [p for p in path.split("/") if p]
    if parts[:2] != ["services", "data"] or len(parts) < 3:
        raise ApiError("INVALID_INPUT", f"The URL {url} is not valid for a subrequest", 400, None)
    body = sub.get("body")
    inner = Request(
        method=method,
        segments=[unquote(p) for p in parts],
        query=parse_query(query_text),
        headers={
            **request.headers,
            **{k.lower(): v for k, v in (sub.get("httpHeaders") or {}).items()},
        },
        body=json.dumps(_substitute(body, results)).encode() if body is not None else b"",
        instance_url=request.instance_url,
        version=parts[2][1:],
        actor=request.actor,
        internal=True,
    )
    return dispatch(inner, parts[3:])


def composite(request: Request, dispatch: Dispatch) -> Response:
    body = request.json()
    subs = body.get("compositeRequest") if isinstance(body, dict) else None
    if not isinstance(subs, list) or not subs:
        raise ApiError("JSON_PARSER_ERROR", "compositeRequest is required", 400, None)
    if len(subs) > MAX_SUBREQUESTS:
        return _limit_exceeded(
            f"The request can\u2019t contain more than {MAX_SUBREQUESTS} operations."
        )
    if sum(1 for sub in subs if _heavy(sub)) > MAX_HEAVY:
        return _limit_exceeded(
            f"The request can\u2019t contain more than {MAX_HEAVY} query or sObject Collections "
            "operations."
        )
    all_or_none = bool(body.get("allOrNone", False))
    for attempt in range(1, DEADLOCK_ATTEMPTS + 1):
        try:
            with transaction.atomic(using=DB):
                out, failed = _run_subrequests(request, subs, all_or_none, dispatch)
                if all_or_none and failed:
                    transaction.set_rollback(True, using=DB)
            return Response(200, {"compositeResponse": out})
        except OperationalError as exc:
            # Each subrequest locks its values in order, but not across subrequests: a
            # concurrent writer may deadlock with us. PostgreSQL rolled the whole call back,
            # so it simply runs again (Salesforce waits for locked rows before it gives up).
            if attempt == DEADLOCK_ATTEMPTS or getattr(exc.__cause__, "sqlstate", "") != "40P01":
                raise
            time.sleep(0.05 * attempt)
    raise AssertionError("unreachable")


def _heavy(sub: object) -> bool:
    return isinstance(sub, dict) and bool(HEAVY_RE.match(str(sub.get("url", ""))))


def _limit_exceeded(message: str) -> Response:
    """A Composite over its limits: one LIMIT_EXCEEDED entry, nothing run.

    Body shape observed from a real org for the 25-operation limit [OBS: guardian/
    support-service-lambdas PR #766]; the top-level HTTP 400 and the wording for the
    5-query/collections limit are UNVERIFIED.
    """
    entry = {
        "body": [{"errorCode": "LIMIT_EXCEEDED", "message": message}],
        "httpHeaders": {},
        "httpStatusCode": 400,
        "referenceId": None,
    }
    return Response(400, {"compositeResponse": [entry]})


def _run_subrequests(
    request: Request, subs: list, all_or_none: bool, dispatch: Dispatch
) -> tuple[list, bool]:
    results: dict = {}
    out: list[dict] = []
    failed = False
    for sub in subs:
        ref = sub.get("referenceId", "") if isinstance(sub, dict) else ""
        if failed and all_or_none:
            out.append(_halted(ref))
            continue
        try:
            response = _subrequest(request, sub, results, dispatch)
        except ApiError as error:
            response = error_response(error)
        headers = {k: v for k, v in response.headers.items() if k == "Location"}
        out.append(
            {
                "body": response.payload,
                "httpHeaders": headers,
                "httpStatusCode": response.status,
                "referenceId": ref,
            }
        )
        results[ref] = response.payload
        failed = failed or response.status >= 400
    if all_or_none and failed:
        for entry in out:
            if entry["httpStatusCode"] < 400:
                entry.update(_rolled_back(entry["referenceId"]))
    return out, failed


def _halted(ref: str) -> dict:
    return {
        "body": [
            {
                "errorCode": "PROCESSING_HALTED",
                "message": "The transaction was rolled "
                "back since another operation in the same transaction failed.",
            }
        ],
        "httpHeaders": {},
        "httpStatusCode": 400,
        "referenceId": ref,
    }


def _rolled_back(ref: str) -> dict:
    return _halted(ref)


def batch(request: Request, dispatch: Dispatch) -> Response:
    """``/composite/batch``: independent subrequests with version-relative URLs."""
    body = request.json()
    subs = body.get("batchRequests") if isinstance(body, dict) else None
    if not isinstance(subs, list) or len(subs) > MAX_SUBREQUESTS:
        raise ApiError(
            "INVALID_BATCH_REQUEST", "batchRequests must hold 1 to 25 requests", 400, None
        )
    halt = bool(body.get("haltOnError"))
    out, has_errors = [], False
    for sub in subs:
        if halt and has_errors:
            out.append(
                {
                    "statusCode": 412,
                    "result": [
                        {
                            "errorCode": "BATCH_PROCESSING_HALTED",
                            "message": "Batch processing halted per request",
                        }
                    ],
                }
            )
            continue
        url = "/services/data/" + str(sub.get("url", "")).lstrip("/")
        item = {"method": sub.get("method"), "url": url, "body": sub.get("richInput")}
        try:
            response = _subrequest(request, item, {}, dispatch)
        except ApiError as error:
            response = error_response(error)
        has_errors = has_errors or response.status >= 400
        out.append({"statusCode": response.status, "result": response.payload})
    return Response(200, {"hasErrors": has_errors, "results": out})
