"""The shared timeline page and the milestone actions that re-render it."""
