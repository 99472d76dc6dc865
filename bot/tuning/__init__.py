"""Pure job domain: specs, validation, model catalogue, states and job references.

Nothing in this package performs I/O or imports Slack, HTTP or database libraries.
"""
