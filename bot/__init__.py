"""tuning-bot: run Vertex AI supervised tuning of Gemini models from Slack."""

__version__ = "0.1.0"
