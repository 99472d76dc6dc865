"""Every interactive id the bot puts in a message or a view, in one place: each has a listener
(`tests/slack/test_every_button_has_a_listener.py`), or is a link button Slack only reports."""

from __future__ import annotations

# Views (callback_id).
CREATE_FORM = "tuning_job_create"
# The create form's advanced settings, a view pushed over the form.
ADVANCED_FORM = "tuning_job_advanced"
TRY_FORM = "tuning_job_try"  # Try it: ask the tuned model (and its base model) one prompt
# `/tune settings`: how a channel gets job messages (the channel id is its private_metadata).
CHANNEL_SETTINGS = "tuning_channel_settings"

# Shortcuts (callback_id): the global one opens the create form, the message one watches the
# job the message refers to in its channel.
NEW_JOB_SHORTCUT = "tuning_job_new"
WATCH_MESSAGE_SHORTCUT = "tuning_job_watch_here"

# Create form input (block_id and action_id): where the status message goes when the form was
# opened from a shortcut, which has no channel. Its value travels with the form.
POST_IN = "post_in"

# Try it form inputs (block_id and action_id alike).
TRY_PROMPT = "try_prompt"
TRY_SYSTEM = "try_system"
TRY_TEMPERATURE = "try_temperature"
TRY_MAX_TOKENS = "try_max_tokens"
TRY_OPTIONS = "try_options"
TRY_COMPARE = "compare"  # the option value of "also ask the base model"
TRY_CHECKPOINT = "try_checkpoint"
TRY_WHERE = "try_where"
TRY_IN_THREAD = "thread"  # option values of TRY_WHERE
TRY_ONLY_ME = "only_me"

# Channel settings inputs (block_id and action_id alike) and their option values.
SETTINGS_ENDINGS = "settings_endings"  # radio: endings in the card's thread or top-level
SETTINGS_BROADCAST = "settings_broadcast"  # checkbox: successful endings also in the channel
SETTINGS_CARDS = "settings_cards"  # radio: status cards, or endings only
SETTINGS_MENTION = "settings_mention"  # checkbox: a failure mentions whoever started the job
SETTINGS_THREAD = "thread"
SETTINGS_TOP_LEVEL = "top_level"
SETTINGS_ON = "on"
SETTINGS_OFF = "off"

# Buttons (action_id).
CARD_CANCEL = "job_cancel"
CARD_CONSOLE = "job_open_console"  # a link: Slack reports the click, nothing is to be done
ENDING_CONSOLE = "ending_open_console"  # a link, as above
LIST_MORE = "jobs_list_more"
CREATE_AGAIN = "job_create_again"
# Run again (status cards and endings) and Continue tuning (successful endings): the create
# form filled from the job the button names.
JOB_RERUN = "job_rerun"
JOB_CONTINUE = "job_continue_tuning"
TRY_MODEL = "job_try"  # on the success ending and `/tune get`: opens the Try it form
# The App Home tab (its Cancel buttons are the card's `CARD_CANCEL`).
HOME_NEW_JOB = "home_new_job"
HOME_JOB_GET = "home_job_get"
# The create form's "Advanced settings…" button (also its actions block's id).
ADVANCED_OPEN = "create_advanced_open"

# Link buttons: Slack sends their clicks too; they are acknowledged and nothing else.
LINKS = (CARD_CONSOLE, ENDING_CONSOLE)
