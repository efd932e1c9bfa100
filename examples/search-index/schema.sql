-- PostgreSQL side of the search-index example. The index and the position of the last change
-- applied live in the same database, so one transaction moves both (see indexer.ts).
CREATE TABLE IF NOT EXISTS search_documents (
  doc_id       text PRIMARY KEY,            -- '<schema>.<table>:<primary key>'
  source_table text NOT NULL,
  title        text NOT NULL DEFAULT '',
  body         text NOT NULL DEFAULT '',
  tsv          tsvector GENERATED ALWAYS AS (to_tsvector('english', title || ' ' || body)) STORED
);
CREATE INDEX IF NOT EXISTS search_documents_tsv ON search_documents USING gin (tsv);

CREATE TABLE IF NOT EXISTS search_index_position (
  consumer       text PRIMARY KEY,          -- one row per indexer (destination/table)
  logfile_name   text NOT NULL,
  logfile_offset bigint NOT NULL,
  execute_time   bigint NOT NULL,
  updated_at     timestamptz NOT NULL DEFAULT now()
);
-- Snapshot entries share the file and offset of the stream point they follow; their
-- snapshotSeq property (growing) orders them. 0 for ordinary changes.
ALTER TABLE search_index_position ADD COLUMN IF NOT EXISTS snapshot_seq bigint NOT NULL DEFAULT 0;
