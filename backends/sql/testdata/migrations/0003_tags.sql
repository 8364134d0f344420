CREATE TABLE tags (item_id INTEGER NOT NULL, tag TEXT NOT NULL);
CREATE INDEX tags_by_item ON tags (item_id);
