"""The handler layer: what create / list / get / cancel / watch do, free of Slack types."""
