"""Signing in and staying signed in: the second factor, session lifetimes and API tokens."""
