-- docs/store.md, every example as written

SELECT name, dims, metric, storage, index_options FROM vecdb.create_store('docs', 3);
SELECT name, dims, metric, storage, index_options
  FROM vecdb.create_store('images', 4, 'euclidean', '{"storage": "halfvec", "m": 24}');

SELECT vecdb.upsert('docs', 'intro', '[0.9,0.1,0]', '{"lang": "en", "year": 2023, "tags": ["guide"]}',
                    'Getting started');
SELECT vecdb.upsert('docs', 'intro', '[0.9,0.1,0.05]', '{"lang": "en", "year": 2023, "tags": ["guide"]}',
                    'Getting started with vecdb');

SELECT * FROM vecdb.upsert_many('docs', '[
  {"id": "setup",  "vector": [0.8, 0.3, 0.1], "metadata": {"lang": "en", "year": 2024, "tags": ["guide", "ops"]},
   "content": "Installing vecdb"},
  {"id": "tuning", "vector": [0.1, 0.9, 0.2], "metadata": {"lang": "en", "year": 2025}, "content": "Tuning the index"},
  {"id": "start",  "vector": [0.85, 0.15, 0.05], "metadata": {"lang": "de", "year": 2024}, "content": "Erste Schritte"},
  {"id": "intro",  "vector": [0.9, 0.1, 0.05], "metadata": {"lang": "en", "year": 2023, "tags": ["guide"]},
   "content": "Getting started with vecdb"}
]');

SELECT id, embedding, metadata, content FROM vecdb.get('docs', 'setup');
SELECT vecdb.count('docs');
SELECT vecdb.delete('docs', 'tuning');
SELECT vecdb.delete_many('docs', ARRAY['start', 'no-such-id']);

SELECT * FROM vecdb.upsert_many('docs', '[
  {"id": "tuning", "vector": [0.1, 0.9, 0.2], "metadata": {"lang": "en", "year": 2025}, "content": "Tuning the index"},
  {"id": "start",  "vector": [0.85, 0.15, 0.05], "metadata": {"lang": "de", "year": 2024}, "content": "Erste Schritte"}
]');
SELECT id, distance, score FROM vecdb.search('docs', '[1,0,0]', 3);

SELECT * FROM vecdb.explain_search('docs', '[1,0,0]', 3) AS plan WHERE plan LIKE '%Index Scan%';

SELECT id, score FROM vecdb.search('docs', '[1,0,0]', 3, '{"lang": "en", "year": {"$gte": 2024}}');
SELECT id FROM vecdb.search('docs', '[1,0,0]', 10, '{"tags": ["guide"]}');
SELECT id FROM vecdb.search('docs', '[1,0,0]', 10, '{"$or": [{"lang": "de"}, {"year": {"$lt": 2024}}]}');
SELECT id FROM vecdb.search('docs', '[1,0,0]', 10, '{"$not": {"tags": {"$exists": true}}}');
SELECT id FROM vecdb.search('docs', '[1,0,0]', 10, '{"lang": {"$in": ["de", "fr"]}}');

SELECT id FROM vecdb.search('docs', '[1,0,0]', 10, '{"year": {"$gt": "2024"}}');
SELECT id FROM vecdb.search('docs', '[1,0,0]', 10, '{"$or": [{"lang": "en"}, {"lang": {"$regex": "^d"}}]}');

SELECT name, dims, metric, storage FROM vecdb.list_stores();
SELECT store, count, dims, metric, storage, compression FROM vecdb.store_stats('docs');

SELECT vecdb.sync('docs') <= pg_current_wal_flush_lsn() AS on_disk;

CREATE ROLE app_search LOGIN IN ROLE vecdb_reader;
CREATE ROLE app_ingest LOGIN IN ROLE vecdb_writer;

-- (roles are cluster-wide: not left behind by the test)
DROP ROLE app_search, app_ingest;

SELECT vecdb.create_store('My Docs', 3);

SELECT vecdb.upsert('docs', 'short', '[1,0]');
SELECT * FROM vecdb.upsert_many('docs', '[{"id": "ok", "vector": [1, 0, 0]}, {"id": "bad", "vector": [1, 0, "x"]}]');
SELECT * FROM vecdb.search('nowhere', '[1,0,0]');

SELECT id, metadata ->> 'lang' AS lang, embedding <=> '[1,0,0]' AS distance
  FROM vecdb_data.docs ORDER BY embedding <=> '[1,0,0]' LIMIT 2;
SELECT vecdb.drop_store('images');
