"""Vertex AI tuning REST API: wire format, client, and a local emulator."""
