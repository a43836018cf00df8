"""Batch translation of images, folders, CBZ/ZIP archives and PDFs, with resume (see README.md)."""

from imtrans.batch.runner import BatchOptions, BatchSummary, run_batch

__all__ = ["BatchOptions", "BatchSummary", "run_batch"]
