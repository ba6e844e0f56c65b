"""The demo city: its catalogue, seeded through the public services, and synthetic extracts.

Production packages never import this package; the CLI, tests and benchmarks do. A province
replaces it with its own catalogue, imported through ``govshare catalog import``.
"""
