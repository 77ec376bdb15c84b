"""Benchmarks: each compares our way with the seeds' way (and the physical limit) in one run."""
