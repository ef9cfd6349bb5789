-- Operator console (docs/security.md "Operator console, kick and rotation").
-- `kicks`: a uuid cut off by an operator; tokens used as it and issued in or before the kick's second are
-- refused (store/types.ts DenyList.addKick). One row per (keyset, uuid): a later kick replaces an earlier one.
-- `secret_rotations`: runtime secret-key rotations, sealed (access/secret-rotation.ts); no secret in clear.
-- Times are REAL, as in 001_initial.sql.

CREATE TABLE kicks (
  subscribe_key TEXT NOT NULL,
  uuid          TEXT NOT NULL,
  kicked_at_ms  REAL NOT NULL,
  PRIMARY KEY (subscribe_key, uuid)
) STRICT, WITHOUT ROWID;

CREATE TABLE secret_rotations (
  id                      INTEGER PRIMARY KEY AUTOINCREMENT,
  subscribe_key           TEXT NOT NULL,
  rotated_at_ms           REAL NOT NULL,
  previous_valid_until_ms REAL NOT NULL,
  sealed_new              TEXT NOT NULL,
  sealed_previous         TEXT NOT NULL
) STRICT;

CREATE INDEX secret_rotations_by_keyset ON secret_rotations (subscribe_key, id);
