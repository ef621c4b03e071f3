-- avg and sum over vectors and halfvecs, serial and parallel

SELECT avg(v), sum(v) FROM (VALUES ('[1,2,3]'::vector), ('[3,4,5]'), (NULL)) t(v);
SELECT avg(h), sum(h) FROM (VALUES ('[1,2,3]'::halfvec), ('[3,4,5]'), (NULL)) t(h);
SELECT avg(v) IS NULL AS avg_empty, sum(v) IS NULL AS sum_empty FROM (SELECT '[1]'::vector WHERE false) t(v);
SELECT avg(v) FROM (VALUES ('[1,2]'::vector), ('[1,2,3]')) t(v);
SELECT sum(v) FROM (VALUES ('[1,2]'::vector), ('[1,2,3]')) t(v);
SELECT avg(h) FROM (VALUES ('[1,2]'::halfvec), ('[1]')) t(h);
SELECT sum(v) FROM (VALUES ('[3e38]'::vector), ('[3e38]')) t(v);
-- averaging keeps precision: sums are kept in double
SELECT avg(v) FROM (SELECT '[1e8,1]'::vector FROM generate_series(1, 3) UNION ALL SELECT '[1,1]') t(v);
SELECT sum(h) FROM (SELECT '[1]'::halfvec FROM generate_series(1, 5000)) t(h);  -- exact beyond 2048
SELECT sum(h) FROM (SELECT '[60000]'::halfvec FROM generate_series(1, 2)) t(h);
SELECT vector_sum('{2,1,2}'), halfvec_sum('{0}') IS NULL AS no_rows;

-- the aggregate state functions reject foreign states instead of crashing
SELECT vector_accum('{}', '[1]');
SELECT vector_accum('{1,2,3}', '[1]');
SELECT vector_combine('{{1}}', '{0}');
SELECT vector_avg('{0}') IS NULL AS no_rows;
SELECT vector_sum(array_fill(1::float8, ARRAY[65536])) || '[1,2]'::vector;  -- would wrap int16 dims
SELECT halfvec_sum(array_fill(1::float8, ARRAY[20001]));
SELECT vector_avg('{5}');        -- a count but no elements
SELECT vector_avg('{NaN,1,2}');
SELECT vector_avg('{-1,1,2}');
SELECT vector_avg('{1.5,1,2}');
SELECT vector_sum('{1,NaN,2}');
SELECT halfvec_avg('{1,NaN,2}');
SELECT vector_combine('{1,1}', '{Infinity,1}');

-- parallel aggregation must give the serial result
CREATE TABLE agg AS
  SELECT ARRAY[i % 7, i % 11, -(i % 13)]::vector AS v, ARRAY[i % 5, 1, 2]::halfvec AS h
  FROM generate_series(1, 20000) i;
SELECT avg(v) AS serial_avg, sum(v) AS serial_sum, avg(h) AS serial_avg_h, sum(h) AS serial_sum_h FROM agg;
SET parallel_setup_cost = 0;
SET parallel_tuple_cost = 0;
SET min_parallel_table_scan_size = 0;
SET max_parallel_workers_per_gather = 2;
EXPLAIN (COSTS OFF) SELECT avg(v), sum(v) FROM agg;
SELECT avg(v) AS parallel_avg, sum(v) AS parallel_sum, avg(h) AS parallel_avg_h, sum(h) AS parallel_sum_h FROM agg;
RESET parallel_setup_cost;
RESET parallel_tuple_cost;
RESET min_parallel_table_scan_size;
RESET max_parallel_workers_per_gather;
DROP TABLE agg;
