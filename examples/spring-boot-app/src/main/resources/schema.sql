CREATE TABLE IF NOT EXISTS scrapes (
    task_id      TEXT PRIMARY KEY,
    sources      INTEGER NOT NULL,
    claims_found INTEGER NOT NULL,
    attempts     INTEGER NOT NULL,
    finished_at  TEXT NOT NULL
);
