-- Reapplied on every open, after the migrations: indexes added within a
-- schema version (listing, removal, pollers' due-time lookups). They change
-- no table, so files written before them get them on their next open
-- without a version bump; every statement must be idempotent.
CREATE INDEX IF NOT EXISTS instances_by_created_at
  ON instances (created_at);
CREATE INDEX IF NOT EXISTS instances_by_finished_at
  ON instances (finished_at) WHERE finished_at IS NOT NULL;
CREATE INDEX IF NOT EXISTS activities_by_instance
  ON activities (instance_id, execution_id);
CREATE INDEX IF NOT EXISTS inbox_by_key
  ON inbox (instance_id, execution_id, event_key) WHERE event_key IS NOT NULL;
-- Pollers' "when is the next task due" lookups, O(log n) instead of a scan
-- of every active instance / activity.
CREATE INDEX IF NOT EXISTS instances_by_ready_at
  ON instances (state, ready_at);
CREATE INDEX IF NOT EXISTS instances_by_lease_expiry
  ON instances (state, lease_expires_at) WHERE lease_token IS NOT NULL;
CREATE INDEX IF NOT EXISTS activities_by_lease_expiry
  ON activities (lease_expires_at) WHERE lease_token IS NOT NULL;
