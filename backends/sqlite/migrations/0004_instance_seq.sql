-- Schema version 4: each execution gets `seq`, a number that increases in
-- insertion order. It breaks ties between executions created in the same
-- microsecond (the newest active execution, the listing and its cursor)
-- with a column every SQL database can declare, where SQLite's implicit
-- rowid was used before. Server schemas declare it auto-increment. In
-- SQLite it IS the rowid: an INTEGER PRIMARY KEY column aliases it, so it
-- costs nothing on insert and keeps the values rows already had (listing
-- cursors handed out before the migration stay valid). A column cannot
-- become the rowid by ALTER TABLE, so the table is rebuilt, its old
-- primary key becoming a UNIQUE key (the same index as before).
CREATE TABLE instances_v4 (
  instance_id TEXT NOT NULL,
  execution_id TEXT NOT NULL,
  workflow_name TEXT NOT NULL,
  queue TEXT NOT NULL,
  state INTEGER NOT NULL,
  created_at INTEGER NOT NULL,
  finished_at INTEGER,
  metadata BLOB,
  result BLOB,
  last_task_failure BLOB,
  lease_token TEXT,
  lease_expires_at INTEGER,
  ready_at INTEGER NOT NULL DEFAULT 0,
  history_length INTEGER NOT NULL DEFAULT 0,
  parent BLOB,
  seq INTEGER PRIMARY KEY,
  UNIQUE (instance_id, execution_id)
);
INSERT INTO instances_v4 (instance_id, execution_id, workflow_name, queue,
  state, created_at, finished_at, metadata, result, last_task_failure,
  lease_token, lease_expires_at, ready_at, history_length, parent, seq)
SELECT instance_id, execution_id, workflow_name, queue, state, created_at,
  finished_at, metadata, result, last_task_failure, lease_token,
  lease_expires_at, ready_at, history_length, parent, rowid
FROM instances;
-- Drops the table's indexes too; additive_indexes.sql recreates its own
-- right after the migrations.
DROP TABLE instances;
ALTER TABLE instances_v4 RENAME TO instances;
CREATE INDEX instances_by_creation ON instances (instance_id, created_at);
CREATE INDEX instances_by_state ON instances (state, queue);
