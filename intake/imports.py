"""Importing prospects from a CSV or XLSX file: receive, map, schedule, run, report.

The Imports page and the REST API (``POST /api/v1/imports/``) both go through here:

* ``start_import`` — upload, mapping and options in one call (the API);
* ``receive_upload`` then ``submit_import`` — the page's two steps, with the mapping page
  between them;
* ``run_import`` — the imports worker's job body (``intake.jobs.run_import_job``);
* ``cancel_import``, and ``report_lines`` (the row report as CSV bytes).

Every row goes through ``intake.writes.write_prospects`` in chunks: a refused row changes
nothing, the rest of the file still imports, each changed prospect records an Import activity
and asks for a sync with the CSV import reason, once per chunk.
"""

from __future__ import annotations

import codecs
import csv
import dataclasses
import datetime as dt
import io
import logging
import shutil
import time
import uuid
from collections.abc import Iterator, Mapping
from dataclasses import asdict, dataclass, fields
from functools import partial
from pathlib import Path
from typing import Any

import django_rq
from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.files.uploadedfile import UploadedFile
from django.db import reset_queries, transaction
from django.utils import timezone
from redis.exceptions import RedisError

from automation.actions import InvalidActions, apply_actions, parse_actions
from automation.context import Source as ActionSource
from core.csv_safe import neutralise
from core.models import Task
from crm.memberships import CampaignError, check_campaign
from crm.models import SalesforceCampaign
from intake import mapping as mappings
from intake.models import Import, ImportProblem
from intake.reading import FileRefused, Inspection, count_rows, inspect_file, read_rows
from intake.writes import WriteOptions, write_prospects
from prospects.models import ActivityType, Campaign, CrmQueue, SyncReason

log = logging.getLogger(__name__)

QUEUE = "imports"
UPLOAD_DIR = settings.VAR_DIR / "uploads"
MAX_UPLOAD_BYTES = 200 * 1024 * 1024
CHUNK_ROWS = 1000  # rows per write_prospects call: one transaction each
MAX_PROBLEMS = 10_000  # problems kept for the report; the rest are only counted
MAX_SHOWN = 200  # characters of a refused value repeated in the report
RUN_NOW_WITHIN = dt.timedelta(seconds=30)  # a "scheduled" time this close is simply now
ABANDONED_AFTER = dt.timedelta(days=1)  # a draft nobody mapped within this is let go
EVENING_HOUR = 20  # "after hours": the next 20:00, local time


class ImportRefused(Exception):
    """The upload or its mapping cannot be imported; ``messages`` say why, for the user."""

    def __init__(self, messages: list[str]) -> None:
        super().__init__(" ".join(messages))
        self.messages = messages


@dataclass(frozen=True)
class ImportOptions:
    """How rows are applied (stored on the Import as JSON; ids, not objects).

    ``overwrite``: a value in the file replaces the prospect's (else only blank fields are
    filled). Blank cells never clear a field either way. ``create``: a row matching no
    prospect creates one (else it is refused). ``assign_user_id``/``assign_queue_id``/
    ``campaign_id`` apply to new prospects only. ``validate_values``: a dropdown or
    multi-select custom field refuses values outside its predefined ones.
    ``salesforce_campaign_id``: every imported row's prospect (created, updated or unchanged)
    is added to this Salesforce campaign as ``campaign_member_status`` (blank: the campaign's
    default, and members already in it keep their status). ``actions``: the action set's
    actions, applied to every prospect a row created or matched.
    """

    overwrite: bool = True
    create: bool = True
    assign_user_id: int | None = None
    assign_queue_id: int | None = None
    campaign_id: int | None = None
    validate_values: bool = True
    salesforce_campaign_id: int | None = None
    campaign_member_status: str = ""
    # The action set's actions (automation.actions JSON) for every imported prospect, created
    # or updated: add to a Salesforce campaign or a list, set a field, adjust the score, …
    actions: list = dataclasses.field(default_factory=list)

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> ImportOptions:
        names = {f.name for f in fields(cls)}
        return cls(**{key: value for key, value in data.items() if key in names})


# -- receiving a file ----------------------------------------------------------------------------


def receive_upload(*, user, uploaded_file: UploadedFile) -> Import:
    """Keep the upload on disk and read what it is: a draft Import waiting for its mapping.

    Raises ImportRefused (the file deleted, nothing kept) for a file over the size limit or
    one that cannot be read (binary junk, a damaged workbook, no header row).
    """
    if uploaded_file.size > MAX_UPLOAD_BYTES:
        raise ImportRefused([too_large_message(uploaded_file.size)])
    path = _store(uploaded_file)
    try:
        inspection = inspect_file(path)
    except FileRefused as exc:
        path.unlink(missing_ok=True)
        raise ImportRefused([str(exc)]) from exc
    return Import.objects.create(
        created_by=user,
        file_name=Path(uploaded_file.name or "upload").name[:255],
        file_size=uploaded_file.size,
        stored_path=str(path),
        format=inspection.format,
        encoding=inspection.encoding,
        delimiter=inspection.delimiter,
        headers=inspection.headers,
    )


def too_large_message(size: int) -> str:
    return (
        f"The file is {size / 2**20:,.0f} MB; the limit is {MAX_UPLOAD_BYTES // 2**20} MB. "
        "Split it into smaller files and import each."
    )


def _store(uploaded_file: UploadedFile) -> Path:
    """Stream the upload to ``var/uploads`` (a large one is moved from Django's temporary
    file, never read into memory), sweeping away what abandoned drafts left."""
    UPLOAD_DIR.mkdir(parents=True, exist_ok=True)
    _sweep()
    path = UPLOAD_DIR / f"intake-{uuid.uuid4().hex}"
    if hasattr(uploaded_file, "temporary_file_path"):
        uploaded_file.file.flush()
        shutil.copyfile(uploaded_file.temporary_file_path(), path)
    else:
        with open(path, "wb") as out:
            for chunk in uploaded_file.chunks():
                out.write(chunk)
    return path


def _sweep() -> None:
    cutoff = timezone.now() - ABANDONED_AFTER
    for draft in Import.objects.filter(state=Import.State.DRAFT, created_at__lt=cutoff):
        discard(draft)
    in_use = set(
        Import.objects.exclude(stored_path="").values_list("stored_path", flat=True).order_by()
    )
    stale = time.time() - ABANDONED_AFTER.total_seconds()
    for old in UPLOAD_DIR.glob("intake-*"):
        if str(old) not in in_use and old.stat().st_mtime < stale:
            old.unlink(missing_ok=True)


def discard(draft: Import) -> None:
    """Let go of a draft nobody will map: the file deleted, the row marked cancelled."""
    if draft.move(
        source=(Import.State.DRAFT,), to=Import.State.CANCELLED, finished_at=timezone.now()
    ):
        _delete_file(draft)


def inspection_of(run: Import) -> Inspection:
    return Inspection(
        format=run.format, encoding=run.encoding, delimiter=run.delimiter, headers=run.headers
    )


def preview(run: Import) -> list[list[str]]:
    """The first rows, for the mapping page (read again from the stored file)."""
    if not run.stored_path:
        return []
    try:
        return inspect_file(Path(run.stored_path)).preview
    except (FileRefused, OSError):
        return []


# -- mapping and scheduling ----------------------------------------------------------------------


def resolve_mapping(headers: list[str], mapping: Mapping[str, str] | None) -> dict[str, str]:
    """A mapping keyed by column index (``"0"``) as given, or by header text (the API's
    natural form) translated; ``None`` guesses it from the headers. Empty targets drop out."""
    if mapping is None:
        return mappings.guess_mapping(headers)
    cleaned = {str(k): v for k, v in mapping.items() if v}
    if all(key.isdigit() for key in cleaned):
        return cleaned
    return mappings.from_template(headers, cleaned)


def submit_import(
    run: Import,
    *,
    mapping: Mapping[str, str],
    options: ImportOptions,
    run_at: dt.datetime | None = None,
) -> Import:
    """Check the mapping and options, then queue the run now or schedule it for ``run_at``.

    1. A mapping problem (a field mapped twice, nothing to match rows by) or an option naming
       something that does not exist raises ImportRefused; the draft stays, to be corrected.
    2. Draft → queued (or scheduled) and a Task created, in one transaction.
    3. After commit the job goes to the imports queue, or to RQ's scheduler for ``run_at``
       (the imports worker runs ``--with-scheduler``, which moves it to the queue on time).
    """
    choices = dict(mappings.field_choices())
    problems = mappings.mapping_problems(run.headers, mapping, choices)
    problems += _option_problems(options)
    if problems:
        raise ImportRefused(problems)
    now = timezone.now()
    later = run_at is not None and run_at > now + RUN_NOW_WITHIN
    try:
        django_rq.get_queue(QUEUE).connection.ping()
    except (RedisError, OSError) as exc:
        raise ImportRefused([Task.QUEUE_DOWN]) from exc
    with transaction.atomic():
        task = Task.objects.create(
            kind="import",
            created_by=run.created_by,
            message=f"Scheduled for {run_at:%Y-%m-%d %H:%M %Z}" if later else "Waiting…",
        )
        moved = run.move(
            source=(Import.State.DRAFT,),
            to=Import.State.SCHEDULED if later else Import.State.QUEUED,
            mapping=dict(mapping),
            options=options.as_dict(),
            scheduled_for=run_at if later else None,
            task=task,
        )
        if not moved:
            raise ImportRefused(["This import was already started or cancelled."])
        transaction.on_commit(partial(_send, task, run.pk, run_at if later else None))
    return run


# By name: the job module imports this one.
RUN_IMPORT_JOB = "intake.jobs.run_import_job"


def _send(task: Task, run_pk: int, run_at: dt.datetime | None) -> None:
    try:
        queue = django_rq.get_queue(QUEUE, commit_mode="auto")
        if run_at is None:
            queue.enqueue_call(RUN_IMPORT_JOB, args=(task.pk, run_pk))
        else:
            queue.enqueue_at(run_at, RUN_IMPORT_JOB, task.pk, run_pk)
    except (RedisError, OSError):
        log.warning("could not enqueue import %s", run_pk, exc_info=True)
        task.finish(Task.QUEUE_DOWN, failed=True)
        Import.objects.filter(pk=run_pk).update(
            state=Import.State.FAILED, message=Task.QUEUE_DOWN, finished_at=timezone.now()
        )


def _option_problems(options: ImportOptions) -> list[str]:
    problems = []
    if options.assign_user_id and not (
        get_user_model().objects.filter(pk=options.assign_user_id, is_active=True).exists()
    ):
        problems.append("The user to assign new prospects to does not exist or is inactive.")
    if options.assign_queue_id and not CrmQueue.objects.filter(pk=options.assign_queue_id).exists():
        problems.append("The CRM queue to assign new prospects to does not exist.")
    if options.assign_user_id and options.assign_queue_id:
        problems.append("Assign new prospects to a user or to a queue, not both.")
    if options.campaign_id and not Campaign.objects.filter(pk=options.campaign_id).exists():
        problems.append("The campaign does not exist.")
    if options.actions:
        try:
            parse_actions(options.actions)
        except InvalidActions as exc:
            problems += exc.errors
    return problems + _salesforce_campaign_problems(options)


def _salesforce_campaign_problems(options: ImportOptions) -> list[str]:
    """A Salesforce campaign or member status Salesforce would refuse stops the whole import
    before it starts (one that turns bad while it runs is noted on each row it affects)."""
    if not options.salesforce_campaign_id:
        if options.campaign_member_status:
            return ["Choose the Salesforce campaign the member status is for."]
        return []
    campaign = SalesforceCampaign.objects.filter(pk=options.salesforce_campaign_id).first()
    if campaign is None:
        return ["The Salesforce campaign does not exist."]
    try:
        check_campaign(campaign, options.campaign_member_status)
    except CampaignError as exc:
        return [str(exc)]
    return []


def start_import(
    *,
    user,
    uploaded_file: UploadedFile,
    mapping: Mapping[str, str] | None = None,
    options: ImportOptions | None = None,
    run_at: dt.datetime | None = None,
) -> Import:
    """Upload, map and queue an import in one call (the REST API's ``POST /imports/``).

    ``mapping``: ``{column index or header text: field name}`` (field names as
    ``mapping.field_choices`` lists them: ``email``, ``first_name``, ``custom:<api name>``,
    match keys ``crm_id`` and ``prospect_id``); ``None`` guesses it from the header.
    ``options``: ``ImportOptions`` (defaults: overwrite, create, validate). ``run_at``: an
    aware datetime to run later; ``None`` runs as soon as the imports worker is free.

    Returns the Import (state ``queued`` or ``scheduled``; poll it, or ``report_lines``
    once finished). Raises ImportRefused with messages for the client: a file over 200 MB or
    unreadable, a mapping that cannot run, an option naming nothing; nothing is kept then.
    """
    run = receive_upload(user=user, uploaded_file=uploaded_file)
    try:
        return submit_import(
            run,
            mapping=resolve_mapping(run.headers, mapping),
            options=options or ImportOptions(),
            run_at=run_at,
        )
    except ImportRefused:
        discard(run)
        raise


def cancel_import(run: Import) -> bool:
    """Stop an import that has not finished. A scheduled or queued one never runs (its file is
    deleted now); a running one stops after its current chunk, and its job deletes the file
    (rows written before stay). False if it had already finished."""
    waiting = (Import.State.SCHEDULED, Import.State.QUEUED)
    now = timezone.now()
    if run.move(source=waiting, to=Import.State.CANCELLED, message="Cancelled.", finished_at=now):
        _delete_file(run)
    elif not run.move(
        source=(Import.State.RUNNING,),
        to=Import.State.CANCELLED,
        message="Cancelled; the rows imported before stay imported.",
        finished_at=now,
    ):
        return False
    if run.task_id:
        Task.objects.get(pk=run.task_id).finish("Cancelled.", failed=True)
    return True


def next_evening(now: dt.datetime | None = None) -> dt.datetime:
    """The next ``EVENING_HOUR``:00 in the portal's time zone ("after hours")."""
    local = timezone.localtime(now or timezone.now())
    evening = local.replace(hour=EVENING_HOUR, minute=0, second=0, microsecond=0)
    return evening if evening > local else evening + dt.timedelta(days=1)


# -- running -------------------------------------------------------------------------------------


def run_import(run: Import, *, task: Task | None = None) -> None:
    """Apply the file's rows, a chunk at a time, then delete the file.

    1. The rows are counted first (one read, nothing written): a file that stops being
       readable fails here, before any row is written.
    2. Each record becomes ``(line, {field: value})`` from the mapping; blank cells are left
       out (a blank never clears a field). A record with more cells than the header, or an
       XLSX formula without a value in a mapped column, is refused with its line.
    3. Every ``CHUNK_ROWS`` records: ``write_prospects`` (one transaction), the counts, the
       problems (kept up to ``MAX_PROBLEMS``) and the progress saved; a Cancel stops here.
    """
    try:
        inspection = inspection_of(run)
        path = Path(run.stored_path)
        total = count_rows(path, inspection)
        Import.objects.filter(pk=run.pk).update(rows_total=total)
        run.rows_total = total
        if task:
            task.set_total(total)
        writer = _ChunkWriter(run, task)
        for record in read_rows(path, inspection):
            writer.add(record)
            if writer.full() and not writer.flush():
                return  # cancelled
        if not writer.flush():
            return
        message = _summary(run)
        run.move(
            source=(Import.State.RUNNING,),
            to=Import.State.DONE,
            message=message,
            finished_at=timezone.now(),
        )
        if task:
            task.finish(message)
    except FileRefused as exc:
        _fail(run, task, str(exc))
    finally:
        _delete_file(run)


def _fail(run: Import, task: Task | None, message: str) -> None:
    run.move(
        source=(Import.State.RUNNING,),
        to=Import.State.FAILED,
        message=message,
        finished_at=timezone.now(),
    )
    if task:
        task.finish(message, failed=True)


def fail_unexpectedly(run: Import, task: Task | None) -> None:
    """The job raised: say so on the row (never the exception's text) and let go of the file."""
    _fail(
        run,
        task,
        "The import stopped on an unexpected error; rows imported before it stay imported.",
    )
    _delete_file(run)


def _delete_file(run: Import) -> None:
    if run.stored_path:
        Path(run.stored_path).unlink(missing_ok=True)
        Import.objects.filter(pk=run.pk).update(stored_path="")
        run.stored_path = ""


def _summary(run: Import) -> str:
    text = (
        f"{run.created:,} created, {run.updated:,} updated, {run.unchanged:,} unchanged, "
        f"{run.failed:,} refused."
    )
    return text


class _ChunkWriter:
    """Collects records into chunks and writes each through ``write_prospects``."""

    def __init__(self, run: Import, task: Task | None) -> None:
        self.run = run
        self.task = task
        self.width = len(run.headers)
        self.columns = sorted(
            ((int(index), field) for index, field in run.mapping.items()), key=lambda c: c[0]
        )
        self.column_of = {field: index for index, field in self.columns}
        self.rows: list[tuple[int, dict[str, str]]] = []
        self.read = 0
        self.failed = 0
        self.problems: list[ImportProblem] = []
        self.options = _write_options(run)
        self.actions = parse_actions(ImportOptions.from_dict(run.options).actions)
        self.kept = ImportProblem.objects.filter(run=run).count()

    def full(self) -> bool:
        return len(self.rows) >= CHUNK_ROWS

    def add(self, record: tuple[int, list[str], dict[int, str] | None]) -> None:
        line, cells, flags = record
        self.read += 1
        if not any(cell.strip() for cell in cells):
            return  # a blank line
        if len(cells) > self.width and any(cell.strip() for cell in cells[self.width :]):
            self._refuse(
                line,
                "",
                "",
                f"{len(cells)} cells, but the header has {self.width} columns (a stray "
                "delimiter or an unquoted value?); the row was not imported",
            )
            return
        values: dict[str, str] = {}
        refused = False
        for index, field in self.columns:
            if flags and index in flags:
                self._problem(line, index, cells[index] if index < len(cells) else "", flags[index])
                refused = True
                continue
            value = cells[index].strip() if index < len(cells) else ""
            if value:
                values[field] = value
        if refused:
            self.failed += 1
            return
        if not values:
            self._refuse(line, "", "", "the mapped columns are all empty")
            return
        self.rows.append((line, values))

    def flush(self) -> bool:
        """Write the chunk and save the progress; False when the import was cancelled."""
        counts = {"created": 0, "updated": 0, "unchanged": 0}
        if self.rows:
            results = write_prospects(self.rows, options=self.options, actor=self.run.created_by)
            self._act(results)
            values_of = dict(self.rows)
            for result in results:
                if result.outcome == "failed":
                    self.failed += 1
                    line = result.index
                    for problem in result.errors or [None]:
                        field = problem.field if problem else ""
                        message = problem.message if problem else "refused"
                        index = self.column_of.get(field)
                        self._problem(line, index, values_of.get(line, {}).get(field, ""), message)
                else:
                    counts[result.outcome] += 1
                    for problem in result.errors:  # written, but not added to the campaign
                        self._problem(result.index, None, "", problem.message)
        self._save(counts)
        self.rows.clear()
        # With DEBUG on, Django keeps each query's SQL (up to 9,000, each of a chunk's INSERTs
        # long): a worker importing for minutes would hold hundreds of MB of it.
        reset_queries()
        return Import.objects.filter(pk=self.run.pk, state=Import.State.RUNNING).exists()

    def _act(self, results) -> None:
        """The import's actions on the chunk's prospects (set-based, through the action set;
        changed prospects are queued with the import's reason)."""
        ids = [r.prospect_id for r in results if r.outcome != "failed" and r.prospect_id]
        if not self.actions or not ids:
            return
        result = apply_actions(
            self.actions,
            ids,
            actor=self.run.created_by,
            source=ActionSource.IMPORT,
            label=f"Import {self.run.file_name}"[:150],
        )
        for message in result.messages:
            self._problem(0, None, "", message)

    def _save(self, counts: dict[str, int]) -> None:
        room = max(0, MAX_PROBLEMS - self.kept)
        ImportProblem.objects.bulk_create(self.problems[:room])
        self.kept += min(room, len(self.problems))
        self.run.add_counts(
            rows_read=self.read,
            failed=self.failed,
            problems_total=len(self.problems),
            **counts,
        )
        if self.task:
            self.task.advance(done=self.read - self.failed, failed=self.failed)
        self.read = self.failed = 0
        self.problems.clear()

    def _refuse(self, line: int, column: str, value: str, reason: str) -> None:
        self.failed += 1
        self.problems.append(
            ImportProblem(run=self.run, line=line, column=column, value=value, reason=reason)
        )

    def _problem(self, line: int, index: int | None, value: str, reason: str) -> None:
        column = self.run.headers[index] if index is not None and index < self.width else ""
        self.problems.append(
            ImportProblem(
                run=self.run,
                line=line,
                column=column[:255],
                value=_shown(value),
                reason=reason,
            )
        )


def _write_options(run: Import) -> WriteOptions:
    options = ImportOptions.from_dict(run.options)
    user = (
        get_user_model().objects.filter(pk=options.assign_user_id).first()
        if options.assign_user_id
        else None
    )
    queue = (
        CrmQueue.objects.filter(pk=options.assign_queue_id).first()
        if options.assign_queue_id
        else None
    )
    campaign = (
        Campaign.objects.filter(pk=options.campaign_id).first() if options.campaign_id else None
    )
    salesforce_campaign = (
        SalesforceCampaign.objects.filter(pk=options.salesforce_campaign_id).first()
        if options.salesforce_campaign_id
        else None
    )
    return WriteOptions(
        salesforce_campaign=salesforce_campaign,
        campaign_member_status=options.campaign_member_status,
        overwrite=options.overwrite,
        create=options.create,
        assign_user=user,
        assign_queue=queue,
        campaign=campaign,
        validate_values=options.validate_values,
        reason=SyncReason.CSV_IMPORT,
        activity=ActivityType.IMPORT,
        activity_title=run.file_name,
        activity_details={"import_id": run.pk},
    )


def _shown(text: str) -> str:
    return text if len(text) <= MAX_SHOWN else text[: MAX_SHOWN - 1] + "…"


# -- the row report ------------------------------------------------------------------------------

REPORT_HEADER = ["line", "column", "value", "reason"]


def report_lines(run: Import) -> Iterator[bytes]:
    """The row report as CSV: UTF-8 with a BOM, one line per refused row or cell, every cell
    neutralised against spreadsheet formulas (an imported "=cmd|…" stays inert here)."""
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\r\n")
    writer.writerow(REPORT_HEADER)
    if run.state == Import.State.FAILED and run.message:
        writer.writerow(["", "", "", neutralise(run.message)])
    yield codecs.BOM_UTF8 + _take(buffer)
    problems = run.problems.order_by("line", "pk").values_list("line", "column", "value", "reason")
    for count, (line, column, value, reason) in enumerate(problems.iterator(chunk_size=2000), 1):
        writer.writerow([line, neutralise(column), neutralise(value), neutralise(reason)])
        if count % 2000 == 0:
            yield _take(buffer)
    missing = run.problems_total - run.problems.count()
    if missing > 0:
        writer.writerow(["", "", "", f"… and {missing:,} more problems not listed"])
    yield _take(buffer)


def _take(buffer: io.StringIO) -> bytes:
    data = buffer.getvalue().encode()
    buffer.seek(0)
    buffer.truncate()
    return data
