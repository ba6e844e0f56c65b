"""The lakehouse: Delta tables in layers (raw, validated, quarantine, themes)."""
