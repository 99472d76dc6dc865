"""Vertex AI tuning REST API: wire format, retries, credentials and the client."""
