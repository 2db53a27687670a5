-- {{name}}
-- Runs in one transaction together with its state row. To run outside one (CREATE INDEX CONCURRENTLY),
-- put a line reading "-- opsctl:no-transaction" at the top.

-- up


-- down

