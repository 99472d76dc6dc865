"""Slack surface: listeners for commands, modals and buttons, and Block Kit rendering."""
