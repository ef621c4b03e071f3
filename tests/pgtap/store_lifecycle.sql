-- Stores: create_store (catalog row, table, hnsw index per metric and
-- storage, GIN index, grants, every bad argument), list_stores,
-- store_stats, drop_store and vecdb._create_store_table.
BEGIN;
SELECT plan(80);

-- the error a statement raises, as 'SQLSTATE: message', or 'no error'
CREATE FUNCTION pg_temp.error_of(statement text) RETURNS text
LANGUAGE plpgsql AS $$
DECLARE
	state text;
	message text;
BEGIN
	EXECUTE statement;
	RETURN 'no error';
EXCEPTION WHEN OTHERS THEN
	GET STACKED DIAGNOSTICS state = RETURNED_SQLSTATE, message = MESSAGE_TEXT;
	RETURN state || ': ' || message;
END
$$;

-- a store's hnsw index: 'name opclass options'
CREATE FUNCTION pg_temp.hnsw_of(store text) RETURNS text
LANGUAGE sql AS $$
	SELECT c.relname || ' ' || opc.opcname || ' ' || coalesce(array_to_string(c.reloptions, ','), '')
	  FROM pg_index i
	  JOIN pg_class c ON c.oid = i.indexrelid
	  JOIN pg_am am ON am.oid = c.relam AND am.amname = 'hnsw'
	  JOIN pg_opclass opc ON opc.oid = i.indclass[0]
	 WHERE i.indrelid = format('vecdb_data.%I', store)::regclass
$$;

-- create_store: the catalog row
SELECT is(
	(SELECT to_jsonb(s) - 'created_at' FROM vecdb.create_store('docs', 3) s),
	'{"name": "docs", "dims": 3, "metric": "cosine", "storage": "vector",
	  "index_options": {"m": 16, "ef_construction": 64}, "embedding_provider": null,
	  "embedding_model": null, "options": {}}'::jsonb,
	'create_store returns the new row: cosine, vector storage and the index defaults by default');
SELECT is((SELECT created_at FROM vecdb.stores WHERE name = 'docs'), now(), 'created_at is the creating transaction''s time');
SELECT is(
	(SELECT to_jsonb(s) - 'created_at'
	   FROM vecdb.create_store('notes', 8, 'euclidean',
							   '{"storage": "halfvec", "m": 8, "ef_construction": 40,
								 "embedding_provider": "builtin", "embedding_model": "lexical-v1"}') s),
	'{"name": "notes", "dims": 8, "metric": "l2", "storage": "halfvec",
	  "index_options": {"m": 8, "ef_construction": 40}, "embedding_provider": "builtin",
	  "embedding_model": "lexical-v1",
	  "options": {"storage": "halfvec", "m": 8, "ef_construction": 40,
				  "embedding_provider": "builtin", "embedding_model": "lexical-v1"}}'::jsonb,
	'create_store records storage, index options, the embedding provider and model, and the options as given');
SELECT is((SELECT metric FROM vecdb.create_store('s_l2', 2, 'l2')), 'l2', 'metric l2');
SELECT is((SELECT metric FROM vecdb.create_store('s_ip', 2, 'inner_product')), 'inner_product', 'metric inner_product');
SELECT is((SELECT metric FROM vecdb.create_store('s_manhattan', 2, 'manhattan')), 'l1', 'metric manhattan is stored as l1');
SELECT is((SELECT metric FROM vecdb.create_store('s_l1', 2, 'l1')), 'l1', 'metric l1');
SELECT is((SELECT metric FROM vecdb.create_store('h_cos', 2, 'cosine', '{"storage": "halfvec"}')), 'cosine', 'halfvec cosine');
SELECT is((SELECT metric FROM vecdb.create_store('h_ip', 2, 'inner_product', '{"storage": "halfvec"}')), 'inner_product', 'halfvec inner_product');
SELECT is((SELECT metric FROM vecdb.create_store('h_l1', 2, 'l1', '{"storage": "vector"}')), 'l1', 'storage vector given explicitly');
SELECT is((SELECT options FROM vecdb.create_store('nulls', 2, 'l2', NULL)), '{}'::jsonb, 'options null means none');

-- the table
SELECT has_table('vecdb_data', 'docs', 'the store has table vecdb_data.docs');
SELECT columns_are('vecdb_data', 'docs', ARRAY['id', 'embedding', 'metadata', 'content', 'created_at', 'updated_at'],
	'the store table has id, embedding, metadata, content, created_at, updated_at');
SELECT col_is_pk('vecdb_data', 'docs', 'id', 'id is the primary key');
SELECT col_type_is('vecdb_data', 'docs', 'id', 'text', 'id is text');
SELECT col_type_is('vecdb_data', 'docs', 'embedding', 'public', 'vector(3)', 'embedding is vector(3)');
SELECT col_type_is('vecdb_data', 'notes', 'embedding', 'public', 'halfvec(8)', 'a halfvec store''s embedding is halfvec(8)');
SELECT col_not_null('vecdb_data', 'docs', 'embedding', 'embedding is NOT NULL');
SELECT col_type_is('vecdb_data', 'docs', 'metadata', 'jsonb', 'metadata is jsonb');
SELECT col_not_null('vecdb_data', 'docs', 'metadata', 'metadata is NOT NULL');
SELECT col_default_is('vecdb_data', 'docs', 'metadata', '{}'::jsonb, 'metadata defaults to {}');
SELECT col_type_is('vecdb_data', 'docs', 'content', 'text', 'content is text');
SELECT col_is_null('vecdb_data', 'docs', 'content', 'content may be null');
SELECT col_type_is('vecdb_data', 'docs', 'created_at', 'timestamp with time zone', 'created_at is timestamptz');
SELECT col_default_is('vecdb_data', 'docs', 'created_at', 'now()', 'created_at defaults to now()');
SELECT col_type_is('vecdb_data', 'docs', 'updated_at', 'timestamp with time zone', 'updated_at is timestamptz');
SELECT col_default_is('vecdb_data', 'docs', 'updated_at', 'now()', 'updated_at defaults to now()');
SELECT table_owner_is('vecdb_data', 'docs',
	(SELECT pg_get_userbyid(extowner) FROM pg_extension WHERE extname = 'vecdb'),
	'the store table belongs to the extension''s owner');

-- the indexes: one hnsw index with the metric's operator class, one GIN
SELECT is(pg_temp.hnsw_of('docs'), 'docs_embedding_idx vector_cosine_ops m=16,ef_construction=64', 'cosine: vector_cosine_ops, default options');
SELECT is(pg_temp.hnsw_of('notes'), 'notes_embedding_idx halfvec_l2_ops m=8,ef_construction=40', 'halfvec euclidean: halfvec_l2_ops with the given options');
SELECT is(pg_temp.hnsw_of('s_l2'), 's_l2_embedding_idx vector_l2_ops m=16,ef_construction=64', 'l2: vector_l2_ops');
SELECT is(pg_temp.hnsw_of('s_ip'), 's_ip_embedding_idx vector_ip_ops m=16,ef_construction=64', 'inner_product: vector_ip_ops');
SELECT is(pg_temp.hnsw_of('s_manhattan'), 's_manhattan_embedding_idx vector_l1_ops m=16,ef_construction=64', 'manhattan: vector_l1_ops');
SELECT is(pg_temp.hnsw_of('h_cos'), 'h_cos_embedding_idx halfvec_cosine_ops m=16,ef_construction=64', 'halfvec cosine: halfvec_cosine_ops');
SELECT is(pg_temp.hnsw_of('h_ip'), 'h_ip_embedding_idx halfvec_ip_ops m=16,ef_construction=64', 'halfvec inner_product: halfvec_ip_ops');
SELECT is(pg_temp.hnsw_of('h_l1'), 'h_l1_embedding_idx vector_l1_ops m=16,ef_construction=64', 'vector l1: vector_l1_ops');
SELECT index_is_type('vecdb_data', 'docs', 'docs_metadata_idx', 'gin', 'docs_metadata_idx is a GIN index');
SELECT has_index('vecdb_data', 'docs', 'docs_metadata_idx', 'metadata', 'the GIN index is on metadata');
SELECT indexes_are('vecdb_data', 'docs', ARRAY['docs_pkey', 'docs_embedding_idx', 'docs_metadata_idx'],
	'the store table has exactly its primary key, hnsw and GIN indexes');

-- grants: reader reads, writer writes
SELECT table_privs_are('vecdb_data', 'docs', 'vecdb_reader', ARRAY['SELECT'], 'vecdb_reader may SELECT from a store table');
SELECT table_privs_are('vecdb_data', 'docs', 'vecdb_writer', ARRAY['SELECT', 'INSERT', 'UPDATE', 'DELETE'],
	'vecdb_writer may also INSERT, UPDATE and DELETE (SELECT through vecdb_reader)');
SELECT table_privs_are('vecdb_data', 'docs', 'public', ARRAY[]::text[], 'PUBLIC has no right on a store table');

-- create_store: bad arguments change nothing
SELECT is(pg_temp.error_of($$SELECT vecdb.create_store('docs', 5, 'l2')$$),
	'42710: store "docs" already exists', 'a duplicate store is 42710');
SELECT is((SELECT dims || ' ' || metric FROM vecdb.stores WHERE name = 'docs'), '3 cosine', 'the existing store is unchanged');
SELECT is(pg_temp.error_of($$SELECT vecdb.create_store('d0', 0)$$),
	'22023: dims must be between 1 and 16000, got 0', 'dims 0 is 22023');
SELECT throws_ok($$SELECT vecdb.create_store('d0', -3)$$, '22023', NULL, 'negative dims are 22023');
SELECT throws_ok($$SELECT vecdb.create_store('d0', 16001)$$, '22023', NULL, 'dims over 16000 are 22023');
SELECT is(pg_temp.error_of($$SELECT vecdb.create_store('d0', NULL)$$),
	'22023: dims must be between 1 and 16000, got null', 'null dims are 22023');
SELECT is(pg_temp.error_of($$SELECT vecdb.create_store('d0', 3, 'hamming')$$),
	'22023: unknown metric "hamming"', 'an unknown metric is 22023');
SELECT throws_ok($$SELECT vecdb.create_store('d0', 3, 'Cosine')$$, '22023', NULL, 'metrics are lower case');
SELECT throws_ok($$SELECT vecdb.create_store('d0', 3, NULL)$$, '22023', NULL, 'a null metric is 22023');
SELECT is(pg_temp.error_of($$SELECT vecdb.create_store('d0', 3, 'l2', '[]')$$),
	'22023: options must be a JSON object, got array', 'options that are not an object are 22023');
SELECT is(pg_temp.error_of($$SELECT vecdb.create_store('d0', 3, 'l2', '{"compression": "pq"}')$$),
	'22023: unknown option "compression"', 'an unknown option is 22023');
SELECT is(pg_temp.error_of($$SELECT vecdb.create_store('d0', 3, 'l2', '{"storage": "bit"}')$$),
	'22023: option storage must be "vector" or "halfvec", got "bit"', 'an unknown storage is 22023');
SELECT is(pg_temp.error_of($$SELECT vecdb.create_store('d0', 3, 'l2', '{"m": 16.5}')$$),
	'22023: option m must be an integer, got 16.5', 'a fractional m is 22023');
SELECT is(pg_temp.error_of($$SELECT vecdb.create_store('d0', 3, 'l2', '{"ef_construction": "64); DROP TABLE y; --"}')$$),
	'22023: option ef_construction must be an integer, got "64); DROP TABLE y; --"', 'a string for ef_construction is 22023');
SELECT is(pg_temp.error_of($$SELECT vecdb.create_store('d0', 3, 'l2', '{"m": 1}')$$),
	'22023: value 1 out of bounds for option "m"', 'm out of the index''s range is the index''s 22023');
SELECT is(pg_temp.error_of($$SELECT vecdb.create_store('d0', 3, 'l2', '{"m": 16, "ef_construction": 20}')$$),
	'22023: ef_construction must be greater than or equal to 2 * m', 'ef_construction below 2m is 22023');
SELECT is(pg_temp.error_of($$SELECT vecdb.create_store('d0', 3, 'l2', '{"embedding_model": 7}')$$),
	'22023: option embedding_model must be a string, got 7', 'a non-string embedding model is 22023');
SELECT is(pg_temp.error_of($$SELECT vecdb.create_store('d0', 2001, 'l2')$$),
	'54000: column cannot have more than 2000 dimensions for an hnsw index with m = 16',
	'more dimensions than an hnsw index of vector takes is 54000');
SELECT lives_ok($$SELECT vecdb.create_store('wide', 2001, 'l2', '{"storage": "halfvec"}')$$,
	'halfvec takes 2001 dimensions');
SELECT is(pg_temp.error_of($$SELECT vecdb.create_store('docs_pkey', 3)$$),
	'42P07: cannot create store "docs_pkey": the name is taken by index docs_pkey of store "docs"',
	'a name taken by another store''s index is 42P07, naming it');
SELECT is((SELECT count(*) FROM vecdb.stores WHERE name IN ('d0', 'docs_pkey')), 0::bigint,
	'failed create_store calls left no catalog row');
SELECT is((SELECT count(*) FROM pg_class WHERE relnamespace = 'vecdb_data'::regnamespace AND relname = 'd0'), 0::bigint,
	'failed create_store calls left no table');

-- list_stores
SELECT results_eq(
	$$SELECT name, dims, metric, storage FROM vecdb.list_stores()$$,
	$$VALUES ('docs', 3, 'cosine', 'vector'), ('h_cos', 2, 'cosine', 'halfvec'), ('h_ip', 2, 'inner_product', 'halfvec'),
			 ('h_l1', 2, 'l1', 'vector'), ('notes', 8, 'l2', 'halfvec'), ('nulls', 2, 'l2', 'vector'),
			 ('s_ip', 2, 'inner_product', 'vector'), ('s_l1', 2, 'l1', 'vector'), ('s_l2', 2, 'l2', 'vector'),
			 ('s_manhattan', 2, 'l1', 'vector'), ('wide', 2001, 'l2', 'halfvec')$$,
	'list_stores lists every store by name');

-- store_stats
SELECT is(
	(SELECT to_jsonb(st) - ARRAY['table_bytes', 'index_bytes', 'total_bytes', 'created_at'] FROM vecdb.store_stats('docs') st),
	'{"store": "docs", "count": 0, "dims": 3, "metric": "cosine", "storage": "vector", "compression": "none",
	  "index_options": {"m": 16, "ef_construction": 64}, "embedding_provider": null, "embedding_model": null,
	  "last_write": null}'::jsonb,
	'store_stats of an empty store: count 0, no last write');
INSERT INTO vecdb_data.docs (id, embedding, updated_at) VALUES ('a', '[1,2,3]', '2020-01-01'), ('b', '[3,2,1]', '2021-06-01');
SELECT is(
	(SELECT (st.count, st.last_write, st.compression) FROM vecdb.store_stats('docs') st),
	(2::bigint, '2021-06-01'::timestamptz, 'none'::text),
	'store_stats counts the rows; last_write is the latest updated_at');
SELECT ok(
	(SELECT st.table_bytes > 0 AND st.index_bytes > 0 AND st.total_bytes = st.table_bytes + st.index_bytes
			AND st.index_bytes = pg_indexes_size('vecdb_data.docs')
	   FROM vecdb.store_stats('docs') st),
	'store_stats sizes: table and indexes, and their sum');
SELECT is((SELECT compression FROM vecdb.store_stats('notes')), 'float16', 'a halfvec store reports float16 compression');
SELECT is(pg_temp.error_of($$SELECT * FROM vecdb.store_stats('missing')$$),
	'42704: store "missing" does not exist', 'store_stats of an unknown store is 42704');

-- drop_store
SELECT lives_ok($$SELECT vecdb.drop_store('s_l1')$$, 'drop_store');
SELECT hasnt_table('vecdb_data', 's_l1', 'drop_store drops the table');
SELECT is((SELECT count(*) FROM vecdb.stores WHERE name = 's_l1'), 0::bigint, 'drop_store removes the catalog row');
SELECT is(pg_temp.error_of($$SELECT vecdb.drop_store('s_l1')$$),
	'42704: store "s_l1" does not exist', 'dropping it again is 42704');
CREATE VIEW public.docs_view AS SELECT id FROM vecdb_data.docs;
SELECT throws_ok($$SELECT vecdb.drop_store('docs')$$, '2BP01', NULL,
	'a view on a store keeps drop_store from dropping it (no CASCADE)');
SELECT ok(
	(SELECT count(*) = 1 FROM vecdb.stores WHERE name = 'docs') AND to_regclass('vecdb_data.docs') IS NOT NULL,
	'the store is intact after the refused drop');
SELECT lives_ok($$SELECT vecdb.create_store('docs_pkey2', 3)$$, 'a store named like another store''s index but free is fine');

-- _create_store_table rebuilds a store from its catalog row
DROP TABLE vecdb_data.notes;
SELECT lives_ok($$SELECT vecdb._create_store_table('notes')$$, '_create_store_table recreates a dropped table');
SELECT is(pg_temp.hnsw_of('notes'), 'notes_embedding_idx halfvec_l2_ops m=8,ef_construction=40',
	'with the index of the catalog row');
SELECT is(pg_temp.error_of($$SELECT vecdb._create_store_table('notes')$$),
	'42P07: cannot create store "notes": the name is taken by table vecdb_data.notes',
	'_create_store_table refuses to replace an existing table');

SELECT * FROM finish();
ROLLBACK;
