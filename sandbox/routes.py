"""URL routing and the REST resources under ``/services/data/vXX.X/``.

Paths are matched with and without trailing slashes; ``dispatch`` is also called in-process for
``/composite`` subrequests, so a subrequest behaves exactly as the same call made alone.
"""

import datetime as dt
import hmac
import os
import re

from sandbox import auth, bulk, composite, control, describe, faults, limits, query, records, soap
from sandbox.errors import ApiError, not_found
from sandbox.http import MultipleChoices, Request, Response, error_response, require
from sandbox.models import Record
from sandbox.records import DB, Op, Result, write_records
from sandbox.schema import ObjectMeta
from sandbox.values import BadValue, format_datetime, now, parse_datetime

VERSION_RE = re.compile(r"^v(\d{2,3}\.\d)$")
MIN_VERSION, MAX_VERSION = 50.0, 66.0


def _label(version: float) -> str:
    """Release name: v50.0 is Winter '21, then Spring, Summer, Winter … three a year."""
    step = int(version) - 50
    return f"{['Winter', 'Spring', 'Summer'][step % 3]} '{21 + step // 3:02d}"


def versions() -> list[dict]:
    out = []
    version = MIN_VERSION
    while version <= MAX_VERSION:
        out.append(
            {"label": _label(version), "url": f"/services/data/v{version}", "version": f"{version}"}
        )
        version += 1.0
    return out


def dispatch(request: Request) -> Response:
    """Route a request (top level or composite subrequest)."""
    segs = request.segments
    if segs[:3] == ["services", "oauth2", "token"] and len(segs) == 3:
        return oauth_token(request)
    if segs[:2] == ["services", "data"]:
        if len(segs) == 2:
            require(request, "GET", "HEAD")
            return Response(200, versions())
        match = VERSION_RE.match(segs[2])
        if not match or not MIN_VERSION <= float(match.group(1)) <= MAX_VERSION:
            raise not_found()
        request.version = match.group(1)
        _authenticate(request)
        response = data_resource(request, segs[3:])
        return response
    if segs[:1] == ["id"] and len(segs) == 3:
        _authenticate(request)
        return identity(request, segs[1], segs[2])
    if segs[:3] == ["services", "Soap", "u"] and len(segs) >= 4:
        require(request, "POST")
        status, xml = soap.login(request.body, request.instance_url, segs[3])
        return Response(status, raw=xml, content_type="text/xml;charset=UTF-8")
    if segs == ["_sandbox", "control"]:
        return control_endpoint(request)
    if segs[:2] == ["services", "async"]:
        raise ApiError(
            "InvalidVersion",
            "Bulk API 1.0 is not supported by the sandbox org; use Bulk API 2.0",
            404,
            None,
        )
    raise not_found()


def control_endpoint(request: Request) -> Response:
    """Test hook: run a ``sandbox/control.py`` action, only when SANDBOX_CONTROL_KEY is set."""
    key = os.environ.get("SANDBOX_CONTROL_KEY", "")
    if not key or not hmac.compare_digest(request.header("x-sandbox-control-key"), key):
        raise not_found()
    require(request, "POST")
    body = request.json()
    if not isinstance(body, dict):
        raise ApiError("INVALID_INPUT", "Expected a JSON object", 400, None)
    return Response(200, control.run(str(body.pop("action", "")), body))


def _authenticate(request: Request) -> None:
    if request.actor is not None:
        return
    header = request.header("authorization") or (
        f"Bearer {request.header('x-sfdc-session')}" if request.header("x-sfdc-session") else ""
    )
    request.actor = auth.authenticate(header)
    faults.before_call(request.actor.org)
    used, maximum = limits.count_call(request.actor.org)
    request.headers["x-limit-info"] = f"api-usage={used}/{maximum}"


def oauth_token(request: Request) -> Response:
    require(request, "POST")
    form = request.form()
    form.update({k: v for k, v in request.query.items() if k not in form})
    try:
        body = auth.issue_token(
            form=form,
            authorization=request.header("authorization"),
            instance_url=request.instance_url,
        )
    except auth.OAuthError as error:
        return Response(error.status, error.as_body())
    return Response(200, body)


def identity(request: Request, org_id: str, user_id: str) -> Response:
    actor = request.actor
    if actor.org.pk != org_id or actor.user_id != user_id:
        raise ApiError("Bad_Id", "Bad_Id", 403, None)
    data = Record.objects.using(DB).filter(pk=user_id).values_list("data", flat=True).first() or {}
    base = f"{request.instance_url}/services/data/v{{version}}/"
    return Response(
        200,
        {
            "id": f"{request.instance_url}/id/{org_id}/{user_id}",
            "asserted_user": True,
            "user_id": user_id,
            "organization_id": org_id,
            "username": actor.username,
            "nick_name": data.get("Alias"),
            "display_name": data.get("Name"),
            "email": data.get("Email"),
            "active": True,
            "user_type": "STANDARD",
            "language": "en_US",
            "locale": "en_US",
            "utcOffset": 0,
            "urls": {
                "rest": base,
                "sobjects": base + "sobjects/",
                "query": base + "query/",
                "limits": base + "limits/",
            },
        },
    )


def _with_limit_header(request: Request, response: Response) -> Response:
    info = request.headers.get("x-limit-info")
    if info and not request.internal:
        response.headers["Sforce-Limit-Info"] = info
    return response


def data_resource(request: Request, rest: list[str]) -> Response:
    try:
        response = _data_resource(request, rest)
    except ApiError as error:
        response = error_response(error)
    return _with_limit_header(request, response)


def _data_resource(request: Request, rest: list[str]) -> Response:
    if not rest:
        require(request, "GET", "HEAD")
        return Response(200, resources(request.version))
    head = rest[0]
    if head == "limits" and len(rest) == 1:
        require(request, "GET")
        return Response(200, limits.org_limits(request.actor.org))
    if head == "sobjects":
        return sobjects(request, rest[1:])
    if head in ("query", "queryAll"):
        return run_query(request, rest[1:], all_rows=head == "queryAll")
    if head == "composite":
        return composite.route(request, rest[1:], dispatch=data_resource)
    if head == "jobs":
        return bulk.route(request, rest[1:])
    raise not_found()


def resources(version: str) -> dict:
    base = f"/services/data/v{version}"
    names = [
        "tooling",
        "metadata",
        "eclair",
        "folders",
        "prechatForms",
        "jobs",
        "sobjects",
        "connect",
        "query",
        "queryAll",
        "search",
        "composite",
        "limits",
        "recent",
        "identity",
        "analytics",
        "theme",
        "parameterizedSearch",
        "quickActions",
    ]
    body = {name: f"{base}/{name}" for name in names}
    body["identity"] = "/id/"
    return body


# -- sobjects --------------------------------------------------------------------------------


def _object(request: Request, name: str) -> ObjectMeta:
    obj = request.actor.schema.sobject(name)
    if obj is None or not request.actor.object_perm(obj)[0]:
        raise not_found()
    return obj


def sobjects(request: Request, rest: list[str]) -> Response:
    actor = request.actor
    if not rest:
        require(request, "GET", "HEAD")
        return Response(200, describe.describe_global(actor, request.version))
    obj = _object(request, rest[0])
    if len(rest) == 1:
        require(request, "GET", "POST", "HEAD")
        if request.method == "POST":
            return create(request, obj)
        return Response(200, describe.basic_info(actor, obj, request.version))
    second = rest[1]
    if len(rest) == 2 and second == "describe":
        require(request, "GET", "HEAD")
        return Response(200, describe.describe(actor, obj, request.version))
    if len(rest) == 2 and second in ("updated", "deleted"):
        require(request, "GET")
        return changed_ids(request, obj, deleted=second == "deleted")
    if len(rest) == 2:
        if second.lower() == "id" and request.method == "POST":
            return create(request, obj)
        return record_resource(request, obj, second)
    if len(rest) == 3:
        return external_id_resource(request, obj, second, rest[2])
    raise not_found()


def _single(request: Request, op: Op) -> Result:
    result = write_records(request.actor, [op], allow_duplicates=request.allows_duplicates())[0]
    if result.error:
        if result.error.status == 300:
            urls = [records.record_url(request.version, op.obj.name, i) for i in result.matches]
            raise MultipleChoices(urls)
        raise result.error
    return result


def create(request: Request, obj: ObjectMeta) -> Response:
    body = request.json()
    result = _single(request, Op("create", obj, body))
    return Response(
        201,
        {"id": result.id, "success": True, "errors": []},
        {"Location": records.record_url(request.version, obj.name, result.id)},
    )


def record_resource(request: Request, obj: ObjectMeta, record_id: str) -> Response:
    require(request, "GET", "PATCH", "DELETE", "HEAD")
    actor = request.actor
    if request.method in ("GET", "HEAD"):
        record = records.fetch(actor, obj, record_id)
        fields = _requested_fields(request, obj)
        return Response(200, records.serialize(actor, obj, record.data, request.version, fields))
    if request.method == "PATCH":
        body = request.json()
        _single(request, Op("update", obj, body, record_id=record_id))
        return Response(204)
    _single(request, Op("delete", obj, record_id=record_id))
    return Response(204)


def _requested_fields(request: Request, obj: ObjectMeta):
    names = request.query.get("fields")
    if not names:
        return None
    out = []
    for name in names.split(","):
        fmeta = request.actor.visible_field(obj, name.strip())
        if fmeta is None:
            raise ApiError(
                "INVALID_FIELD",
                f"No such column '{name.strip()}' on sobject of type {obj.name}",
                400,
                [],
            )
        out.append(fmeta)
    return out


def external_id_resource(request: Request, obj: ObjectMeta, field: str, value: str) -> Response:
    require(request, "GET", "PATCH", "DELETE", "HEAD", "POST")
    actor = request.actor
    fmeta = actor.visible_field(obj, field)
    if fmeta is None or not (fmeta.external_id or fmeta.name in ("Id",)):
        raise ApiError(
            "NOT_FOUND",
            f"Provided external ID field does not exist or is not accessible: {field}",
            404,
            None,
        )
    if request.method == "PATCH" or (request.method == "POST" and fmeta.name == "Id"):
        body = request.json()
        if request.query.get("updateOnly") == "true" and not records.find_by_field(
            actor, obj, fmeta, value
        ):
            raise not_found()
        result = _single(request, Op("upsert", obj, body, ext_field=fmeta.name, ext_value=value))
        return Response(
            201 if result.created else 200,
            {"id": result.id, "success": True, "errors": [], "created": result.created},
        )
    found = records.find_by_field(actor, obj, fmeta, value)
    if len(found) > 1:
        return Response(300, [records.record_url(request.version, obj.name, r.pk) for r in found])
    if not found:
        raise not_found()
    if request.method == "DELETE":
        _single(request, Op("delete", obj, record_id=found[0].pk))
        return Response(204)
    fields = _requested_fields(request, obj)
    return Response(200, records.serialize(actor, obj, found[0].data, request.version, fields))


def _window(request: Request) -> tuple[dt.datetime, dt.datetime]:
    try:
        start = parse_datetime(request.query.get("start", "")).replace(second=0, microsecond=0)
        end = parse_datetime(request.query.get("end", "")).replace(second=0, microsecond=0)
    except BadValue as exc:
        raise ApiError(
            "INVALID_REPLICATION_DATE", "Invalid startDate or endDate", 400, None
        ) from exc
    if start >= end:
        raise ApiError(
            "INVALID_REPLICATION_DATE",
            "startDate must chronologically precede endDate by more than one minute",
            400,
            None,
        )
    return start, min(end, now())


def changed_ids(request: Request, obj: ObjectMeta, *, deleted: bool) -> Response:
    """``/updated`` (by SystemModstamp) and ``/deleted`` (by deletion time)."""
    start, end = _window(request)
    actor = request.actor
    rows = Record.objects.using(DB).filter(org_id=actor.org.pk, sobject=obj.name)
    if not actor.sees_all(obj):
        rows = rows.filter(owner_id__in=actor.visible_owner_ids())
    covered = format_datetime(end)
    if deleted:
        found = rows.filter(is_deleted=True, deleted_at__gte=start, deleted_at__lt=end)
        items = [
            {"id": i, "deletedDate": format_datetime(when)}
            for i, when in found.order_by("deleted_at").values_list("id", "deleted_at")
        ]
        earliest = format_datetime(now() - dt.timedelta(days=15))
        return Response(
            200,
            {
                "deletedRecords": items,
                "earliestDateAvailable": earliest,
                "latestDateCovered": covered,
            },
        )
    found = rows.filter(is_deleted=False, system_modstamp__gte=start, system_modstamp__lt=end)
    return Response(
        200,
        {
            "ids": list(found.order_by("system_modstamp").values_list("id", flat=True)[:600_001]),
            "latestDateCovered": covered,
        },
    )


# -- query -----------------------------------------------------------------------------------


def _batch_size(request: Request) -> int:
    options = request.header("sforce-query-options")
    match = re.search(r"batchSize\s*=\s*(\d+)", options, re.IGNORECASE)
    if not match:
        return query.DEFAULT_BATCH
    return max(200, min(2000, int(match.group(1))))


def run_query(request: Request, rest: list[str], *, all_rows: bool) -> Response:
    require(request, "GET", "HEAD")
    if rest:
        return Response(200, query.continue_query(request.actor, rest[0]))
    text = request.query.get("q")
    if text is None:
        raise ApiError("MALFORMED_QUERY", "A query string has to be specified", 400, None)
    return Response(
        200,
        query.start_query(
            request.actor,
            text,
            all_rows=all_rows,
            version=request.version,
            batch=_batch_size(request),
        ),
    )
