"""Milestones: the treatment plan's dated steps, their kinds, forms and services."""
