-- docs/sql.md, every example as written

CREATE TABLE items (id bigint PRIMARY KEY, embedding vector(3), summary halfvec(3));
INSERT INTO items VALUES (1, ' [ 1, 2.5, -3e2 ] ', '[1,2,3]'), (2, '[4,5,6]', '[0.1,0.2,0.3]');
SELECT * FROM items ORDER BY id;

SELECT id, embedding <-> '[3,1,2]' AS l2, embedding <=> '[3,1,2]' AS cosine,
       embedding <#> '[3,1,2]' AS neg_inner, embedding <+> '[3,1,2]' AS l1
FROM items ORDER BY embedding <-> '[3,1,2]' LIMIT 5;

SELECT vector_dims(embedding), vector_norm(embedding), l2_normalize(embedding),
       subvector(embedding, 2, 2), binary_quantize(embedding)
FROM items WHERE id = 1;
SELECT avg(embedding), sum(embedding), avg(summary) FROM items;
SELECT embedding * '[2,2,2]' AS doubled, embedding || '[7]'::vector AS four_dims FROM items WHERE id = 2;

SELECT ARRAY[1,2,3]::vector, ARRAY[0.5,0.25]::float8[]::halfvec, '[1,2]'::vector::real[];
UPDATE items SET summary = embedding WHERE id = 2;
SELECT '[70000]'::vector::halfvec;

SELECT '[1,2'::vector;
SELECT '[1,NaN]'::vector;
INSERT INTO items VALUES (3, '[1,2]', NULL);
SELECT count(*) FROM items;

ALTER TABLE items ALTER COLUMN embedding SET STORAGE PLAIN;

SET vecdb.kernel = 'scalar';
SELECT vecdb.active_kernel();
RESET vecdb.kernel;

DROP TABLE items;
