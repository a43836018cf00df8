"""imtrans checks its own output: residue, legibility, fit, contrast and damage per block, and
repairs what fails (`check_page`; the pipeline runs it after rendering, see README.md)."""

from imtrans.check.findings import Finding, quality_of
from imtrans.check.stage import CheckResult, Engines, check_page

__all__ = ["CheckResult", "Engines", "Finding", "check_page", "quality_of"]
