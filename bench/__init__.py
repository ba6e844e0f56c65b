"""Benchmarks: speed is measured here against a plain baseline in the same run, never asserted."""
