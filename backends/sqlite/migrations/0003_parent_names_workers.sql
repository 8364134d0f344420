-- Schema version 3: each execution keeps its parent (a serialized
-- WorkflowParent, NULL for none) so that a child the engine fails reports to
-- it even when its history cannot be read; activity tasks keep their name so
-- polls can filter by it; and the worker registry (one serialized WorkerInfo
-- per worker).
--
-- Followed by a hook (BackfillVersion3 in schema.cc) that fills the new
-- columns of existing rows from their serialized events.
ALTER TABLE instances ADD COLUMN parent BLOB;
ALTER TABLE activities ADD COLUMN activity_name TEXT NOT NULL DEFAULT '';
CREATE TABLE IF NOT EXISTS workers (
  worker_id TEXT NOT NULL PRIMARY KEY,
  last_seen INTEGER NOT NULL,
  info BLOB NOT NULL
) WITHOUT ROWID;
