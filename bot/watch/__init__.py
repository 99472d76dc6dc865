"""Watching jobs: the persistent watch store, the poll cycle and the scheduler that fires it."""
