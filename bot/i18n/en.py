"""English messages. Keys are grouped by the part of the bot that uses them."""

MESSAGES: dict[str, str] = {
    # --- job references -------------------------------------------------------------------
    "ref.missing": "Say which job: its number (e.g. `1234567890`) or its full name "
    "`projects/PROJECT/locations/REGION/tuningJobs/ID`.",
    "ref.invalid": "`{text}` is not a tuning job. Use the job's number (e.g. `1234567890`) or "
    "its full name `projects/PROJECT/locations/REGION/tuningJobs/ID`.",
    # --- dataset locations ----------------------------------------------------------------
    "dataset.missing": "Give the training data as a Cloud Storage URI, e.g. "
    "`gs://my-bucket/train.jsonl`.",
    "dataset.whitespace": "The URI contains spaces or line breaks. Paste just the "
    "`gs://bucket/file.jsonl` address.",
    "dataset.scheme": "`{uri}` is not a Cloud Storage URI. Upload the JSONL file to a bucket and "
    "give its `gs://bucket/path.jsonl` address (http://, https:// and file:// are not accepted).",
    "dataset.bucket_length": "Bucket name `{bucket}` must be 3 to 63 characters "
    "(up to 222 with dots).",
    "dataset.bucket_chars": "Bucket name `{bucket}` is not valid: use lower-case letters, digits, "
    "dashes, underscores and dots, starting and ending with a letter or digit.",
    "dataset.bucket_reserved": "Bucket name `{bucket}` is not valid: names cannot start with "
    '"goog" or contain "google".',
    "dataset.no_object": "`{uri}` names a bucket or folder. Give the JSONL file itself, e.g. "
    "`gs://my-bucket/train.jsonl`.",
    "dataset.object_too_long": "The object name is longer than {limit} bytes.",
    "dataset.wildcard": "`{uri}` contains a wildcard. Give exactly one JSONL file.",
    "dataset.object_chars": "`{uri}` contains characters Cloud Storage does not allow in an "
    "object name.",
    "dataset.vertex_name": "`{uri}` is not a Vertex AI dataset. Use "
    "`projects/PROJECT/locations/REGION/datasets/ID` or a `gs://` URI.",
    "dataset.not_allowed": "Datasets must come from: {allowed}. Ask an admin if you need "
    "another bucket.",
    # --- job spec -------------------------------------------------------------------------
    "spec.model_missing": "Choose a base model.",
    "spec.model_unknown": "`{model}` is not a model this bot can tune. Choose one of: {known}.",
    "spec.model_region": "{model} can only be tuned in {regions}; this bot runs jobs in {region}.",
    "spec.model_retired": "{model} is retired: Google will probably refuse to tune it. Pick a "
    "current model unless you know it still works.",
    "spec.model_retiring": "{model} retires on {date}: plan to move to a current model.",
    "spec.epochs_not_integer": "Epochs must be a whole number from {low} to {high}.",
    "spec.epochs_range": "Epochs must be from {low} to {high}.",
    "spec.adapter_not_integer": "Adapter size must be a number such as 4 or 8.",
    "spec.adapter_not_supported": "{model} has no adapter size setting: leave it empty.",
    "spec.adapter_not_allowed": "{model} accepts adapter sizes {allowed}.",
    "spec.lr_not_number": "Learning-rate multiplier must be a number above 0 and at most "
    "{high}, e.g. 1.0.",
    "spec.lr_range": "Learning-rate multiplier must be above 0 and at most {high}.",
    "spec.display_name_too_long": "The name is {length} characters; at most {limit} are allowed.",
    "spec.display_name_control": "The name contains control characters or line breaks: use "
    "plain text on one line.",
    "spec.labels_too_many": "A job can have at most {limit} labels.",
    "spec.label_invalid": "Label `{label}` is not valid: keys and values are lower-case letters, "
    "digits, `_` and `-`, at most 63 characters.",
    "spec.same_datasets": "Training and validation data are the same file: validation scores "
    "will look better than they are.",
    # --- authorization --------------------------------------------------------------------
    "auth.user_not_allowed": "Sorry, you are not on this bot's list of people who may use it. "
    "Ask an admin to add you.",
    "auth.channel_not_allowed": "Sorry, tuning jobs cannot be run from this channel. Try one of "
    "the channels the bot is set up for.",
    "auth.cancel_not_owner": "Sorry, only the person who started or watched this job, or an "
    "admin, can cancel it.",
    # --- job states -----------------------------------------------------------------------
    "state.unspecified": "Unknown",
    "state.queued": "Queued",
    "state.pending": "Pending",
    "state.running": "Running",
    "state.succeeded": "Succeeded",
    "state.failed": "Failed",
    "state.cancelling": "Cancelling",
    "state.cancelled": "Cancelled",
    "state.paused": "Paused",
    "state.expired": "Expired",
    "state.updating": "Updating",
    "state.partially_succeeded": "Partially succeeded",
    # --- Google errors --------------------------------------------------------------------
    "google.invalid_argument": "Google refused the request: {message}",
    "google.permission_denied": "Google denied permission: {message}\nThe bot's service "
    "account needs the Vertex AI User role (roles/aiplatform.user) in project {project}, and "
    "the Vertex AI API must be enabled.",
    "google.not_found": "Google has no such job: {name}. Check the number with `/tune list`.",
    "google.quota": "Google's quota is used up: {message}\nOnly a limited number of tuning jobs "
    "may run at once in a project. Wait for a running job to end, or ask for more quota.",
    "google.failed_precondition": "Google cannot do that now: {message}",
    "google.unavailable": "Google did not answer in time (tried {attempts} times). Nothing was "
    "lost; try again in a few minutes.",
    "google.other": "Google answered with an error ({status}): {message}",
    # --- Slack surface (commands, modals, messages) ---------------------------------------
    # --- status card (created by the Slack surface, kept current by the watcher) ----------
    "card.model": "Model",
    "card.epochs": "epochs",
    "card.adapter_size": "adapter size",
    "card.lr_multiplier": "learning-rate ×",
    "card.hyperparameters": "Hyperparameters",
    "card.defaults": "Google's defaults",
    "card.training_data": "Training data",
    "card.started_by": "Started by",
    "card.created": "Created",
    "card.elapsed": "elapsed",
    "card.data_stats": "*Data:* {examples} examples, {tokens} billable tokens",
    "card.open_console": "Open in Cloud console",
    "card.cancel": "Cancel job",
    "card.cancel_confirm_title": "Cancel this job?",
    "card.cancel_confirm_text": "Cancel {name}? Google stops the job; this cannot be undone.",
    "card.cancel_confirm_yes": "Cancel job",
    "card.cancel_confirm_no": "Keep running",
    # --- watcher (status cards, endings) --------------------------------------------------
    # --- dataset pre-flight ---------------------------------------------------------------
}
