-- App Context (objects v2, wire-protocol.md §11): uuid and channel metadata, and the memberships
-- between them. `custom` is the JSON text of an object of scalars, or NULL. Neither side of a
-- membership needs a metadata row, so there is no foreign key.

CREATE TABLE app_context_objects (
  subscribe_key TEXT NOT NULL,
  kind          TEXT NOT NULL CHECK (kind IN ('uuid', 'channel')),
  id            TEXT NOT NULL,
  name          TEXT,
  external_id   TEXT,
  profile_url   TEXT,
  email         TEXT,
  description   TEXT,
  status        TEXT,
  type          TEXT,
  custom        TEXT,
  updated       TEXT NOT NULL,
  etag          TEXT NOT NULL,
  PRIMARY KEY (subscribe_key, kind, id)
) STRICT, WITHOUT ROWID;

CREATE TABLE app_context_memberships (
  subscribe_key TEXT NOT NULL,
  uuid          TEXT NOT NULL,
  channel       TEXT NOT NULL,
  status        TEXT,
  type          TEXT,
  custom        TEXT,
  updated       TEXT NOT NULL,
  etag          TEXT NOT NULL,
  PRIMARY KEY (subscribe_key, uuid, channel)
) STRICT, WITHOUT ROWID;

-- Members of a channel: the primary key serves a uuid's memberships.
CREATE INDEX app_context_members ON app_context_memberships (subscribe_key, channel, uuid);
