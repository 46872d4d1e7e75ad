"""The only module that talks to Salesforce.

It obtains tokens from the connector's login URL, hands simple-salesforce an ``instance_url``,
a session id and a ``requests.Session`` that trusts the connector's CA bundle, and turns every
library or transport failure into one exception of ours, :class:`SalesforceError`, carrying
Salesforce's ``errorCode``, message, fields and whether it is transient — so the engine decides
retry or record.

Only calls that are safe to repeat are retried when their outcome is unknown (a timeout, a
dropped connection, a 5xx): reads, updates by id, upserts on an external id, and Composite
calls made only of those. A plain create whose answer is lost is never sent again — it may
have been committed, and a second one would be a duplicate.
"""

from __future__ import annotations

import contextlib
import csv
import hashlib
import io
import json
import logging
import random
import tempfile
import time
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TypeVar
from urllib.parse import quote, urlsplit

import orjson
import requests
import simple_salesforce
from django.conf import settings
from simple_salesforce import exceptions as sf_exceptions
from simple_salesforce.bulk2 import Operation

from sync import login_hosts

log = logging.getLogger(__name__)

T = TypeVar("T")
TIMEOUT = (10, 120)  # connect, read (seconds)
COLLECTION_SIZE = 200  # sObject Collections accept at most 200 records per call
# A Composite call counts as one API call and carries up to 25 subrequests, at most 5 of them
# queries or sObject Collections — so 1,000 records written, or five queries, per call.
COMPOSITE_HEAVY = 5
# A query subrequest travels in a URL; real orgs refuse URIs over 16,384 bytes.
QUERY_URL_BUDGET = 12_000
DUPLICATE_RULE_HEADER = {"Sforce-Duplicate-Rule-Header": "allowSave=true"}
BULK_POLL = 0.25  # seconds between Bulk API job status checks (each check is an API call),
BULK_POLL_MAX = 2.0  # growing to this
BULK_PAGE_ROWS = 50_000  # rows per Bulk API query result page (Salesforce's own default)
BULK_DOWNLOAD_CHUNK = 1 << 16  # bytes read at a time while a result page is streamed to disk
BULK_DONE = frozenset({"JobComplete", "Failed", "Aborted"})
# HTTP methods that do the same thing however often they are sent (Salesforce's PATCH is an
# update by id or an upsert on an external id; POST creates).
IDEMPOTENT_METHODS = frozenset({"GET", "HEAD", "PUT", "PATCH", "DELETE"})

# Failures that go away on their own: retried with backoff, recorded only when retries run out.
TRANSIENT_CODES = frozenset(
    {
        "UNABLE_TO_LOCK_ROW",
        "SERVER_UNAVAILABLE",
        "REQUEST_LIMIT_EXCEEDED",
        "REQUEST_RUNNING_TOO_LONG",
        "QUERY_TIMEOUT",
        "CONNECTION_ERROR",
        "TIMEOUT",
        "SERVER_ERROR",
    }
)


def csv_rows(text: str) -> Iterator[dict[str, str]]:
    """A Bulk API CSV page held as text, as dicts (see :func:`csv_records`)."""
    return csv_records(_lines(text))


def csv_records(lines: Iterable[str]) -> Iterator[dict[str, str]]:
    """Bulk API CSV lines as dicts, header → value: ``csv.DictReader`` without its per-row
    Python bookkeeping (Salesforce's rows always have the header's columns; blank lines are
    skipped, as DictReader skips them)."""
    rows = csv.reader(lines)
    header = next(rows, None)
    if header:
        for row in rows:
            if row:
                yield dict(zip(header, row, strict=False))


def _lines(text: str) -> Iterator[str]:
    """The page's lines, ends kept, one at a time. ``io.StringIO`` would copy the whole page
    first, at four bytes a character (its buffer is UCS-4): a 50,000-row page took over
    100 MB. Lines end at LF only (a CR before it stays with its line), so the csv
    module still sees a quoted value's own line breaks as data; ``str.splitlines`` would also
    break at U+2028 and its kin, ending a record in the middle of an unquoted value."""
    start, end = 0, len(text)
    find = text.find
    while start < end:
        stop = find("\n", start)
        if stop < 0:
            yield text[start:]
            return
        yield text[start : stop + 1]
        start = stop + 1


# 19 digits in a row may be an integer beyond 64 bits, which orjson would read as a float: seen
# by turning every digit into "0" (bytes.translate, C speed) and looking for 19 of them.
_DIGITS_AS_ZERO = bytes.maketrans(b"0123456789", b"0" * 10)
_LONG_NUMBER = b"0" * 19


class _Salesforce(simple_salesforce.Salesforce):
    """simple-salesforce with REST answers (queries, Composite, Collections) parsed by orjson:
    a lookup of thousands of records parses a few times faster, into the same plain dicts.
    An answer that may hold an integer beyond 64 bits is read by json, which keeps it exact."""

    def parse_result_to_json(self, result: requests.Response):
        content = result.content
        if _LONG_NUMBER not in content.translate(_DIGITS_AS_ZERO):
            try:
                return orjson.loads(content)
            except orjson.JSONDecodeError:  # NaN, or no JSON at all: json's way
                pass
        return super().parse_result_to_json(result)


class SalesforceError(Exception):
    """Any failure talking to Salesforce, in Salesforce's terms."""

    def __init__(
        self,
        code: str,
        message: str,
        *,
        fields: Sequence[str] = (),
        status: int | None = None,
        transient: bool | None = None,
        extra: dict | None = None,
    ) -> None:
        super().__init__(f"{code}: {message}")
        self.code = code
        self.message = message
        self.fields = list(fields)
        self.status = status
        self.transient = code in TRANSIENT_CODES if transient is None else transient
        self.extra = extra or {}

    @property
    def outcome_unknown(self) -> bool:
        """No answer, or a 5xx: Salesforce may have done the work. Only an idempotent call may
        be repeated after this; any other answer means the request was refused as a whole."""
        return self.code in {"TIMEOUT", "CONNECTION_ERROR"} or (self.status or 0) >= 500


@dataclass(frozen=True)
class BulkJob:
    """A Bulk API 2.0 ingest job Salesforce is processing."""

    sobject: str
    job_id: str
    external_id: str
    rows: int
    started: float
    # An insert job has no external id: its result rows are keyed on the first of these
    # columns that is filled (a CampaignMember's ContactId or LeadId).
    key_fields: tuple[str, ...] = ()

    def key_of(self, row: dict[str, str]) -> str:
        if self.external_id:
            return row[self.external_id]
        return next((row[name] for name in self.key_fields if row.get(name)), "")


@dataclass(frozen=True)
class Credentials:
    """What it takes to get a token; secrets are never part of ``repr``."""

    login_url: str
    grant_type: str
    client_id: str
    client_secret: str = field(repr=False, default="")
    username: str = ""
    password: str = field(repr=False, default="")
    api_version: str = "62.0"
    ca_bundle: str = field(repr=False, default="")

    @classmethod
    def from_connector(cls, connector) -> Credentials:
        return cls(
            login_url=connector.login_url,
            grant_type=connector.grant_type,
            client_id=connector.client_id,
            client_secret=connector.client_secret,
            username=connector.username,
            password=connector.password,
            api_version=connector.api_version,
            ca_bundle=connector.ca_bundle,
        )


@dataclass(frozen=True)
class Token:
    access_token: str = field(repr=False)
    instance_url: str
    identity_url: str
    issued_at: str = ""


@dataclass
class ConnectionCheck:
    instance_url: str
    user_id: str
    username: str
    organization_id: str
    api_version: str


class _TimeoutSession(requests.Session):
    """A session whose calls always time out (simple-salesforce passes none)."""

    def request(self, method, url, **kwargs):  # type: ignore[override]
        kwargs.setdefault("timeout", TIMEOUT)
        return super().request(method, url, **kwargs)


def _ca_file(pem: str) -> str:
    """Write a PEM bundle once to var/ca/ and return its path (requests wants a file)."""
    folder = Path(settings.VAR_DIR) / "ca"
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / f"{hashlib.sha256(pem.encode()).hexdigest()[:16]}.pem"
    if not path.exists():
        path.write_text(pem)
    return str(path)


def make_session(ca_bundle: str = "") -> requests.Session:
    """A session that verifies certificates against ``ca_bundle`` (PEM text) when given.

    requests lets REQUESTS_CA_BUNDLE/CURL_CA_BUNDLE override ``verify``; ``trust_env = False``
    makes the configured bundle win.
    """
    session = _TimeoutSession()
    if ca_bundle.strip():
        session.trust_env = False
        session.verify = _ca_file(ca_bundle) if "-----BEGIN" in ca_bundle else ca_bundle.strip()
    return session


def _transport_error(exc: requests.RequestException) -> SalesforceError:
    if isinstance(exc, requests.exceptions.SSLError):
        return SalesforceError(
            "TLS_ERROR",
            "The server's certificate could not be verified (check the CA bundle).",
            transient=False,
        )
    if isinstance(exc, requests.Timeout):
        return SalesforceError("TIMEOUT", "Salesforce did not answer in time.")
    if isinstance(exc, requests.exceptions.InvalidURL | requests.exceptions.MissingSchema):
        return SalesforceError("INVALID_URL", f"Not a usable URL: {exc}", transient=False)
    return SalesforceError("CONNECTION_ERROR", "Could not reach Salesforce (connection failed).")


def obtain_token(credentials: Credentials, session: requests.Session) -> Token:
    """POST the OAuth grant to ``{login_url}/services/oauth2/token``.

    The secrets go to an allowed login host only (``sync.login_hosts``), and only there: a
    redirect is refused, not followed, and a token whose instance URL is not https is not used.
    """
    url = credentials.login_url.rstrip("/") + "/services/oauth2/token"
    if not login_hosts.is_allowed_login_url(url):
        raise SalesforceError(
            "LOGIN_HOST_NOT_ALLOWED", login_hosts.refusal(credentials.login_url), transient=False
        )
    data = {"grant_type": credentials.grant_type, "client_id": credentials.client_id}
    data["client_secret"] = credentials.client_secret
    if credentials.grant_type == "password":
        data.update(username=credentials.username, password=credentials.password)
    try:
        response = session.post(
            url, data=data, headers={"Accept": "application/json"}, allow_redirects=False
        )
    except requests.RequestException as exc:
        raise _transport_error(exc) from None
    if 300 <= response.status_code < 400:
        raise SalesforceError(
            "LOGIN_REDIRECT",
            f"the token call answered {response.status_code}, a redirect to "
            f"{response.headers.get('Location', '?')[:200]}; Leadbridge never sends credentials "
            "on to another URL. Enter the URL it points to if that is your org's login URL.",
            status=response.status_code,
            transient=False,
        )
    try:
        body = response.json()
    except ValueError:
        body = {}
    if isinstance(body, list) and body and isinstance(body[0], dict):
        # A REST-style error array (as a gateway in front of the org answers): its first error.
        body = {"error": body[0].get("errorCode"), "error_description": body[0].get("message")}
    elif not isinstance(body, dict):
        body = {}
    if response.status_code != 200 or "access_token" not in body:
        raise SalesforceError(
            body.get("error") or f"HTTP_{response.status_code}",
            body.get("error_description")
            or f"The login URL answered {response.status_code} without a token.",
            status=response.status_code,
            transient=response.status_code >= 500,
        )
    return Token(
        access_token=body["access_token"],
        instance_url=_https_instance_url(body.get("instance_url")),
        identity_url=body.get("id", ""),
        issued_at=body.get("issued_at", ""),
    )


def _https_instance_url(value: object) -> str:
    """The token's instance URL, refused unless https: the access token goes there next."""
    url = value if isinstance(value, str) else ""
    parts = urlsplit(url)
    if parts.scheme != "https" or not parts.hostname:
        raise SalesforceError(
            "INVALID_INSTANCE_URL",
            f"The token response named the instance URL {url[:200]!r}, which is not https; "
            "Leadbridge did not use it.",
            transient=False,
        )
    return url


def _error_from_library(exc: sf_exceptions.SalesforceError) -> SalesforceError:
    content = exc.content
    if isinstance(content, bytes | str):
        try:
            content = json.loads(content)
        except ValueError:
            content = [{"errorCode": f"HTTP_{exc.status}", "message": str(content)[:500]}]
    first = content[0] if isinstance(content, list) and content else content
    if not isinstance(first, dict):
        first = {}
    code = first.get("errorCode") or first.get("error") or f"HTTP_{exc.status}"
    if exc.status >= 500 and code.startswith("HTTP_"):
        code = "SERVER_ERROR"
    return SalesforceError(
        code,
        first.get("message") or first.get("error_description") or str(exc),
        fields=first.get("fields") or [],
        status=exc.status,
        # A 5xx is Salesforce failing, not the request: retried whatever its errorCode
        # (Salesforce answers UNKNOWN_EXCEPTION with 500 when it hiccups).
        transient=True if exc.status >= 500 else None,
        extra={"content": content},
    )


def with_retries[T](
    call: Callable[[], T],
    *,
    attempts: int = 4,
    base_delay: float = 0.2,
    max_delay: float = 5.0,
    idempotent: bool = True,
) -> T:
    """Run ``call``, retrying transient SalesforceErrors with exponential backoff and jitter.

    A call that is not idempotent is retried only when Salesforce refused it as a whole (a
    row lock, a request limit): after a lost answer or a 5xx it may have been carried out.
    """
    for attempt in range(1, attempts + 1):
        try:
            return call()
        except SalesforceError as exc:
            if not exc.transient or attempt == attempts:
                raise
            if not idempotent and exc.outcome_unknown:
                raise
            delay = min(max_delay, base_delay * 2 ** (attempt - 1)) * random.uniform(0.5, 1.5)
            log.info("Salesforce %s, retry %d in %.2fs", exc.code, attempt, delay)
            time.sleep(delay)
    raise AssertionError("unreachable")


class Client:
    """A logged-in connection to one org. Cheap to build; authenticates on first use."""

    def __init__(self, credentials: Credentials, *, retry_attempts: int = 4) -> None:
        self.credentials = credentials
        self.session = make_session(credentials.ca_bundle)
        self.retry_attempts = retry_attempts
        self._sf: simple_salesforce.Salesforce | None = None
        self._token: Token | None = None
        self._describes: dict[str, dict] = {}
        self._fields: dict[str, tuple[dict, dict[str, dict]]] = {}
        self.fetched_describes: dict[str, dict] = {}  # fetched by this client (to cache)
        self.memo: dict[str, dict] = {}  # what callers work out from describes, per client
        self.api_calls = 0
        # Called before every attempt of every call: the engine renews its queue claims here,
        # so they live exactly as long as the push that holds them is talking to Salesforce.
        self.before_call: Callable[[], None] | None = None

    @classmethod
    def for_connector(cls, connector, **kwargs) -> Client:
        return cls(Credentials.from_connector(connector), **kwargs)

    def __repr__(self) -> str:
        return f"<Client {self.credentials.login_url} {self.credentials.username}>"

    # -- authentication -------------------------------------------------------------------
    @property
    def token(self) -> Token | None:
        """The session this client holds (None before it first authenticates)."""
        return self._token

    def authenticate(self) -> Token:
        self._token = with_retries(
            lambda: obtain_token(self.credentials, self.session), attempts=self.retry_attempts
        )
        self._sf = _Salesforce(
            instance_url=self._token.instance_url,
            session_id=self._token.access_token,
            session=self.session,
            version=self.credentials.api_version,
            # Plain dicts: json's C decoder builds them itself; simple-salesforce's default
            # OrderedDict hook costs a Python call per JSON object of every response.
            object_pairs_hook=None,
        )
        return self._token

    @property
    def sf(self) -> simple_salesforce.Salesforce:
        if self._sf is None:
            self.authenticate()
        return self._sf  # type: ignore[return-value]

    @property
    def instance_url(self) -> str:
        if self._token is None:
            self.authenticate()
        return self._token.instance_url  # type: ignore[union-attr]

    def call(
        self, operation: Callable[[simple_salesforce.Salesforce], T], *, idempotent: bool = True
    ) -> T:
        """Run one API operation: library errors become SalesforceError; an expired session
        re-authenticates once; transient failures are retried with backoff (for a call that
        is not ``idempotent``, only those that prove Salesforce did nothing)."""

        def once() -> T:
            if self.before_call is not None:
                self.before_call()
            try:
                self.api_calls += 1
                return operation(self.sf)
            except sf_exceptions.SalesforceError as exc:
                raise _error_from_library(exc) from None
            except requests.RequestException as exc:
                raise _transport_error(exc) from None

        def with_reauth() -> T:
            try:
                return once()
            except SalesforceError as exc:
                if exc.code != "INVALID_SESSION_ID":
                    raise
                self.authenticate()
                return once()

        return with_retries(with_reauth, attempts=self.retry_attempts, idempotent=idempotent)

    @property
    def api_usage(self) -> tuple[int, int] | None:
        """(used, max) from the last Sforce-Limit-Info header, if any."""
        usage = getattr(self._sf, "api_usage", {}).get("api-usage") if self._sf else None
        return (usage.used, usage.total) if usage else None

    # -- metadata -------------------------------------------------------------------------
    def identity(self) -> dict:
        token = self._token or self.authenticate()
        user_id = token.identity_url.rstrip("/").rsplit("/", 1)[-1]
        org_id = token.identity_url.rstrip("/").rsplit("/", 2)[-2] if token.identity_url else ""
        user = self.call(lambda sf: sf.User.get(user_id)) if user_id else {}
        return {"user_id": user_id, "organization_id": org_id, **(user or {})}

    def describe_global(self) -> dict:
        return self.call(lambda sf: sf.describe())

    def described(self) -> set[str]:
        """The objects this client already holds a describe of."""
        return set(self._describes)

    def prime_describes(self, describes: dict[str, dict]) -> None:
        """Describes known to be recent (a shared cache): used instead of calling Salesforce."""
        for sobject, data in describes.items():
            self._describes.setdefault(sobject, data)

    def describe(self, sobject: str, *, refresh: bool = False) -> dict:
        if refresh or sobject not in self._describes:
            try:
                self._describes[sobject] = self.call(lambda sf: getattr(sf, sobject).describe())
                self.fetched_describes[sobject] = self._describes[sobject]
            except SalesforceError as exc:
                if exc.status == 404 or exc.code == "NOT_FOUND":
                    raise SalesforceError(
                        "INSUFFICIENT_ACCESS",
                        f"The connector user cannot see the {sobject} object "
                        "(its profile lost access).",
                        status=exc.status,
                        transient=False,
                    ) from None
                raise
        return self._describes[sobject]

    def fields_by_name(self, sobject: str) -> dict[str, dict]:
        describe = self.describe(sobject)
        cached = self._fields.get(sobject)
        if cached is None or cached[0] is not describe:
            cached = self._fields[sobject] = (describe, {f["name"]: f for f in describe["fields"]})
        return cached[1]

    def limits(self) -> dict:
        return self.call(lambda sf: sf.limits())

    # -- reading --------------------------------------------------------------------------
    def query_all(self, soql: str, *, include_deleted: bool = False) -> list[dict]:
        return list(self.query_iter(soql, include_deleted=include_deleted))

    def query_iter(self, soql: str, *, include_deleted: bool = False) -> Iterator[dict]:
        """Every record of ``soql``, page by page (``nextRecordsUrl``), without the attributes."""
        result = self.call(lambda sf: sf.query(soql, include_deleted=include_deleted))
        while True:
            for record in result["records"]:
                record.pop("attributes", None)
                yield record
            if result.get("done", True) or not result.get("nextRecordsUrl"):
                return
            next_url = result["nextRecordsUrl"]
            result = self.call(lambda sf, url=next_url: sf.query_more(url, identifier_is_url=True))

    def query_many(
        self, queries: Sequence[str], *, include_deleted: bool = False
    ) -> list[list[dict]]:
        """Run several SOQL queries, five to a Composite call; returns each one's records
        (``include_deleted``: as ``queryAll``, the recycle bin included).

        Further pages of a large result follow with ``query_more``. A whole call that fails
        transiently is retried (queries are safe to repeat); a refused query raises.
        """
        results: list[list[dict]] = []
        for start in range(0, len(queries), COMPOSITE_HEAVY):
            chunk = list(queries[start : start + COMPOSITE_HEAVY])
            if len(chunk) == 1:  # a Composite of one would cost the same call, with more bytes
                results.append(self.query_all(chunk[0], include_deleted=include_deleted))
                continue
            resource = "queryAll" if include_deleted else "query"
            subrequests = [
                {
                    "method": "GET",
                    "url": f"{self._data_path}/{resource}?q={quote(soql, safe='')}",
                    "referenceId": f"q{index}",
                }
                for index, soql in enumerate(chunk)
            ]
            for item in with_retries(
                lambda subs=subrequests: self._composite_checked(subs),
                attempts=self.retry_attempts,
            ):
                body = item["body"]
                records = list(body.get("records") or [])
                next_url = body.get("nextRecordsUrl")
                while not body.get("done", True) and next_url:
                    body = self.call(
                        lambda sf, url=next_url: sf.query_more(url, identifier_is_url=True)
                    )
                    records += body["records"]
                    next_url = body.get("nextRecordsUrl")
                for record in records:
                    record.pop("attributes", None)
                results.append(records)
        return results

    def _composite_checked(self, subrequests: list[dict]) -> list[dict]:
        """A Composite call whose failed subrequests raise (transient if any was)."""
        responses = self.composite(subrequests)
        for item in responses:
            if item["httpStatusCode"] >= 400:
                raise subrequest_error(item)
        return responses

    @property
    def _data_path(self) -> str:
        return f"/services/data/v{self.credentials.api_version}"

    def composite(self, subrequests: Sequence[dict]) -> list[dict]:
        """One Composite call (allOrNone false): Salesforce's ``compositeResponse`` list."""
        body = {"allOrNone": False, "compositeRequest": list(subrequests)}
        response = self.call(
            lambda sf: sf.restful(
                "composite", method="POST", json=body, headers=DUPLICATE_RULE_HEADER
            ),
            idempotent=all(sub["method"] in IDEMPOTENT_METHODS for sub in subrequests),
        )
        return response["compositeResponse"]

    def collections(
        self, writes: Sequence[tuple[str, str, Sequence[dict], str]]
    ) -> list[list[dict]]:
        """Many sObject Collections writes, five (1,000 records) to a Composite call.

        ``writes`` are ``(method, sobject, records ≤ 200, external_id)``. Returns each write's
        per-record results, as :meth:`collection` does; a write refused as a whole gives the
        same error for each of its records (``_transient`` when it may be retried).
        """
        results: list[list[dict]] = []
        for start in range(0, len(writes), COMPOSITE_HEAVY):
            chunk = writes[start : start + COMPOSITE_HEAVY]
            if len(chunk) == 1:
                method, sobject, records, external_id = chunk[0]
                results.append(self.collection(method, sobject, records, external_id=external_id))
                continue
            subrequests = []
            for index, (method, sobject, records, external_id) in enumerate(chunk):
                path, http = _collection_route(method, sobject, external_id)
                subrequests.append(
                    {
                        "method": http,
                        "url": f"{self._data_path}/{path}",
                        "referenceId": f"w{index}",
                        "body": _collection_body(sobject, records),
                    }
                )
            for (_, _, records, _), item in zip(chunk, self.composite(subrequests), strict=True):
                if item["httpStatusCode"] < 400 and isinstance(item["body"], list):
                    results.append(item["body"])
                    continue
                error = subrequest_error(item)
                results.append(
                    [
                        {
                            "success": False,
                            "errors": [
                                {
                                    "statusCode": error.code,
                                    "message": error.message,
                                    "fields": error.fields,
                                }
                            ],
                            "_transient": error.transient,
                        }
                        for _ in records
                    ]
                )
        return results

    def query_count(self, soql: str) -> int:
        return self.call(lambda sf: sf.query(soql))["totalSize"]

    # -- writing --------------------------------------------------------------------------
    def collection(
        self, method: str, sobject: str, records: Sequence[dict], *, external_id: str = ""
    ) -> list[dict]:
        """One sObject Collections call (≤ 200 records, allOrNone false).

        ``method`` is ``create``, ``update`` or ``upsert`` (on ``external_id``). Returns
        Salesforce's per-record results: ``{"id", "success", "created"?, "errors": [...]}``.
        A ``create`` whose answer is lost is not repeated (see :func:`with_retries`).
        """
        if not records:
            return []
        path, http = _collection_route(method, sobject, external_id)
        body = _collection_body(sobject, records)
        # Duplicate rules set to "allow with alert" let the connector save, as they let users;
        # "block" rules still refuse (DUPLICATES_DETECTED becomes a Sync Error).
        return (
            self.call(
                lambda sf: sf.restful(path, method=http, json=body, headers=DUPLICATE_RULE_HEADER),
                idempotent=http in IDEMPOTENT_METHODS,
            )
            or []
        )

    def bulk_query(self, soql: str) -> Iterator[dict]:
        """Rows of a Bulk API 2.0 query job, page by page (values are CSV text).

        Each result page is streamed to a temporary file (under ``TMPDIR``) and read back line
        by line, then deleted: the worker never holds a page, which is 20–40 MB of text at
        50,000 Leads and more for wide objects, so its memory depends neither on the page size
        nor on how many pages a job has. A page is asked for by its locator, so a page whose
        request failed is asked for again; the rows already read are not read twice.
        """
        sobject = _sobject_of(soql)

        def bulk(sf):
            return getattr(sf.bulk2, sobject)._client

        def wait(sf, job_id: str) -> None:
            try:
                bulk(sf).wait_for_job(job_id, True, BULK_POLL)
            except sf_exceptions.SalesforceOperationError as exc:  # failed, aborted, timed out
                raise SalesforceError("BULK_JOB_FAILED", str(exc), transient=False) from None

        job_id = self.call(lambda sf: bulk(sf).create_job(Operation.query, soql))["id"]
        self.call(lambda sf: wait(sf, job_id))
        locator = ""
        with tempfile.TemporaryDirectory(prefix="leadbridge-bulk-") as folder:
            while True:
                page = self.call(
                    lambda sf, at=locator: bulk(sf).download_job_data(
                        folder, job_id, at, BULK_PAGE_ROWS, chunk_size=BULK_DOWNLOAD_CHUNK
                    )
                )
                path = Path(page["file"])
                try:
                    with path.open(encoding="utf-8", newline="") as lines:
                        yield from csv_records(lines)
                finally:
                    path.unlink()
                locator = page["locator"]
                if not locator:
                    return

    def bulk_upsert_start(
        self, sobject: str, records: Sequence[dict], *, external_id: str
    ) -> BulkJob:
        """Open a Bulk API 2.0 upsert job, upload the rows and close it (three calls).

        Salesforce processes the job while the caller goes on; :meth:`bulk_upsert_finish`
        waits for it and reads the results.
        """
        return self._bulk_ingest_start(sobject, records, "upsert", external_id=external_id)

    def bulk_insert_start(
        self, sobject: str, records: Sequence[dict], *, key_fields: Sequence[str]
    ) -> BulkJob:
        """Open a Bulk API 2.0 insert job (for objects with no external id, e.g.
        CampaignMember); :meth:`bulk_upsert_finish` reads its results keyed on ``key_fields``."""
        return self._bulk_ingest_start(sobject, records, "insert", key_fields=tuple(key_fields))

    def _bulk_ingest_start(
        self,
        sobject: str,
        records: Sequence[dict],
        operation: str,
        *,
        external_id: str = "",
        key_fields: tuple[str, ...] = (),
    ) -> BulkJob:
        columns = sorted({name for record in records for name in record})
        out = io.StringIO()
        writer = csv.writer(out, lineterminator="\n")
        writer.writerow(columns)
        writer.writerows(
            # Most values are text already: no call for them (a job holds 100,000s of cells).
            [v if type(v) is str else _csv_value(v) for v in map(record.get, columns)]
            for record in records
        )
        data = out.getvalue()

        def ingest(sf):
            return getattr(sf.bulk2, sobject)._client

        # A lost answer would leave an empty job behind: not sent twice, the push retries later.
        job = self.call(
            lambda sf: ingest(sf).create_job(operation, external_id_field=external_id or None),
            idempotent=False,
        )
        job_id = job["id"]
        try:
            self.call(lambda sf: ingest(sf).upload_job_data(job_id, data))
            self.call(lambda sf: ingest(sf).close_job(job_id))
        except SalesforceError:
            with contextlib.suppress(SalesforceError):
                self.call(lambda sf: ingest(sf).abort_job(job_id, False))
            raise
        return BulkJob(
            sobject, job_id, external_id, len(records), time.monotonic(), key_fields=key_fields
        )

    def bulk_upsert_finish(
        self, job: BulkJob, *, deadline: float | None = None
    ) -> tuple[dict[str, str], dict[str, SalesforceError]]:
        """Wait for a job of :meth:`bulk_upsert_start` and read which rows went in.

        A job still unfinished ``deadline`` seconds after it started is aborted and raises a
        transient ``BULK_JOB_TIMEOUT``: its rows are upserted again later, which duplicates
        nothing (the rows it did process are matched on their external id).
        """

        def ingest(sf):
            return getattr(sf.bulk2, job.sobject)._client

        def state() -> dict:
            return self.call(lambda sf: ingest(sf).get_job(job.job_id, False))

        delay = BULK_POLL
        while (info := state())["state"] not in BULK_DONE:
            if deadline is not None and time.monotonic() - job.started >= deadline:
                info = self._abort(job, ingest)
                break
            time.sleep(delay)
            delay = min(BULK_POLL_MAX, delay * 1.5)
        if info["state"] != "JobComplete":
            raise SalesforceError(
                "BULK_JOB_FAILED",
                f"Bulk job {job.job_id} {info['state'].lower()}: "
                f"{info.get('errorMessage') or 'no reason given'}",
                transient=info["state"] == "Aborted",
            )
        ids: dict[str, str] = {}
        errors: dict[str, SalesforceError] = {}
        done = self.call(lambda sf: ingest(sf).get_ingest_results(job.job_id, "successfulResults"))
        for row in csv_rows(done):
            ids[job.key_of(row)] = row["sf__Id"]
        if int(info.get("numberRecordsFailed") or 0):
            failed = self.call(
                lambda sf: ingest(sf).get_ingest_results(job.job_id, "failedResults")
            )
            for row in csv_rows(failed):
                errors[job.key_of(row)] = parse_bulk_error(row["sf__Error"])
        return ids, errors

    def delete(self, sobject: str, record_id: str) -> None:
        self.call(lambda sf: getattr(sf, sobject).delete(record_id))

    def _abort(self, job: BulkJob, ingest: Callable) -> dict:
        """Abort a job past its deadline. One that finished meanwhile is read as usual."""
        with contextlib.suppress(SalesforceError):  # e.g. InvalidJobState: it just finished
            self.call(lambda sf: ingest(sf).abort_job(job.job_id, False))
        info = self.call(lambda sf: ingest(sf).get_job(job.job_id, False))
        if info["state"] in ("JobComplete", "Failed"):
            return info
        raise SalesforceError(
            "BULK_JOB_TIMEOUT",
            f"Bulk job {job.job_id} was still {info['state']} after the deadline; aborted.",
            transient=True,
        )


def _collection_route(method: str, sobject: str, external_id: str) -> tuple[str, str]:
    if method == "create":
        return "composite/sobjects", "POST"
    if method == "update":
        return "composite/sobjects", "PATCH"
    if method == "upsert":
        return f"composite/sobjects/{sobject}/{external_id}", "PATCH"
    raise ValueError(f"unknown collection method {method!r}")


def _collection_body(sobject: str, records: Sequence[dict]) -> dict:
    if len(records) > COLLECTION_SIZE:
        raise ValueError("sObject Collections take at most 200 records")
    return {
        "allOrNone": False,
        "records": [{"attributes": {"type": sobject}, **record} for record in records],
    }


def subrequest_error(item: dict) -> SalesforceError:
    """The error of a failed Composite subrequest (its body is Salesforce's error list)."""
    body = item.get("body")
    first = body[0] if isinstance(body, list) and body and isinstance(body[0], dict) else {}
    status = item.get("httpStatusCode") or 500
    code = first.get("errorCode") or ("SERVER_ERROR" if status >= 500 else f"HTTP_{status}")
    return SalesforceError(
        code,
        first.get("message") or f"The subrequest failed with HTTP {status}.",
        fields=first.get("fields") or [],
        status=status,
        transient=True if status >= 500 else None,
    )


def _sobject_of(soql: str) -> str:
    words = soql.split()
    return words[[w.upper() for w in words].index("FROM") + 1]


def _csv_value(value) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


def parse_bulk_error(text: str) -> SalesforceError:
    """``sf__Error`` is ``CODE:message:field1,field2 --`` (fields may be empty)."""
    text = text.strip().removesuffix("--").strip()
    code, _, rest = text.partition(":")
    message, _, fields = rest.rpartition(":")
    if not message:  # no field part
        message, fields = rest, ""
    return SalesforceError(
        code.strip() or "UNKNOWN_EXCEPTION",
        message.strip(),
        fields=[f.strip() for f in fields.split(",") if f.strip()],
    )


def test_connection(credentials: Credentials) -> ConnectionCheck:
    """Authenticate and read the connector user's identity (the settings form's "test")."""
    client = Client(credentials, retry_attempts=1)
    token = client.authenticate()
    who = client.identity()
    return ConnectionCheck(
        instance_url=token.instance_url,
        user_id=who.get("user_id", ""),
        username=who.get("Username", credentials.username),
        organization_id=who.get("organization_id", ""),
        api_version=credentials.api_version,
    )
