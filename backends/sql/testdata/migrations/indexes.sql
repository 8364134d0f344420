-- Reapplied on every open.
CREATE INDEX IF NOT EXISTS items_by_name ON items (name);
