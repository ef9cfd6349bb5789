-- Initial schema. STRICT tables make SQLite refuse a value of the wrong type instead of storing it.
-- *_at_ms columns are REAL: they come from clock arithmetic (now + hours * 3_600_000) that may be
-- fractional, and a fraction must neither be refused nor rounded differently from the memory engine.

-- Rowid table (not WITHOUT ROWID): payloads run to tens of KB, too large to sit in a clustered b-tree.
CREATE TABLE messages (
  subscribe_key       TEXT    NOT NULL,
  channel             TEXT    NOT NULL,
  timetoken           INTEGER NOT NULL CHECK (timetoken >= 0),
  publisher           TEXT    NOT NULL,
  payload             TEXT    NOT NULL,
  meta                TEXT,
  custom_message_type TEXT,
  type                INTEGER NOT NULL CHECK (type BETWEEN 0 AND 4),
  expires_at_ms       REAL,
  PRIMARY KEY (subscribe_key, channel, timetoken)
) STRICT;

CREATE INDEX messages_expiry ON messages (expires_at_ms) WHERE expires_at_ms IS NOT NULL;

CREATE TABLE channel_group_members (
  subscribe_key TEXT NOT NULL,
  group_name    TEXT NOT NULL,
  channel       TEXT NOT NULL,
  PRIMARY KEY (subscribe_key, group_name, channel)
) STRICT, WITHOUT ROWID;

CREATE TABLE grants (
  subscribe_key TEXT    NOT NULL,
  level         TEXT    NOT NULL CHECK (level IN ('subkey', 'channel', 'channel-group', 'uuid')),
  resource      TEXT    NOT NULL,
  auth_key      TEXT    NOT NULL,
  perms         INTEGER NOT NULL CHECK (perms > 0),
  ttl_minutes   INTEGER NOT NULL CHECK (ttl_minutes >= 0),
  expires_at_ms REAL,
  PRIMARY KEY (subscribe_key, level, resource, auth_key)
) STRICT;

CREATE INDEX grants_expiry ON grants (expires_at_ms) WHERE expires_at_ms IS NOT NULL;

CREATE TABLE deny_list (
  subscribe_key TEXT    NOT NULL,
  token_id      TEXT    NOT NULL,
  expires_at_ms REAL    NOT NULL,
  PRIMARY KEY (subscribe_key, token_id)
) STRICT, WITHOUT ROWID;

CREATE INDEX deny_list_expiry ON deny_list (expires_at_ms);
