"""The job store: rows in SQLite, a folder per job, ids that cannot reach other files."""

from __future__ import annotations

import sqlite3

import pytest

from imtrans.serve.jobs import INTERRUPTED, JobStatus, JobStore, UnknownJob, parse_job_id


def test_a_job_goes_from_queued_to_running_to_done_with_its_page(tmp_path):
    store = JobStore(tmp_path / "jobs.sqlite3")
    job_id = store.create({"target": "en"})
    assert store.get(job_id).status is JobStatus.QUEUED
    assert store.job_dir(job_id).is_dir()
    store.mark_running(job_id)
    assert store.get(job_id).started is not None
    store.finish(job_id, {"blocks": [{"id": "b0", "text": "서울역"}]})
    job = store.get(job_id)
    assert job.status is JobStatus.DONE and job.page["blocks"][0]["text"] == "서울역"
    assert job.options == {"target": "en"} and job.revision == 0
    store.replace_page(job_id, {"blocks": []})
    assert store.get(job_id).revision == 1 and store.get(job_id).page == {"blocks": []}


def test_the_database_is_in_wal_mode_and_intact(tmp_path):
    store = JobStore(tmp_path / "jobs.sqlite3")
    with sqlite3.connect(store.db_path) as db:
        assert db.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
    assert store.integrity_check() == "ok"


def test_reopening_keeps_done_jobs_and_fails_queued_and_running_ones(tmp_path):
    store = JobStore(tmp_path / "jobs.sqlite3")
    done, running, queued = store.create({}), store.create({}), store.create({})
    store.finish(done, {"blocks": []})
    store.mark_running(running)
    reopened = JobStore(tmp_path / "jobs.sqlite3")
    assert reopened.interrupted == 2
    assert reopened.get(done).status is JobStatus.DONE
    for job_id in (running, queued):
        job = reopened.get(job_id)
        assert job.status is JobStatus.FAILED and job.error == INTERRUPTED and job.finished is not None


def test_a_failed_job_keeps_its_one_line_error(tmp_path):
    store = JobStore(tmp_path / "jobs.sqlite3")
    job_id = store.create({})
    store.fail(job_id, "uploaded image: not an image file")
    assert store.get(job_id).error == "uploaded image: not an image file"


def test_deleting_a_job_removes_its_row_and_folder(tmp_path):
    store = JobStore(tmp_path / "jobs.sqlite3")
    job_id = store.create({})
    (store.job_dir(job_id) / "original.png").write_bytes(b"x")
    store.delete(job_id)
    assert not store.job_dir(job_id).exists()
    with pytest.raises(UnknownJob):
        store.get(job_id)


@pytest.mark.parametrize(
    "bad", ["../jobs.sqlite3", "..", "", "/etc/passwd", "8c1f4f8e-2b4c-4a43-9d6e-0c35c8f3c11", "results/x"]
)
def test_ids_that_are_not_uuids_address_nothing(tmp_path, bad):
    store = JobStore(tmp_path / "jobs.sqlite3")
    with pytest.raises(UnknownJob):
        store.job_dir(bad)
    with pytest.raises(UnknownJob):
        store.get(bad)


def test_an_id_is_used_in_its_canonical_form():
    assert parse_job_id("8C1F4F8E2B4C4A439D6E0C35C8F3C111") == "8c1f4f8e-2b4c-4a43-9d6e-0c35c8f3c111"


def test_removing_a_finished_job_deletes_it_but_a_busy_one_stays(tmp_path):
    store = JobStore(tmp_path / "jobs.sqlite3")
    done, failed, running = store.create({}), store.create({}), store.create({})
    store.finish(done, {"blocks": []})
    store.fail(failed, "no text found")
    store.mark_running(running)
    assert store.remove(done) and store.remove(failed)
    assert not store.remove(running)
    assert store.get(running).status is JobStatus.RUNNING and store.job_dir(running).is_dir()
    for job_id in (done, failed):
        assert not store.job_dir(job_id).exists()
        with pytest.raises(UnknownJob):
            store.get(job_id)
    with pytest.raises(UnknownJob):
        store.remove(done)


def test_purging_deletes_only_jobs_that_finished_before_the_cutoff(tmp_path):
    store = JobStore(tmp_path / "jobs.sqlite3")
    old, recent, queued = store.create({}), store.create({}), store.create({})
    store.finish(old, {"blocks": []})
    store.finish(recent, {"blocks": []})
    with sqlite3.connect(store.db_path) as db:
        db.execute("UPDATE jobs SET finished = 1000.0 WHERE id = ?", (old,))
    assert store.purge(finished_before=2000.0) == 1
    assert not store.job_dir(old).exists()
    with pytest.raises(UnknownJob):
        store.get(old)
    assert store.get(recent).status is JobStatus.DONE and store.job_dir(recent).is_dir()
    assert store.get(queued).status is JobStatus.QUEUED
    assert store.purge(finished_before=2000.0) == 0
