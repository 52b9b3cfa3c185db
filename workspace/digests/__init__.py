"""The weekly digest each point person receives: what happened, what is due, what is overdue.

`schedule` decides which week is due (pure), `build` reads everything in a fixed number of
queries, `services` claims the week and queues the email.
"""
