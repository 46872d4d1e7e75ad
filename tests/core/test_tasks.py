"""A Task's lifecycle lives on the model: enqueue after commit, start once, advance, finish."""

import django_rq
import pytest

from core.models import Task

pytestmark = pytest.mark.django_db


def greet(task_id: int, name: str, *, punctuation: str = "!") -> None:
    """A job as the queue runs it: the task's id first, then the caller's arguments."""
    task = Task.objects.get(pk=task_id)
    task.start()
    task.finish(f"Hello {name}{punctuation}")


def test_enqueue_creates_the_row_and_sends_the_job_only_after_commit(
    django_capture_on_commit_callbacks, run_jobs
):
    queue = django_rq.get_queue("imports")
    with django_capture_on_commit_callbacks() as callbacks:
        task = Task.enqueue(greet, "Ann", kind="greeting", queue_name="imports", punctuation="?")
        assert Task.objects.get(pk=task.pk).state == Task.State.QUEUED
    assert queue.count == 0  # a rolled-back transaction would leave no job behind
    for callback in callbacks:
        callback()
    assert queue.count == 1
    run_jobs("imports")
    task.refresh_from_db()
    assert (task.state, task.message) == (Task.State.DONE, "Hello Ann?")
    assert task.finished_at


def test_enqueue_without_redis_refuses_and_creates_nothing(redis_down):
    with pytest.raises(Task.Unavailable, match="Background jobs are unavailable"):
        Task.enqueue(greet, "Ann", kind="greeting", queue_name="imports")
    assert not Task.objects.exists()


def test_a_queue_lost_before_commit_fails_the_task_instead_of_leaving_it_queued(
    django_capture_on_commit_callbacks, settings, run_jobs
):
    with django_capture_on_commit_callbacks() as callbacks:
        task = Task.enqueue(greet, "Ann", kind="greeting", queue_name="imports")
    settings.RQ_QUEUES = {
        name: {**config, "URL": "redis://127.0.0.1:1/0"}
        for name, config in settings.RQ_QUEUES.items()
    }
    for callback in callbacks:
        callback()
    task.refresh_from_db()
    assert task.state == Task.State.FAILED and "try again" in task.message


def test_start_moves_a_queued_task_once():
    task = Task.objects.create(kind="greeting")
    assert task.start() is True
    assert task.state == Task.State.RUNNING
    assert Task.objects.get(pk=task.pk).start() is False  # a second worker leaves it alone


def test_advance_adds_to_the_row_not_to_a_stale_copy():
    task = Task.objects.create(kind="greeting")
    other = Task.objects.get(pk=task.pk)  # another process's copy
    task.set_total(10)
    task.advance(done=3)
    other.advance(done=2, failed=1)
    task.refresh_from_db()
    assert (task.total, task.done, task.failed, task.percent) == (10, 5, 1, 60)


def test_finish_records_the_outcome():
    task = Task.objects.create(kind="greeting")
    task.start()
    task.finish("Nothing to do.", failed=True, result={"why": "empty"})
    stored = Task.objects.get(pk=task.pk)
    assert (stored.state, stored.message, stored.result) == (
        Task.State.FAILED,
        "Nothing to do.",
        {"why": "empty"},
    )
    assert stored.finished_at and stored.finished
