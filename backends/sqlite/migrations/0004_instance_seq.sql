-- Schema version 4: each execution gets `seq`, a number that increases in
-- insertion order. It breaks ties between executions created in the same
-- microsecond (the newest active execution, the listing and its cursor)
-- with a column every SQL database can declare, where SQLite's implicit
-- rowid was used before. Server schemas declare it auto-increment; SQLite
-- cannot auto-increment a column outside the primary key, so a trigger
-- copies the rowid of each new row, and existing rows get theirs here
-- (listing cursors handed out before the migration stay valid).
ALTER TABLE instances ADD COLUMN seq INTEGER;
UPDATE instances SET seq = rowid;
CREATE TRIGGER IF NOT EXISTS instances_seq AFTER INSERT ON instances
  WHEN new.seq IS NULL
BEGIN
  UPDATE instances SET seq = new.rowid WHERE rowid = new.rowid;
END;
-- The orders the shared queries sort by: an instance's executions, and
-- every instance for the listing (both were rowid-ordered implicitly).
DROP INDEX IF EXISTS instances_by_creation;
CREATE INDEX instances_by_creation ON instances (instance_id, created_at, seq);
DROP INDEX IF EXISTS instances_by_created_at;
CREATE INDEX instances_by_created_at ON instances (created_at, seq);
