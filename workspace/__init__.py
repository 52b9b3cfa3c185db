"""The pages that combine the domain apps: dashboard, work queue, patient pages, the shared
timeline and the weekly digests."""
