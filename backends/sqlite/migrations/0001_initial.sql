-- Schema version 1: the first durable schema.
--
-- Timestamps are int64 Unix microseconds; events are serialized
-- durable.v1.HistoryEvent messages.
CREATE TABLE IF NOT EXISTS durable_schema_version (
  version INTEGER NOT NULL
);
-- One row per execution: state, lease, result, last failure, workflow name.
CREATE TABLE IF NOT EXISTS instances (
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
  PRIMARY KEY (instance_id, execution_id)
);
CREATE INDEX IF NOT EXISTS instances_by_creation
  ON instances (instance_id, created_at);
CREATE INDEX IF NOT EXISTS instances_by_state
  ON instances (state, queue);
-- The append-only history of each execution.
CREATE TABLE IF NOT EXISTS history (
  instance_id TEXT NOT NULL,
  execution_id TEXT NOT NULL,
  event_id INTEGER NOT NULL,
  event BLOB NOT NULL,
  PRIMARY KEY (instance_id, execution_id, event_id)
) WITHOUT ROWID;
-- Pending events per execution, possibly delayed (visible_at).
CREATE TABLE IF NOT EXISTS inbox (
  id INTEGER PRIMARY KEY AUTOINCREMENT,
  instance_id TEXT NOT NULL,
  execution_id TEXT NOT NULL,
  event BLOB NOT NULL,
  visible_at INTEGER NOT NULL
);
CREATE INDEX IF NOT EXISTS inbox_by_visibility ON inbox (visible_at);
CREATE INDEX IF NOT EXISTS inbox_by_execution
  ON inbox (instance_id, execution_id, id);
-- Activity tasks, leased by activity workers.
CREATE TABLE IF NOT EXISTS activities (
  id INTEGER PRIMARY KEY AUTOINCREMENT,
  activity_id TEXT NOT NULL UNIQUE,
  instance_id TEXT NOT NULL,
  execution_id TEXT NOT NULL,
  queue TEXT NOT NULL,
  scheduled_event BLOB NOT NULL,
  attempt INTEGER NOT NULL,
  metadata BLOB,
  scheduled_at INTEGER NOT NULL,
  visible_at INTEGER NOT NULL,
  lease_token TEXT,
  lease_expires_at INTEGER
);
CREATE INDEX IF NOT EXISTS activities_by_queue
  ON activities (queue, visible_at);
