"""Members' privacy rights: the rules (what an export holds, how erasure keeps aggregates, retention)
and `PrivacyService` (export, erase, and the daily retention purge the scheduler runs)."""

from __future__ import annotations

from bot.privacy.rules import (
    ACTIVATION_ENTRIES,
    EXPORT_FORMAT,
    FINISHED_ACTIVATION_STATES,
    MEMBER_COLUMNS,
    MEMBER_ID_ARRAYS,
    MEMBER_JSON_KEYS,
    MEMBER_LINKS,
    NOT_EXPORTED,
    SUBJECT_RULES,
    ErasureStep,
    build_export,
    erasure_plan,
    export_bytes,
    is_empty_apart_from_tombstone,
    new_pseudonym,
    parse_member_id,
    pseudonymise_ids,
    redact_row,
    retention_cutoff,
)
from bot.privacy.service import (
    RETENTION_EVERY_MINUTES,
    RETENTION_FIRST_SECONDS,
    RETENTION_JOB,
    Export,
    PrivacyService,
)

__all__ = [
    "ACTIVATION_ENTRIES",
    "EXPORT_FORMAT",
    "FINISHED_ACTIVATION_STATES",
    "MEMBER_COLUMNS",
    "MEMBER_ID_ARRAYS",
    "MEMBER_JSON_KEYS",
    "MEMBER_LINKS",
    "NOT_EXPORTED",
    "RETENTION_EVERY_MINUTES",
    "RETENTION_FIRST_SECONDS",
    "RETENTION_JOB",
    "SUBJECT_RULES",
    "ErasureStep",
    "Export",
    "PrivacyService",
    "build_export",
    "erasure_plan",
    "export_bytes",
    "is_empty_apart_from_tombstone",
    "new_pseudonym",
    "parse_member_id",
    "pseudonymise_ids",
    "redact_row",
    "retention_cutoff",
]
