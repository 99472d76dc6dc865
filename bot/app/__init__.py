"""The composition root: the only package that knows every layer.

`server` builds the bot process (Slack listener and watcher, `tuning-bot`), `watcher` the
watcher-only process (`tuning-bot watcher`); both take their shared parts from `wiring`.
"""
