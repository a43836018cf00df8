"""Evaluation: datasets with ground truth, metrics as pure functions, reports (see README.md)."""
