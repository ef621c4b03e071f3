-- The README's five-minute tour, run as written

CREATE EXTENSION IF NOT EXISTS vecdb;

CREATE TABLE items (id bigserial PRIMARY KEY, embedding vector(3));
INSERT INTO items (embedding) VALUES ('[1,2,3]'), ('[4,5,6]'), ('[1,1,1]');

-- nearest neighbours by L2 distance; <=> is cosine, <#> negative inner product, <+> L1
SELECT id, embedding, embedding <-> '[3,1,2]' AS distance
FROM items ORDER BY embedding <-> '[3,1,2]' LIMIT 2;

-- vectors are values: arithmetic, aggregates, casts
SELECT avg(embedding), sum(embedding) FROM items;
SELECT embedding + '[1,1,1]' AS shifted, l2_normalize(embedding) FROM items WHERE id = 1;
SELECT ARRAY[1,2,3]::vector, '[1,2,3]'::vector::real[], '[0.1,0.2,0.3]'::vector::halfvec;

-- half-precision storage and binary codes
CREATE TABLE docs (id int PRIMARY KEY, embedding halfvec(3));
INSERT INTO docs VALUES (1, '[0.5,-1.5,2]'), (2, '[-1,-2,3]'), (3, '[1,1,-1]');
SELECT id, binary_quantize(embedding) AS code,
       binary_quantize(embedding) <~> binary_quantize('[1,-1,1]'::vector) AS hamming
FROM docs ORDER BY id;

-- bad input is an error with a SQLSTATE, never a silent change
INSERT INTO items (embedding) VALUES ('[1,2]');
SELECT '[1,NaN,3]'::vector;

-- an approximate nearest-neighbour index, as with pgvector (docs/hnsw.md)
CREATE INDEX ON items USING hnsw (embedding vector_l2_ops) WITH (m = 16, ef_construction = 64);
SET enable_seqscan = off;  -- three rows: only to show the index at work
SELECT id FROM items ORDER BY embedding <-> '[3,1,2]' LIMIT 2;

-- a store: vectors with metadata, searched with a filter (docs/store.md)
SELECT name, dims, metric FROM vecdb.create_store('notes', 3);
SELECT * FROM vecdb.upsert_many('notes', '[
  {"id": "a", "vector": [1, 2, 3], "metadata": {"topic": "db"}, "content": "indexes"},
  {"id": "b", "vector": [4, 5, 6], "metadata": {"topic": "ai"}},
  {"id": "c", "vector": [1, 1, 1], "metadata": {"topic": "db"}, "content": "vacuum"}]');
SELECT id, score, content FROM vecdb.search('notes', '[3,1,2]', 2, '{"topic": "db"}');
