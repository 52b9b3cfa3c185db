"""carecoord core: sites, people, memberships, patients, care teams, access, accounts, the outbox
and the timeline record. It imports no domain app (the layers are in .importlinter)."""
