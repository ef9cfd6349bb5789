-- Message actions and shared files (wire-protocol.md §11).

-- One row per action. The primary key is what removal names on the wire (message and action
-- timetoken); the UNIQUE constraint refuses the same reaction twice from one uuid.
CREATE TABLE message_actions (
  subscribe_key     TEXT    NOT NULL,
  channel           TEXT    NOT NULL,
  message_timetoken INTEGER NOT NULL CHECK (message_timetoken >= 0),
  action_timetoken  INTEGER NOT NULL CHECK (action_timetoken >= 0),
  type              TEXT    NOT NULL,
  value             TEXT    NOT NULL,
  uuid              TEXT    NOT NULL,
  PRIMARY KEY (subscribe_key, channel, message_timetoken, action_timetoken),
  UNIQUE (subscribe_key, channel, message_timetoken, type, value, uuid)
) STRICT, WITHOUT ROWID;

-- getMessageActions pages a channel by action timetoken.
CREATE INDEX message_actions_by_action ON message_actions (subscribe_key, channel, action_timetoken);

-- Rowid table: the bytes run to megabytes and must not sit in a clustered b-tree.
CREATE TABLE files (
  subscribe_key TEXT    NOT NULL,
  channel       TEXT    NOT NULL,
  id            TEXT    NOT NULL,
  name          TEXT    NOT NULL,
  size          INTEGER NOT NULL CHECK (size >= 0),
  created       TEXT    NOT NULL,
  content_type  TEXT    NOT NULL,
  bytes         BLOB    NOT NULL,
  PRIMARY KEY (subscribe_key, channel, id)
) STRICT;

-- listFiles walks a channel newest first; the metadata columns are in the index so a page reads no blobs.
CREATE INDEX files_by_created ON files (subscribe_key, channel, created, id, name, size, content_type);
