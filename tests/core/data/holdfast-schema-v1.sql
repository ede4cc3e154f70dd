-- A database as Holdfast 0.1 (schema version 1) left it: used to prove that files are migrated
-- forward. Never edit: it is a frozen copy of what the first release wrote.
PRAGMA application_id = 1212564546;
CREATE TABLE sessions (id TEXT PRIMARY KEY, title TEXT, system TEXT, model TEXT NOT NULL, created_at TEXT NOT NULL, updated_at TEXT NOT NULL, total INTEGER NOT NULL DEFAULT 0, active_turn INTEGER NOT NULL DEFAULT 0, last_turn INTEGER NOT NULL DEFAULT 0) WITHOUT ROWID;
CREATE TABLE messages (session TEXT NOT NULL, idx INTEGER NOT NULL, role TEXT NOT NULL, content TEXT NOT NULL, turn INTEGER NOT NULL DEFAULT 0, state TEXT NOT NULL, created_at TEXT NOT NULL, PRIMARY KEY (session, idx)) WITHOUT ROWID;
CREATE TABLE turns (session TEXT NOT NULL, id INTEGER NOT NULL, state TEXT NOT NULL, prompt_index INTEGER NOT NULL, response_index INTEGER, chunks INTEGER NOT NULL DEFAULT 0, model TEXT NOT NULL, created_at TEXT NOT NULL, finished_at TEXT, error_code TEXT, error_message TEXT, PRIMARY KEY (session, id)) WITHOUT ROWID;
CREATE TABLE chunks (session TEXT NOT NULL, turn INTEGER NOT NULL, seq INTEGER NOT NULL, text TEXT NOT NULL, PRIMARY KEY (session, turn, seq)) WITHOUT ROWID;
INSERT INTO sessions VALUES ('old-notes', 'Notes from 0.1', NULL, 'demo', '2026-01-02T03:04:05.000Z', '2026-01-02T03:05:00.000Z', 2, 0, 1);
INSERT INTO messages VALUES ('old-notes', 0, 'user', 'What did 0.1 store?', 1, 'complete', '2026-01-02T03:04:06.000Z');
INSERT INTO messages VALUES ('old-notes', 1, 'assistant', 'Everything, in schema version 1.', 1, 'complete', '2026-01-02T03:04:07.000Z');
INSERT INTO turns VALUES ('old-notes', 1, 'done', 0, 1, 2, 'demo', '2026-01-02T03:04:06.000Z', '2026-01-02T03:04:07.000Z', NULL, NULL);
INSERT INTO chunks VALUES ('old-notes', 1, 0, 'Everything, ');
INSERT INTO chunks VALUES ('old-notes', 1, 1, 'in schema version 1.');
PRAGMA user_version = 1;
