-- docs/hnsw.md, every example as written
SET jit = off;

CREATE TABLE images (id bigint PRIMARY KEY, category int, embedding vector(4));
INSERT INTO images
SELECT i, i % 10, ARRAY[sin(i), cos(i), sin(2 * i), cos(3 * i)]::vector
  FROM generate_series(1, 1000) i;
CREATE INDEX images_embedding_idx ON images USING hnsw (embedding vector_l2_ops)
  WITH (m = 16, ef_construction = 64);

SET enable_seqscan = off;
SELECT id FROM images ORDER BY embedding <-> '[0.5,0.5,0.5,0.5]' LIMIT 5;

BEGIN;
SET LOCAL hnsw.ef_search = 100;
SELECT id FROM images ORDER BY embedding <-> '[0.5,0.5,0.5,0.5]' LIMIT 5;
COMMIT;

SET hnsw.ef_search = 10;
SET hnsw.iterative_scan = relaxed_order;
SELECT id FROM images WHERE category = 3
 ORDER BY embedding <-> '[0.5,0.5,0.5,0.5]' LIMIT 5;
RESET hnsw.iterative_scan;
RESET hnsw.ef_search;
RESET enable_seqscan;

SET maintenance_work_mem = '256MB';
REINDEX INDEX images_embedding_idx;
RESET maintenance_work_mem;

SET max_parallel_maintenance_workers = 2;
SET maintenance_work_mem = '256MB';
REINDEX INDEX images_embedding_idx;
RESET max_parallel_maintenance_workers;
RESET maintenance_work_mem;

SELECT count(*) AS problems FROM vecdb.hnsw_verify('images_embedding_idx');

-- the same answers as an exact scan
SET enable_indexscan = off;
SELECT id FROM images ORDER BY embedding <-> '[0.5,0.5,0.5,0.5]' LIMIT 5;
SELECT id FROM images WHERE category = 3
 ORDER BY embedding <-> '[0.5,0.5,0.5,0.5]' LIMIT 5;
RESET enable_indexscan;

DROP TABLE images;
