"""An audit entry's keyed hash (kinlink.store.audit): what each entry's HMAC covers, and the unkeyed hash
older kinlinks wrote. The one definition both the log's writer and its verification use."""

from __future__ import annotations

import hashlib
import hmac
import json
from datetime import UTC, datetime
from typing import Any

from kinlink.keys import server_key

REKEY_ACTION = "rekey"
REKEY_ENTITY = "audit"
MAIN_CHAIN = 1  # the original chain: the writers' mutex, and the only one on SQLite (single writer anyway)
CHAINS = 8  # the heads migration 0020 seeds


def canonical_time(at: datetime) -> str:
    # SQLite gives datetimes back without a zone: they are stored as UTC, so read them as UTC.
    if at.tzinfo is None:
        at = at.replace(tzinfo=UTC)
    return at.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.%f")


def _body(
    prev_hash: str | None,
    at: datetime,
    actor: str,
    action: str,
    entity: str,
    entity_id: str | None,
    changes: Any,
    credential: str | None = None,
    chain: int = MAIN_CHAIN,
) -> bytes:
    fields = [prev_hash, canonical_time(at), actor, action, entity, entity_id, changes]
    if chain != MAIN_CHAIN:  # chain 1's entries hash as they did before there were chains
        fields += [credential, chain]
    elif credential is not None:  # appended only when present, so entries written before it keep their hash
        fields.append(credential)
    return _ENCODE(fields).encode()


# json.dumps(fields, sort_keys=True, ensure_ascii=False, default=str), whose encoder json.dumps would make
# again for every entry (non-default options): the same text, made once a process (issue 19).
_ENCODE = json.JSONEncoder(sort_keys=True, ensure_ascii=False, default=str).encode


def entry_hash(
    prev_hash: str | None,
    at: datetime,
    actor: str,
    action: str,
    entity: str,
    entity_id: str | None,
    changes: Any,
    credential: str | None = None,
    chain: int = MAIN_CHAIN,
) -> str:
    """The keyed hash of an entry (HMAC-SHA-256 under the audit key)."""
    body = _body(prev_hash, at, actor, action, entity, entity_id, changes, credential, chain)
    # hmac.digest: the same HMAC as hmac.new(...).hexdigest(), in one C call without an HMAC object.
    return hmac.digest(server_key("audit"), body, "sha256").hex()


def legacy_entry_hash(
    prev_hash: str | None,
    at: datetime,
    actor: str,
    action: str,
    entity: str,
    entity_id: str | None,
    changes: Any,
) -> str:
    """The unkeyed hash older kinlinks wrote; accepted only before the rekey entry."""
    return hashlib.sha256(_body(prev_hash, at, actor, action, entity, entity_id, changes)).hexdigest()
