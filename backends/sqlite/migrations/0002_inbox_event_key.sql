-- Schema version 2: pending inbox events get an optional key, so a workflow
-- task can withdraw one it scheduled earlier (a canceled timer's firing).
ALTER TABLE inbox ADD COLUMN event_key TEXT;
