-- Reason: ../0018_postgresql_batch_aggregates.sql. Every ledger batch (Store.record, record_bulk, the
-- ingest writer's pool) now runs the statements of bot/store/ledger.py AFTER_INSERT in PostgreSQL's text
-- inside its transaction: the rows it inserted are those with an id above the largest before the
-- batch that this transaction wrote (`xmin`), as the report aggregates of 0014 already were, so rows
-- other processes commit meanwhile are never counted twice or missed. The per-row triggers go.

DROP TRIGGER events_feed_daily ON events;
DROP FUNCTION events_feed_daily();
DROP TRIGGER events_advance_cursor ON events;
DROP FUNCTION events_advance_cursor();
