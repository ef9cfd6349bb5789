-- Facts about the database itself, one row per key.
-- `deny_list_epoch_ms`: since when this file has held every revocation (store/types.ts DenyList.epoch).
-- A new database records it on first use; one that existed before this migration gets 0 (database.ts):
-- its deny_list has been kept since it was created.

CREATE TABLE meta (
  key   TEXT PRIMARY KEY,
  value INTEGER NOT NULL
) STRICT, WITHOUT ROWID;
