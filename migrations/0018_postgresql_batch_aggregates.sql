-- Reason: on PostgreSQL the daily aggregates and the gap-fill cursors were kept by per-row triggers
-- (its 0002 and 0016), one PL/pgSQL call per event, while SQLite feeds them once per ingest batch
-- (0016). PostgreSQL now feeds them per batch too, from the rows the batch's own transaction inserted
-- (postgresql/0018). Nothing changes on SQLite.
SELECT 1;
