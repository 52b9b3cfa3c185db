"""The audit trail: an append-only record of every change to patient data and every read of it."""
