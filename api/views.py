"""The REST API's views: thin — check the role (``IsMarketer``, the default), validate with a
serializer, call one function (``api.writes.write_rows``, ``request_sync``), answer."""

from collections import Counter

from django.db import transaction
from django.db.models import Prefetch
from django.db.models.functions import Lower
from django.http import StreamingHttpResponse
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiResponse, extend_schema
from rest_framework import mixins, status, viewsets
from rest_framework.decorators import action
from rest_framework.exceptions import APIException, NotFound, ValidationError
from rest_framework.parsers import MultiPartParser
from rest_framework.renderers import BaseRenderer, JSONRenderer
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from api import serializers as s
from api.campaigns import (
    AddToCampaignSerializer,
    MembershipSerializer,
    SalesforceCampaignSerializer,
    campaign_options,
)
from api.filters import ApiProspectFilter, ApiSyncErrorFilter
from api.pagination import ApiCursorPagination, CampaignPagination
from api.serializers import MAX_DB_ID
from api.writes import write_rows
from crm.memberships import CampaignError, add_to_campaign
from crm.models import SalesforceCampaign
from intake.imports import ImportOptions, ImportRefused, cancel_import, report_lines, start_import
from intake.models import Import
from prospects.assignment import assign
from prospects.models import Campaign, Prospect, SyncHistory, SyncReason
from prospects.sync_requests import request_sync
from sync.models import SyncError


class IdLookupMixin:
    """An id in a path that is not a number a column can hold is simply not found (a JSON
    404, like any other)."""

    def get_object(self):
        value = self.kwargs[self.lookup_field]
        if not (value.isascii() and value.isdigit() and 0 < int(value) <= MAX_DB_ID):
            raise NotFound
        return super().get_object()


def open_errors() -> Prefetch:
    """Each prospect's open Sync Errors in one query for the whole page."""
    return Prefetch(
        "sync_errors",
        queryset=SyncError.objects.open().only(
            "id", "prospect_id", "category", "error_code", "field", "message"
        ),
        to_attr="open_errors",
    )


def problems(result) -> dict[str, list[str]]:
    """A failed row's problems as DRF's field errors."""
    errors: dict[str, list[str]] = {}
    for problem in result.errors:
        errors.setdefault(problem.field or "detail", []).append(problem.message)
    return errors


@extend_schema(tags=["prospects"])
class ProspectViewSet(
    IdLookupMixin, mixins.ListModelMixin, mixins.RetrieveModelMixin, viewsets.GenericViewSet
):
    """Prospects: list (the prospect list's filters), read, create, update only the fields
    sent, upsert by CRM id or email, batch upsert, and ask for a sync."""

    serializer_class = s.ProspectSerializer
    filterset_class = ApiProspectFilter
    pagination_class = ApiCursorPagination
    http_method_names = ["get", "post", "patch", "head", "options"]

    def get_queryset(self):
        prospects = Prospect.objects.all() if self.detail else Prospect.objects.active()
        # The connector's bookkeeping is not shown: not read (and its JSON not parsed).
        bookkeeping = ("field_changed_at", "sync_key", "crm_modified_at")
        return prospects.defer(*bookkeeping).prefetch_related(open_errors())

    def get_serializer_class(self):
        return {
            "create": s.ProspectCreateSerializer,
            "upsert": s.ProspectUpsertSerializer,
            "batch": s.BatchUpsertSerializer,
        }.get(self.action, s.ProspectSerializer)

    def _answer(self, prospect_id: int, code: int) -> Response:
        prospect = self.get_queryset().get(pk=prospect_id)
        return Response(s.ProspectSerializer(prospect).data, status=code)

    def _write_one(self, serializer, *, create: bool, **match) -> Response:
        serializer.is_valid(raise_exception=True)
        options = serializer.on_create() if create else {}
        options.update(serializer.campaign_options())
        (result,) = write_rows(
            [(0, {**serializer.values(), **match})],
            user=self.request.user,
            create=create,
            **options,
        )
        if result.outcome == "failed":
            raise ValidationError(problems(result))
        created = result.outcome == "created"
        return self._answer(result.prospect_id, status.HTTP_201_CREATED if created else 200)

    @extend_schema(
        responses={
            201: s.ProspectSerializer,
            409: OpenApiResponse(s.ConflictSerializer, "A prospect has this email already"),
        }
    )
    def create(self, request: Request) -> Response:
        """Create a prospect (``email`` required). If one has that email already, nothing is
        written and the answer (409) names it: update it, or use ``upsert``."""
        serializer = self.get_serializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        email = serializer.validated_data["email"]
        existing = (  # lower(email) = …: the case-blind email index answers (iexact is UPPER)
            Prospect.objects.active()
            .annotate(email_ci=Lower("email"))
            .filter(email_ci=email.lower())
            .order_by("-pk")
            .first()
        )
        if existing is not None:
            return Response(
                {
                    "detail": "A prospect has this email already: update it, or use upsert.",
                    "id": existing.pk,
                },
                status=status.HTTP_409_CONFLICT,
            )
        return self._write_one(serializer, create=True)

    @extend_schema(responses={200: s.ProspectSerializer})
    def partial_update(self, request: Request, pk: str) -> Response:
        """Change the fields sent, and only those: a field Salesforce changed meanwhile keeps
        its new value unless it is among them."""
        prospect = self.get_object()
        serializer = self.get_serializer(data=request.data, partial=True)
        return self._write_one(serializer, create=False, prospect_id=prospect.pk)

    @extend_schema(
        request=s.ProspectUpsertSerializer,
        responses={200: s.ProspectSerializer, 201: s.ProspectSerializer},
    )
    @action(detail=False, methods=["post"])
    def upsert(self, request: Request) -> Response:
        """Update the prospect matched by ``crm_id``, else by ``email`` (the most recently
        active one, as Pardot's AMPSEA does); create it when nothing matches (201)."""
        return self._write_one(self.get_serializer(data=request.data), create=True)

    @extend_schema(request=s.BatchUpsertSerializer, responses={200: s.BatchResultSerializer})
    @action(detail=False, methods=["post"])
    def batch(self, request: Request) -> Response:
        """Upsert up to 1,000 prospects, each as ``upsert`` does. Answers one result per row
        (its index, outcome, id and errors); a refused row changes nothing and the others go
        through."""
        batch = self.get_serializer(data=request.data)
        batch.is_valid(raise_exception=True)
        results, valid = {}, []
        rows = s.BatchRowSerializer(context=self.get_serializer_context())  # fields built once
        for index, row in enumerate(batch.validated_data["prospects"]):
            try:
                valid.append((index, rows.values(rows.run_validation(row))))
            except ValidationError as exc:
                results[index] = _failed(index, exc.detail)
        if valid:
            options = {
                "assign_user": batch.validated_data.get("assigned_user"),
                "assign_queue": batch.validated_data.get("assigned_queue"),
                "campaign": batch.validated_data.get("campaign"),
                **campaign_options(batch.validated_data),
            }
            for result in write_rows(valid, user=request.user, create=True, **options):
                results[result.index] = {
                    "index": result.index,
                    "outcome": result.outcome,
                    "id": result.prospect_id,
                    "errors": [{"field": p.field, "message": p.message} for p in result.errors],
                }
        ordered = [results[index] for index in sorted(results)]
        counts = Counter(result["outcome"] for result in ordered)
        return Response({"results": ordered, "counts": dict(counts)})

    @extend_schema(
        methods=["GET"],
        request=None,
        responses={200: MembershipSerializer(many=True)},
        description="The prospect's Salesforce campaigns, each with its member status and "
        "whether it is in Salesforce yet.",
    )
    @extend_schema(
        methods=["POST"],
        request=AddToCampaignSerializer,
        responses={201: MembershipSerializer, 200: MembershipSerializer},
        description="Add the prospect to a Salesforce campaign as this member status, or set "
        "its status there (201 when added, 200 when it was a member). It goes to Salesforce "
        "now, or once the prospect syncs. A campaign deleted or inactive in Salesforce, or a "
        "status the campaign lacks, is refused (400) with Salesforce's reason.",
    )
    @action(detail=True, methods=["get", "post"], url_path="campaigns", pagination_class=None)
    def campaigns(self, request: Request, pk: str) -> Response:
        prospect = self.get_object()
        if request.method == "GET":
            memberships = prospect.campaign_memberships.select_related("campaign").order_by(
                "campaign__name", "pk"
            )
            return Response(MembershipSerializer(memberships, many=True).data)
        form = AddToCampaignSerializer(data=request.data)
        form.is_valid(raise_exception=True)
        campaign = form.validated_data["salesforce_campaign"]
        status_ = form.validated_data.get("campaign_member_status") or ""
        existed = prospect.campaign_memberships.filter(campaign=campaign).exists()
        try:
            add_to_campaign(
                [prospect.pk], campaign, status_, actor=request.user, update_existing=bool(status_)
            )
        except CampaignError as exc:  # changed since the check
            raise ValidationError({"salesforce_campaign": [str(exc)]}) from exc
        membership = prospect.campaign_memberships.select_related("campaign").get(campaign=campaign)
        code = status.HTTP_200_OK if existed else status.HTTP_201_CREATED
        return Response(MembershipSerializer(membership).data, status=code)

    @extend_schema(request=s.AssignSerializer, responses={200: s.ProspectSerializer})
    @action(detail=True, methods=["post"])
    def assign(self, request: Request, pk: str) -> Response:
        """Assign the prospect to a user or a Salesforce queue (``{"user": id}`` or
        ``{"queue": id}``), as the prospect page does: saved under its row lock when it
        changes, on its timeline and history with your name, and synced. Without a Salesforce
        record it gets one at the next push; with one, Salesforce keeps its record's owner."""
        prospect = self.get_object()
        serializer = s.AssignSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        assign(
            prospect.pk,
            user=serializer.validated_data.get("user"),
            queue=serializer.validated_data.get("queue"),
            actor=request.user,
            operation="api",
        )
        return self._answer(prospect.pk, status.HTTP_200_OK)

    @extend_schema(request=None, responses={200: s.ProspectSerializer})
    @action(detail=True, methods=["post"])
    def unassign(self, request: Request, pk: str) -> Response:
        """Take the prospect's assignment away (it stays in Salesforce if it is there)."""
        prospect = self.get_object()
        assign(prospect.pk, actor=request.user, operation="api")
        return self._answer(prospect.pk, status.HTTP_200_OK)

    @extend_schema(request=None, responses={202: s.SyncRequestSerializer})
    @action(detail=True, methods=["post"])
    def sync(self, request: Request, pk: str) -> Response:
        """Ask for the prospect to be synced with Salesforce now (as the page's "Sync with
        CRM" button does); ``GET`` it to follow ``sync_status`` and ``sync_errors``."""
        prospect = self.get_object()
        with transaction.atomic():
            request_sync(prospect, SyncReason.MANUAL)
            SyncHistory.objects.record_action(
                [prospect.pk],
                actor=request.user,
                operation="sync request",
                reason=SyncReason.MANUAL,
                message="Through the API.",
            )
        prospect.refresh_from_db(fields=["sync_status"])
        return Response(
            {"id": prospect.pk, "sync_status": prospect.sync_status},
            status=status.HTTP_202_ACCEPTED,
        )


def _failed(index: int, errors) -> dict:
    """A batch row the serializer refused, with each field's messages."""
    return {"index": index, "outcome": "failed", "id": None, "errors": _flatten(errors)}


def _flatten(errors, prefix: str = "") -> list[dict]:
    """DRF's nested errors as (field, message) pairs: ``custom_fields.region``."""
    if isinstance(errors, dict):
        return [
            problem
            for field, inner in errors.items()
            for problem in _flatten(inner, f"{prefix}.{field}" if prefix else str(field))
        ]
    if isinstance(errors, list):
        return [problem for inner in errors for problem in _flatten(inner, prefix)]
    return [{"field": prefix or "detail", "message": str(errors)}]


@extend_schema(tags=["sync errors"])
class SyncErrorViewSet(IdLookupMixin, viewsets.ReadOnlyModelViewSet):
    """Records Salesforce refused, filtered as on the Sync Errors page (open ones unless
    ``status=resolved`` or ``all``)."""

    queryset = SyncError.objects.all()
    serializer_class = s.SyncErrorSerializer
    filterset_class = ApiSyncErrorFilter
    pagination_class = ApiCursorPagination


@extend_schema(tags=["campaigns"])
class CampaignViewSet(IdLookupMixin, viewsets.ReadOnlyModelViewSet):
    queryset = Campaign.objects.all()
    serializer_class = s.CampaignSerializer
    pagination_class = CampaignPagination
    filterset_class = None


@extend_schema(tags=["campaigns"])
class SalesforceCampaignViewSet(IdLookupMixin, viewsets.ReadOnlyModelViewSet):
    """Salesforce campaigns as the last pull saw them, with the member statuses each takes
    (the ``salesforce_campaign`` and ``campaign_member_status`` a write names)."""

    queryset = SalesforceCampaign.objects.prefetch_related("member_statuses")
    serializer_class = SalesforceCampaignSerializer
    pagination_class = ApiCursorPagination
    filterset_class = None


class NotFoundView(APIView):
    """Any other path under /api/v1/: a JSON 404 (after the key is checked), not the portal's
    HTML page, so clients parse every answer the same way."""

    schema = None  # not an operation

    def get(self, request: Request, path: str) -> Response:
        raise NotFound

    post = put = patch = delete = get


class CsvRenderer(BaseRenderer):
    """Lets a client ask for the report with ``Accept: text/csv``; an error then is one line."""

    media_type = "text/csv"
    format = "csv"
    charset = "utf-8"

    def render(self, data, accepted_media_type=None, renderer_context=None) -> bytes:
        detail = data.get("detail", data) if isinstance(data, dict) else data
        return f"detail\r\n{detail}\r\n".encode()


@extend_schema(tags=["imports"])
class ImportViewSet(IdLookupMixin, viewsets.ReadOnlyModelViewSet):
    """Imports the way Pardot's v5 API does them: post a file with its options (202 and an
    id), poll the import for its state and counts, then download its row report. Marketers
    see their own imports, Sync admins everyone's."""

    serializer_class = s.ImportSerializer
    pagination_class = ApiCursorPagination
    filterset_class = None

    def get_queryset(self):
        if getattr(self, "swagger_fake_view", False):  # the schema generator has no user
            return Import.objects.none()
        return Import.objects.visible_to(self.request.user).exclude(state=Import.State.DRAFT)

    def get_parsers(self):
        if self.request is not None and self.request.method == "POST":
            return [MultiPartParser()]
        return super().get_parsers()

    @extend_schema(
        request={"multipart/form-data": s.ImportOptionsSerializer},
        responses={202: s.ImportSerializer},
    )
    def create(self, request: Request) -> Response:
        """Upload a file (up to 200 MB) with its mapping and options; it runs on the imports
        worker now, or at ``run_at``. A file or mapping that cannot run is refused (400) and
        nothing is kept."""
        form = s.ImportOptionsSerializer(data=request.data)
        form.is_valid(raise_exception=True)
        data = form.validated_data
        options = ImportOptions(
            overwrite=data["overwrite"],
            create=data["create"],
            assign_user_id=getattr(data.get("assign_user"), "pk", None),
            assign_queue_id=getattr(data.get("assign_queue"), "pk", None),
            campaign_id=getattr(data.get("campaign"), "pk", None),
            validate_values=data["validate_values"],
            salesforce_campaign_id=getattr(data.get("salesforce_campaign"), "pk", None),
            campaign_member_status=data.get("campaign_member_status") or "",
        )
        try:
            run = start_import(
                user=request.user,
                uploaded_file=data["file"],
                mapping=data.get("mapping"),
                options=options,
                run_at=data.get("run_at"),
            )
        except ImportRefused as exc:
            raise ValidationError({"file": exc.messages}) from exc
        body = s.ImportSerializer(run, context={"request": request}).data
        return Response(body, status=status.HTTP_202_ACCEPTED)

    @extend_schema(
        responses={
            (200, "text/csv"): OpenApiResponse(
                OpenApiTypes.STR, description="line, column, value, reason (UTF-8, BOM)"
            ),
            409: OpenApiResponse(s.DetailSerializer, "The import has not finished"),
        }
    )
    @action(detail=True, renderer_classes=[JSONRenderer, CsvRenderer])
    def report(self, request: Request, pk: str) -> StreamingHttpResponse:
        """The row report: one CSV line per refused row or cell (line number, column, value,
        reason), formulas neutralised. 409 while the import has not finished."""
        run = self.get_object()
        if not run.finished:
            raise Conflict("The import has not finished: its report comes when it has.")
        response = StreamingHttpResponse(report_lines(run), content_type="text/csv; charset=utf-8")
        response["Content-Disposition"] = f'attachment; filename="import-{run.pk}-report.csv"'
        return response

    @extend_schema(
        request=None,
        responses={
            200: s.ImportSerializer,
            409: OpenApiResponse(s.DetailSerializer, "The import has finished already"),
        },
    )
    @action(detail=True, methods=["post"])
    def cancel(self, request: Request, pk: str) -> Response:
        """Stop an import that has not finished (rows written before stay written)."""
        run = self.get_object()
        if not cancel_import(run):
            raise Conflict("The import has finished already.")
        run.refresh_from_db()
        return Response(s.ImportSerializer(run, context={"request": request}).data)


class Conflict(APIException):
    status_code = status.HTTP_409_CONFLICT
    default_code = "conflict"
