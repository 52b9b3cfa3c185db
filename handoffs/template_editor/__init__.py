"""The hand-off template editor: drafts, previews and published versions."""
