"""Operator tooling behind the `prevention` CLI: embedded-mode backup/restore, release status."""
