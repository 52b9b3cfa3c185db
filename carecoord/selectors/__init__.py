"""Reads of the core domain, already scoped to the user who asks."""
