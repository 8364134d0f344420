-- A small schema for the migration runner's tests.
CREATE TABLE durable_schema_version (version INTEGER NOT NULL);
CREATE TABLE items (id INTEGER PRIMARY KEY, name TEXT NOT NULL);
