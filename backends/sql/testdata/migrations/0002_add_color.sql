-- Existing items get a color from the hook.
ALTER TABLE items ADD COLUMN color TEXT;
