"""What a worker makes of a page it cannot read, and how the CPUs are shared between workers."""

from __future__ import annotations

import os

import pytest
from batch_inputs import comic_archive

from imtrans.batch.inputs import expand_inputs
from imtrans.batch.worker import threads_per_worker, translate_page
from imtrans.pipeline import Pipeline


@pytest.mark.parametrize("workers", [1, 2, 3, 64])
def test_workers_share_the_cpus_and_each_gets_at_least_one_thread(workers):
    cpus = len(os.sched_getaffinity(0))
    threads = threads_per_worker(workers)
    assert threads == max(1, cpus // workers)
    assert threads * workers <= max(cpus, workers)


def test_an_unreadable_page_is_an_outcome_not_an_exception(tmp_path):
    (doc,) = expand_inputs([comic_archive(tmp_path / "c.cbz")])
    outcome = translate_page(Pipeline(), doc.jobs[1])  # 002.png is truncated; no model is loaded for it
    assert not outcome.ok and outcome.fatal is None
    assert outcome.error is not None and outcome.error.startswith("c.cbz!002.png:")
    assert outcome.image is None and outcome.page_json is None
