-- notifications is a queue: every claim and every attempt rewrites a row, and the claim walks the
-- front of the due index. Vacuum and analyze it after 1 % of its rows changed (not PostgreSQL's
-- default 20 % and 10 %), so dead entries at the front are cleared soon and the planner knows
-- how few rows are pending.
ALTER TABLE notifications SET (
  autovacuum_vacuum_scale_factor = 0.01,
  autovacuum_analyze_scale_factor = 0.01,
  autovacuum_vacuum_insert_scale_factor = 0.01
);
