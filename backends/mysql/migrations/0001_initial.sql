-- Schema version 1 of the MySQL/MariaDB store: the tables, columns and
-- indexes of SQLite's schema after its version 4 (backends/sqlite/migrations),
-- which the shared queries of backends/sql expect, in the MySQL dialect's
-- types (backends/sql/dialect.h): ids are VARCHAR(255) utf8mb4 with the
-- binary collation (compared byte for byte, as in SQLite), timestamps
-- BIGINT Unix microseconds, events and payloads LONGBLOB serialized protos.
--
-- MySQL commits each DDL statement on its own, so this file must be safe to
-- run again after an interruption (backends/sql/migrations.h): every table
-- is CREATE TABLE IF NOT EXISTS and declares its indexes inline (MySQL 8
-- has no CREATE INDEX IF NOT EXISTS). MySQL has no partial indexes; the
-- indexes SQLite restricts with WHERE cover the whole column here.
--
-- Each table is clustered (its InnoDB primary key) by the execution its
-- rows belong to, so every statement that reads or deletes one execution's
-- rows is a range of the primary key whatever the optimizer thinks of the
-- table's statistics. A plan that scanned another index instead would lock
-- (and, at READ COMMITTED, wait for) other executions' rows, serializing
-- unrelated completions behind pollers and each other. The auto-increment
-- ids the shared queries order by get unique keys of their own.
CREATE TABLE IF NOT EXISTS durable_schema_version (
  version BIGINT NOT NULL
) ENGINE=InnoDB;
-- One row per execution: state, lease, result, last failure, workflow name,
-- parent. `seq` numbers executions in insertion order (ties within a
-- microsecond in the listing and its cursor).
CREATE TABLE IF NOT EXISTS instances (
  seq BIGINT NOT NULL AUTO_INCREMENT,
  instance_id VARCHAR(255) CHARACTER SET utf8mb4 COLLATE utf8mb4_bin NOT NULL,
  execution_id VARCHAR(255) CHARACTER SET utf8mb4 COLLATE utf8mb4_bin NOT NULL,
  workflow_name VARCHAR(255) CHARACTER SET utf8mb4 COLLATE utf8mb4_bin NOT NULL,
  queue VARCHAR(255) CHARACTER SET utf8mb4 COLLATE utf8mb4_bin NOT NULL,
  state BIGINT NOT NULL,
  created_at BIGINT NOT NULL,
  finished_at BIGINT,
  metadata LONGBLOB,
  result LONGBLOB,
  last_task_failure LONGBLOB,
  lease_token VARCHAR(255) CHARACTER SET utf8mb4 COLLATE utf8mb4_bin,
  lease_expires_at BIGINT,
  ready_at BIGINT NOT NULL DEFAULT 0,
  history_length BIGINT NOT NULL DEFAULT 0,
  parent LONGBLOB,
  PRIMARY KEY (instance_id, execution_id),
  UNIQUE KEY instances_by_seq (seq),
  KEY instances_by_creation (instance_id, created_at),
  KEY instances_by_state (state, queue),
  KEY instances_by_created_at (created_at, seq),
  KEY instances_by_finished_at (finished_at),
  KEY instances_by_ready_at (state, ready_at),
  KEY instances_by_lease_expiry (state, lease_expires_at)
) ENGINE=InnoDB;
-- The append-only history of each execution.
CREATE TABLE IF NOT EXISTS history (
  instance_id VARCHAR(255) CHARACTER SET utf8mb4 COLLATE utf8mb4_bin NOT NULL,
  execution_id VARCHAR(255) CHARACTER SET utf8mb4 COLLATE utf8mb4_bin NOT NULL,
  event_id BIGINT NOT NULL,
  event LONGBLOB NOT NULL,
  PRIMARY KEY (instance_id, execution_id, event_id)
) ENGINE=InnoDB;
-- Pending events per execution, possibly delayed (visible_at) and keyed
-- (event_key: a timer a later task may withdraw).
CREATE TABLE IF NOT EXISTS inbox (
  id BIGINT NOT NULL AUTO_INCREMENT,
  instance_id VARCHAR(255) CHARACTER SET utf8mb4 COLLATE utf8mb4_bin NOT NULL,
  execution_id VARCHAR(255) CHARACTER SET utf8mb4 COLLATE utf8mb4_bin NOT NULL,
  event LONGBLOB NOT NULL,
  visible_at BIGINT NOT NULL,
  event_key VARCHAR(255) CHARACTER SET utf8mb4 COLLATE utf8mb4_bin,
  PRIMARY KEY (instance_id, execution_id, id),
  UNIQUE KEY inbox_by_id (id),
  KEY inbox_by_visibility (visible_at, id),
  KEY inbox_by_key (instance_id, execution_id, event_key)
) ENGINE=InnoDB;
-- Activity tasks, leased by activity workers.
CREATE TABLE IF NOT EXISTS activities (
  id BIGINT NOT NULL AUTO_INCREMENT,
  activity_id VARCHAR(255) CHARACTER SET utf8mb4 COLLATE utf8mb4_bin NOT NULL,
  instance_id VARCHAR(255) CHARACTER SET utf8mb4 COLLATE utf8mb4_bin NOT NULL,
  execution_id VARCHAR(255) CHARACTER SET utf8mb4 COLLATE utf8mb4_bin NOT NULL,
  queue VARCHAR(255) CHARACTER SET utf8mb4 COLLATE utf8mb4_bin NOT NULL,
  scheduled_event LONGBLOB NOT NULL,
  attempt BIGINT NOT NULL,
  metadata LONGBLOB,
  scheduled_at BIGINT NOT NULL,
  visible_at BIGINT NOT NULL,
  lease_token VARCHAR(255) CHARACTER SET utf8mb4 COLLATE utf8mb4_bin,
  lease_expires_at BIGINT,
  activity_name VARCHAR(255) CHARACTER SET utf8mb4 COLLATE utf8mb4_bin
    NOT NULL DEFAULT '',
  PRIMARY KEY (instance_id, execution_id, id),
  UNIQUE KEY activities_by_id (id),
  UNIQUE KEY activities_by_activity_id (activity_id),
  KEY activities_by_queue (queue, visible_at, id),
  KEY activities_by_lease_expiry (lease_expires_at)
) ENGINE=InnoDB;
-- The worker registry: one serialized WorkerInfo per worker (upserted by
-- its only unique key, see Dialect::upsert).
CREATE TABLE IF NOT EXISTS workers (
  worker_id VARCHAR(255) CHARACTER SET utf8mb4 COLLATE utf8mb4_bin NOT NULL
    PRIMARY KEY,
  last_seen BIGINT NOT NULL,
  info LONGBLOB NOT NULL
) ENGINE=InnoDB;
