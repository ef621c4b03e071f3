-- Every example of docs/backup.md, in order (tests/lib/docs_examples.pl checks
-- that each appears here verbatim).

-- errors without the PL/pgSQL line they were raised on
\set SHOW_CONTEXT never

SELECT name FROM vecdb.create_store('articles', 3, 'cosine');
SELECT vecdb.upsert('articles', 'a1', '[1,0,0]', '{"lang": "en"}', 'The cat sat on the mat.');
SELECT vecdb.upsert('articles', 'a2', '[0,1,0]', '{"lang": "de"}', 'Die Katze saß auf der Matte.');

SELECT name, store, dims, metric, row_count, checksum
  FROM vecdb.backup_store('articles', 'articles_monday');

SELECT name, store, row_count, size_bytes > 0 AS has_data FROM vecdb.list_backups('articles');

SELECT vecdb.upsert('articles', 'a1', '[0.9,0.1,0]', '{"lang": "en"}', 'An edit to undo.');
SELECT vecdb.restore_store('articles_monday', 'articles_restored');
SELECT id, content FROM vecdb.get('articles_restored', 'a1');

SELECT vecdb.store_checksum('articles_restored') = checksum AS restored_is_backup,
       vecdb.store_checksum('articles') = checksum AS articles_unchanged
  FROM vecdb.backups WHERE name = 'articles_monday';

SELECT vecdb.drop_backup('articles_monday');

SELECT * FROM vecdb.export_store('articles');

SELECT name FROM vecdb.create_store('articles_copy', 3, 'cosine');
SELECT vecdb.import_store('articles_copy', string_agg(line, E'\n'))
  FROM vecdb.export_store('articles') line;
SELECT vecdb.import_store('articles_copy', '{"id": "a3", "vector": [0, 0, 1]}');

SELECT vecdb.import_store('articles_copy', E'{"id": "a4", "vector": [1, 1, 0]}\n{"id": "a5", "vector": [1, 1]}');
SELECT vecdb.count('articles_copy');

CREATE TEMP TABLE staging (n bigint GENERATED ALWAYS AS IDENTITY, line text);
COPY staging (line) FROM STDIN WITH (FORMAT csv, QUOTE e'\x01', DELIMITER e'\x02');
{"id": "b1", "vector": [0.5, 0.5, 0], "metadata": {"lang": "fr"}, "content": "Le chat \"Tom\"\nsur le tapis."}
{"id": "b2", "vector": [0, 0.5, 0.5]}
\.
SELECT vecdb.import_store('articles_copy', string_agg(coalesce(line, ''), E'\n' ORDER BY n)) FROM staging;
SELECT content FROM vecdb.get('articles_copy', 'b1');

ALTER EXTENSION vecdb UPDATE;
SELECT extversion FROM pg_extension WHERE extname = 'vecdb';

-- clean up: other tests share this database
SELECT vecdb.drop_store(name) FROM vecdb.list_stores() WHERE name LIKE 'articles%';
