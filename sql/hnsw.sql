-- hnsw index access method: creation per operator class, options, planner,
-- results against exact search, iterative scans, NULLs, bad input
SET jit = off;
SELECT setseed(0.42);

-- one table per element type; 2,000 rows of 8 dimensions
CREATE TABLE hv (id int PRIMARY KEY, category int, v vector(8), h halfvec(8), b bit(64));
INSERT INTO hv
SELECT i, i % 100, v, v::halfvec, binary_quantize(v)::bit(8) || binary_quantize(v)::bit(8) ||
       binary_quantize(v)::bit(8) || binary_quantize(v)::bit(8) || binary_quantize(v)::bit(8) ||
       binary_quantize(v)::bit(8) || binary_quantize(v)::bit(8) || binary_quantize(v)::bit(8)
  FROM (SELECT i, (SELECT array_agg(random() - 0.5) FROM generate_series(1, 8) WHERE i > 0)::vector AS v
          FROM generate_series(1, 2000) i) s;
-- bit strings with more variety than a repeated sign pattern
UPDATE hv SET b = (SELECT string_agg(CASE WHEN random() < 0.5 THEN '1' ELSE '0' END, '')
                     FROM generate_series(1, 64) WHERE id > 0)::bit(64);
INSERT INTO hv VALUES (2001, 1, NULL, NULL, NULL);
ANALYZE hv;

-- every operator class builds, and its graph is sound
CREATE INDEX hv_v_l2 ON hv USING hnsw (v vector_l2_ops);
CREATE INDEX hv_v_ip ON hv USING hnsw (v vector_ip_ops);
CREATE INDEX hv_v_cos ON hv USING hnsw (v vector_cosine_ops) WITH (m = 8, ef_construction = 32);
CREATE INDEX hv_v_l1 ON hv USING hnsw (v vector_l1_ops);
CREATE INDEX hv_h_l2 ON hv USING hnsw (h halfvec_l2_ops);
CREATE INDEX hv_h_ip ON hv USING hnsw (h halfvec_ip_ops);
CREATE INDEX hv_h_cos ON hv USING hnsw (h halfvec_cosine_ops);
CREATE INDEX hv_h_l1 ON hv USING hnsw (h halfvec_l1_ops);
CREATE INDEX hv_b_ham ON hv USING hnsw (b bit_hamming_ops);
CREATE INDEX hv_b_jac ON hv USING hnsw (b bit_jaccard_ops);
SELECT c.relname, count(p) AS problems
  FROM pg_class c LEFT JOIN LATERAL vecdb.hnsw_verify(c.oid) p ON true
 WHERE c.relname LIKE 'hv\_%\_%' AND c.relam = (SELECT oid FROM pg_am WHERE amname = 'hnsw')
 GROUP BY 1 ORDER BY 1;

-- the planner uses the index for ORDER BY ... LIMIT
EXPLAIN (COSTS OFF) SELECT id FROM hv ORDER BY v <-> '[0,0,0,0,0,0,0,0]' LIMIT 5;
EXPLAIN (COSTS OFF) SELECT id FROM hv ORDER BY h <=> '[1,0,0,0,0,0,0,0]' LIMIT 5;
EXPLAIN (COSTS OFF) SELECT id FROM hv ORDER BY b <~> repeat('1', 64)::bit(64) LIMIT 5;
-- but not without ORDER BY, nor for an ORDER BY it cannot serve
EXPLAIN (COSTS OFF) SELECT id FROM hv WHERE v <-> '[0,0,0,0,0,0,0,0]' < 1;
EXPLAIN (COSTS OFF) SELECT id FROM hv ORDER BY v <-> '[0,0,0,0,0,0,0,0]' DESC LIMIT 5;
-- the index returns rows in order, so a hidden ORDER BY distance is not computed
-- for each row (NULL in the scan's output); a selected one is, and WITH TIES,
-- which compares the values, keeps the expression
SELECT 1 FROM hv ORDER BY v <-> '[0,0,0,0,0,0,0,0]' LIMIT 1;
EXPLAIN (VERBOSE, COSTS OFF) SELECT id FROM hv ORDER BY v <-> '[0,0,0,0,0,0,0,0]' LIMIT 5;
-- (a Sort needs the values; an index scan without LIMIT does not)
EXPLAIN (VERBOSE, COSTS OFF) SELECT id FROM hv WHERE category > 3 ORDER BY h <=> '[1,0,0,0,0,0,0,0]';
SET enable_seqscan = off;
EXPLAIN (VERBOSE, COSTS OFF) SELECT id FROM hv WHERE category > 3 ORDER BY h <=> '[1,0,0,0,0,0,0,0]';
RESET enable_seqscan;
EXPLAIN (VERBOSE, COSTS OFF) SELECT id, v <-> '[0,0,0,0,0,0,0,0]' AS d FROM hv ORDER BY v <-> '[0,0,0,0,0,0,0,0]' LIMIT 5;
EXPLAIN (VERBOSE, COSTS OFF) SELECT id FROM hv ORDER BY v <-> '[0,0,0,0,0,0,0,0]' FETCH FIRST 5 ROWS WITH TIES;
SELECT (SELECT array_agg(id) FROM (SELECT id FROM hv ORDER BY v <-> '[0,0,0,0,0,0,0,0]' LIMIT 5) s) =
       (SELECT array_agg(id) FROM (SELECT id, v <-> '[0,0,0,0,0,0,0,0]' AS d FROM hv
                                    ORDER BY v <-> '[0,0,0,0,0,0,0,0]' LIMIT 5) s) AS same_rows,
       (SELECT bool_and(d = v <-> '[0,0,0,0,0,0,0,0]' AND d IS NOT NULL)
          FROM (SELECT v, v <-> '[0,0,0,0,0,0,0,0]' AS d FROM hv
                 ORDER BY v <-> '[0,0,0,0,0,0,0,0]' LIMIT 5) s) AS distances_computed;
-- a selective filter with its own index makes a plain scan cheaper
CREATE INDEX hv_category ON hv (category);
EXPLAIN (COSTS OFF) SELECT id FROM hv WHERE category = 7 ORDER BY v <-> '[0,0,0,0,0,0,0,0]' LIMIT 5;
DROP INDEX hv_category;

-- with a large ef_search the index returns exactly what a sequential scan does
CREATE FUNCTION hnsw_same(q text, op text, col text) RETURNS boolean LANGUAGE plpgsql AS $$
DECLARE exact int[]; approx int[];
BEGIN
    SET LOCAL enable_indexscan = off;
    EXECUTE format('SELECT array_agg(id) FROM (SELECT id FROM hv ORDER BY %I %s %L, id LIMIT 10) s', col, op, q) INTO exact;
    SET LOCAL enable_indexscan = on;
    SET LOCAL enable_seqscan = off;
    EXECUTE format('SELECT array_agg(id) FROM (SELECT id FROM hv ORDER BY %I %s %L LIMIT 10) s', col, op, q) INTO approx;
    RETURN (SELECT array_agg(x ORDER BY x) FROM unnest(exact) x) = (SELECT array_agg(x ORDER BY x) FROM unnest(approx) x);
END $$;
SET hnsw.ef_search = 400;
SELECT op, col, bool_and(hnsw_same(q, op, col)) AS same
  FROM (VALUES ('<->', 'v'), ('<#>', 'v'), ('<=>', 'v'), ('<+>', 'v'),
               ('<->', 'h'), ('<#>', 'h'), ('<=>', 'h'), ('<+>', 'h')) o(op, col),
       (SELECT v::text AS q FROM hv WHERE id IN (3, 500, 1999)) qs
 GROUP BY 1, 2 ORDER BY 2, 1;
-- bit distances tie often: compare distances, not ids
SET enable_seqscan = off;
SELECT array_agg(d) FROM (SELECT b <~> (SELECT b FROM hv WHERE id = 9) AS d FROM hv ORDER BY 1 LIMIT 10) s;
SELECT array_agg(d) FROM (SELECT b <%> (SELECT b FROM hv WHERE id = 9) AS d FROM hv ORDER BY 1 LIMIT 10) s;
RESET enable_seqscan;
SET enable_indexscan = off;
SELECT array_agg(d) FROM (SELECT b <~> (SELECT b FROM hv WHERE id = 9) AS d FROM hv ORDER BY 1 LIMIT 10) s;
SELECT array_agg(d) FROM (SELECT b <%> (SELECT b FROM hv WHERE id = 9) AS d FROM hv ORDER BY 1 LIMIT 10) s;
RESET enable_indexscan;
RESET hnsw.ef_search;

-- NULL vectors are not indexed; a NULL query returns rows in no particular order
SET enable_seqscan = off;
SELECT count(*) FROM (SELECT id FROM hv ORDER BY v <-> NULL LIMIT 10) s;
SELECT count(*) FROM (SELECT id FROM hv WHERE v IS NULL ORDER BY v <-> '[0,0,0,0,0,0,0,0]' LIMIT 10) s;

-- iterative scans: a filter that keeps 1% of the rows still yields LIMIT rows
SET hnsw.ef_search = 10;
SELECT count(*) FROM (SELECT id FROM hv WHERE category = 7 ORDER BY v <-> '[0,0,0,0,0,0,0,0]' LIMIT 10) s;
SET hnsw.iterative_scan = relaxed_order;
SELECT count(*) FROM (SELECT id FROM hv WHERE category = 7 ORDER BY v <-> '[0,0,0,0,0,0,0,0]' LIMIT 10) s;
SET hnsw.iterative_scan = strict_order;
SELECT count(*) >= 8 AS most FROM (SELECT id FROM hv WHERE category = 7 ORDER BY v <-> '[0,0,0,0,0,0,0,0]' LIMIT 10) s;
-- strict order: distances never decrease
SELECT bool_and(d >= prev) FROM (
    SELECT d, lag(d, 1, 0::float8) OVER (ORDER BY n) AS prev FROM (
        SELECT row_number() OVER () AS n, v <-> '[0,0,0,0,0,0,0,0]' AS d
          FROM (SELECT v FROM hv WHERE category < 50 ORDER BY v <-> '[0,0,0,0,0,0,0,0]' LIMIT 300) s) t) u;
-- hnsw.max_scan_tuples bounds the scan
SET hnsw.iterative_scan = relaxed_order;
SET hnsw.max_scan_tuples = 50;
SELECT count(*) < 10 AS bounded FROM (SELECT id FROM hv WHERE category = 7 ORDER BY v <-> '[0,0,0,0,0,0,0,0]' LIMIT 10) s;
RESET hnsw.max_scan_tuples;
RESET hnsw.iterative_scan;
RESET hnsw.ef_search;

-- inserts, deletes and VACUUM keep the graph sound
INSERT INTO hv SELECT i, i % 100, v, v::halfvec, NULL
  FROM (SELECT i, (SELECT array_agg(random() - 0.5) FROM generate_series(1, 8) WHERE i > 0)::vector AS v
          FROM generate_series(2002, 2500) i) s;
DELETE FROM hv WHERE id % 3 = 0;
VACUUM hv;
SELECT count(*) FROM vecdb.hnsw_verify('hv_v_l2');
SELECT count(*) FROM vecdb.hnsw_verify('hv_h_cos');
SELECT count(*) FROM (SELECT id FROM hv WHERE id % 3 = 0 ORDER BY v <-> '[0,0,0,0,0,0,0,0]' LIMIT 5) s;
SET hnsw.ef_search = 400;
SELECT bool_and(hnsw_same(v::text, '<->', 'v')) FROM hv WHERE id IN (1, 2, 2400);
RESET hnsw.ef_search;
RESET enable_seqscan;

-- options and bad input
CREATE INDEX ON hv USING hnsw (v vector_l2_ops) WITH (m = 1);
CREATE INDEX ON hv USING hnsw (v vector_l2_ops) WITH (m = 101);
CREATE INDEX ON hv USING hnsw (v vector_l2_ops) WITH (ef_construction = 3);
CREATE INDEX ON hv USING hnsw (v vector_l2_ops) WITH (ef_construction = 1001);
CREATE INDEX ON hv USING hnsw (v vector_l2_ops) WITH (m = 40, ef_construction = 64);
CREATE INDEX ON hv USING hnsw (v vector_l2_ops) WITH (lists = 4);
CREATE INDEX ON hv USING hnsw (v vector_l2_ops) WITH (m = 'many');
CREATE INDEX ON hv USING hnsw (v);
CREATE INDEX ON hv USING hnsw (v, h);
CREATE TABLE hv_nodim (v vector);
CREATE INDEX ON hv_nodim USING hnsw (v vector_l2_ops);
CREATE TABLE hv_wide (v vector(2100));
CREATE INDEX ON hv_wide USING hnsw (v vector_l2_ops);
SELECT id FROM hv ORDER BY v <-> '[1,2,3]' LIMIT 1;
SET enable_seqscan = off;
SELECT id FROM hv ORDER BY v <-> '[1,2,3]' LIMIT 1;
RESET enable_seqscan;
SET hnsw.ef_search = 0;
SET hnsw.ef_search = 1001;
SET hnsw.iterative_scan = sideways;
SET hnsw.max_scan_tuples = 0;
SET hnsw.scan_mem_multiplier = 0.5;
SET hnsw.no_such_setting = 1;
SELECT vecdb.hnsw_verify('hv');
SELECT vecdb.hnsw_verify('hv_pkey');

-- an unlogged table, and an empty one
CREATE UNLOGGED TABLE hv_unlogged (id int, v vector(3));
CREATE INDEX ON hv_unlogged USING hnsw (v vector_l2_ops);
INSERT INTO hv_unlogged VALUES (1, '[1,1,1]'), (2, '[2,2,2]'), (3, '[3,3,3]');
SET enable_seqscan = off;
SELECT id FROM hv_unlogged ORDER BY v <-> '[2.9,3,3]' LIMIT 2;
CREATE TABLE hv_empty (v vector(3));
CREATE INDEX hv_empty_idx ON hv_empty USING hnsw (v vector_l2_ops);
SELECT * FROM hv_empty ORDER BY v <-> '[1,2,3]' LIMIT 1;
SELECT count(*) FROM vecdb.hnsw_verify('hv_empty_idx');
-- duplicates share a node and are all found
INSERT INTO hv_empty SELECT '[1,2,3]' FROM generate_series(1, 30);
SET hnsw.iterative_scan = relaxed_order;
SELECT count(*) FROM (SELECT v FROM hv_empty ORDER BY v <-> '[1,2,3]' LIMIT 30) s;
RESET hnsw.iterative_scan;
RESET enable_seqscan;

DROP TABLE hv, hv_nodim, hv_wide, hv_unlogged, hv_empty;
DROP FUNCTION hnsw_same;
