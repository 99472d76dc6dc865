"""Google resource names the advanced settings take: a service account's email, a KMS key.

Kept apart from the spec so that the configuration can check its defaults without loading
the model catalogue.
"""

from __future__ import annotations

import re

# User-managed (`name@project.iam.gserviceaccount.com`) and Google-made accounts such as
# `123-compute@developer.gserviceaccount.com` both end in gserviceaccount.com.
SERVICE_ACCOUNT = re.compile(
    r"[a-z0-9][a-z0-9._-]{0,99}@[a-z0-9][a-z0-9.-]{0,99}\.gserviceaccount\.com"
)
KMS_KEY = re.compile(
    r"projects/(?P<project>[a-z0-9][a-z0-9.:-]{0,62})/locations/(?P<location>[a-z0-9-]{1,63})"
    r"/keyRings/[A-Za-z0-9_-]{1,63}/cryptoKeys/[A-Za-z0-9_-]{1,63}"
)


def is_service_account(text: str) -> bool:
    """True for a service account's email address."""
    return bool(SERVICE_ACCOUNT.fullmatch(text))


def kms_key_location(text: str) -> str | None:
    """The location of a Cloud KMS key name, or None when `text` is not one."""
    match = KMS_KEY.fullmatch(text)
    return match["location"] if match else None
