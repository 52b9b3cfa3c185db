"""Writes to the core domain. Each service: keyword-only arguments, one transaction."""
