-- The cost ledger: usage imported from agents' own logs, in the fleet store's file.
-- Costs are priced once, at import; reports only sum.
CREATE TABLE IF NOT EXISTS log_files (
    id INTEGER PRIMARY KEY,
    source TEXT NOT NULL,            -- claude | codex | gemini
    path TEXT NOT NULL UNIQUE,
    device INTEGER NOT NULL,
    inode INTEGER NOT NULL,
    size INTEGER NOT NULL,           -- at the last import
    mtime_ns INTEGER NOT NULL,
    offset INTEGER NOT NULL,         -- bytes consumed: the end of the last complete line
    head TEXT NOT NULL,              -- hash of the first bytes: a rotated file differs here
    state TEXT NOT NULL DEFAULT '{}',-- parser state to carry across imports (JSON)
    skipped_lines INTEGER NOT NULL DEFAULT 0,
    imported_at REAL NOT NULL
);
CREATE TABLE IF NOT EXISTS usage_records (
    key TEXT PRIMARY KEY,            -- source-qualified deduplication key
    source TEXT NOT NULL,
    ts REAL NOT NULL,                -- unix seconds, UTC
    session TEXT NOT NULL,
    project TEXT NOT NULL,
    model TEXT,
    input_tokens INTEGER NOT NULL,
    output_tokens INTEGER NOT NULL,
    cache_write_tokens INTEGER NOT NULL,
    cache_write_1h_tokens INTEGER NOT NULL,
    cache_read_tokens INTEGER NOT NULL,
    reasoning_tokens INTEGER NOT NULL,
    cost_usd REAL,                   -- NULL: unpriced (tokens kept)
    reported_cost_usd REAL,          -- what the log itself said, when it did
    priced_by TEXT NOT NULL,
    file_id INTEGER NOT NULL REFERENCES log_files(id)
);
CREATE INDEX IF NOT EXISTS usage_records_ts ON usage_records (ts);
CREATE INDEX IF NOT EXISTS usage_records_file ON usage_records (file_id);
CREATE TABLE IF NOT EXISTS limit_hits (
    key TEXT PRIMARY KEY,
    source TEXT NOT NULL,
    ts REAL NOT NULL,
    session TEXT NOT NULL,
    message TEXT NOT NULL,
    resets_at REAL,
    window_minutes INTEGER,
    file_id INTEGER NOT NULL REFERENCES log_files(id)
);
-- Bumped by every import that writes anything: a report cached at an earlier
-- generation is stale. A warm report over unchanged logs is then one lookup.
CREATE TABLE IF NOT EXISTS ledger_generation (
    id INTEGER PRIMARY KEY CHECK (id = 1),
    value INTEGER NOT NULL
);
INSERT OR IGNORE INTO ledger_generation (id, value) VALUES (1, 0);
CREATE TABLE IF NOT EXISTS report_cache (
    key TEXT PRIMARY KEY,            -- the report and its options
    generation INTEGER NOT NULL,
    body TEXT NOT NULL               -- the report's JSON
);
