"""A tuning job's training curves as pictures and words for Slack.

`render` draws the PNG (it imports matplotlib, so it is only loaded where a chart is drawn) and
offers beside it the alt text that `alt_text` writes: the same curves in a sentence or two, for
screen readers.
"""
