-- Backups: backup_store, list_backups, restore_store, drop_backup and
-- store_checksum, every error path (unknown store or backup, bad names,
-- duplicate backup, restore onto an existing store, damaged backups), and
-- what each role may do.  Export and import are in backup_export.sql.
BEGIN;
SELECT plan(74);

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

-- the same, with the rights of role r
CREATE FUNCTION pg_temp.error_as(r text, statement text) RETURNS text
LANGUAGE plpgsql AS $$
DECLARE
	result text;
BEGIN
	PERFORM set_config('role', r, true);
	result := pg_temp.error_of(statement);
	RESET ROLE;
	RETURN result;
END
$$;

-- the checksum as docs/backup.md defines it, computed without vecdb's
-- aggregate: h0 = '', h_i = sha256(h_{i-1} || line_i), hex(sha256(h_n))
CREATE FUNCTION pg_temp.chain_checksum(store text) RETURNS text
LANGUAGE sql AS $$
	WITH RECURSIVE lines AS (
		SELECT row_number() OVER () AS i, line FROM vecdb.export_store(store) line),
	chain(i, h) AS (
		SELECT 0::bigint, ''::bytea
		UNION ALL
		SELECT c.i + 1, sha256(c.h || convert_to(l.line, 'UTF8')) FROM chain c JOIN lines l ON l.i = c.i + 1)
	SELECT encode(sha256(h), 'hex') FROM chain ORDER BY i DESC LIMIT 1
$$;

-- a store's indexes: 'name access-method opclass options'
CREATE FUNCTION pg_temp.indexes_of(store text) RETURNS text
LANGUAGE sql AS $$
	SELECT string_agg(c.relname || ' ' || am.amname || ' ' || opc.opcname || ' ' || coalesce(array_to_string(c.reloptions, ','), ''),
					  '; ' ORDER BY c.relname)
	  FROM pg_index i
	  JOIN pg_class c ON c.oid = i.indexrelid
	  JOIN pg_am am ON am.oid = c.relam
	  JOIN pg_opclass opc ON opc.oid = i.indclass[0]
	 WHERE i.indrelid = format('vecdb_data.%I', store)::regclass
$$;

-- what an injected "drop table y" would drop
CREATE TABLE public.y (x int);

SELECT name FROM vecdb.create_store('docs', 3, 'cosine');
SELECT count(vecdb.upsert('docs', id, v::vector, jsonb_build_object('n', n), 'text ' || n))
  FROM (VALUES ('a', '[1,0,0]', 1), ('b', '[0,1,0]', 2), ('B', '[0,0,1]', 3), ('c', '[1,1,0]', 4), ('é', '[1,1,1]', 5)) AS t(id, v, n);
SELECT name FROM vecdb.create_store('half', 2, 'euclidean', '{"storage": "halfvec", "m": 8}');
SELECT count(vecdb.upsert('half', 'h' || i, ARRAY[i, -i]::real[]::vector, '{}', NULL)) FROM generate_series(1, 20) i;
SELECT name FROM vecdb.create_store('nothing', 4, 'inner_product');
CREATE TEMP TABLE docs_before AS SELECT * FROM vecdb_data.docs;
CREATE TEMP TABLE docs_search_before AS SELECT id, distance FROM vecdb.search('docs', '[1,0.5,0]', 3);

-- backup_store
SELECT is(
	(SELECT to_jsonb(b) - 'created_at' - 'checksum' FROM vecdb.backup_store('docs', 'docs_monday') b),
	'{"name": "docs_monday", "store": "docs", "dims": 3, "metric": "cosine", "storage": "vector",
	  "index_options": {"m": 16, "ef_construction": 64}, "embedding_provider": null, "embedding_model": null,
	  "options": {}, "row_count": 5}'::jsonb,
	'backup_store returns the backup''s row: the store''s definition and its row count');
SELECT is((SELECT checksum FROM vecdb.backups WHERE name = 'docs_monday'), vecdb.store_checksum('docs'),
	'the backup records the checksum of the store');
SELECT is(vecdb.store_checksum('docs'), pg_temp.chain_checksum('docs'),
	'the checksum is the SHA-256 chain over the export lines that docs/backup.md defines');
SELECT matches(vecdb.store_checksum('docs'), '^[0-9a-f]{64}$', 'a checksum is 64 hex digits');
SELECT is((SELECT created_at FROM vecdb.backups WHERE name = 'docs_monday'), now(), 'created_at is the backing-up transaction''s time');
SELECT has_table('vecdb_backup', 'docs_monday', 'the snapshot is table vecdb_backup.docs_monday');
SELECT table_owner_is('vecdb_backup', 'docs_monday',
	(SELECT pg_get_userbyid(extowner) FROM pg_extension WHERE extname = 'vecdb'),
	'the snapshot belongs to the extension''s owner');
SELECT set_eq('SELECT * FROM vecdb_backup.docs_monday', 'SELECT * FROM docs_before',
	'the snapshot holds the store''s rows, timestamps included');
SELECT is((SELECT row_count FROM vecdb.backup_store('nothing', 'nothing_b')), 0::bigint, 'an empty store backs up');
SELECT is((SELECT checksum FROM vecdb.backups WHERE name = 'nothing_b'), encode(sha256(''), 'hex'),
	'the checksum of no rows is hex(sha256(''''))');
SELECT is((SELECT to_jsonb(b) - 'created_at' - 'checksum' FROM vecdb.backup_store('half', 'half_b') b),
	'{"name": "half_b", "store": "half", "dims": 2, "metric": "l2", "storage": "halfvec",
	  "index_options": {"m": 8, "ef_construction": 64}, "embedding_provider": null, "embedding_model": null,
	  "options": {"m": 8, "storage": "halfvec"}, "row_count": 20}'::jsonb,
	'a halfvec store with index options backs up with them');

-- the store moves on; the backup does not
SELECT vecdb.upsert('docs', 'a', '[0.5,0.5,0.5]', '{"changed": true}', NULL);
SELECT vecdb.delete('docs', 'b');
SELECT vecdb.upsert('docs', 'z', '[1,2,3]', '{}', NULL);
SELECT set_eq('SELECT * FROM vecdb_backup.docs_monday', 'SELECT * FROM docs_before',
	'writes to the store after its backup leave the backup as it was');
SELECT isnt(vecdb.store_checksum('docs'), (SELECT checksum FROM vecdb.backups WHERE name = 'docs_monday'),
	'the store''s checksum changes with its rows');

-- backup_store errors
SELECT is(pg_temp.error_of($$SELECT vecdb.backup_store('nope', 'nope_b')$$),
	'42704: store "nope" does not exist', 'backup_store of an unknown store is 42704');
SELECT is(pg_temp.error_of($$SELECT vecdb.backup_store('x; drop table y', 'b1')$$),
	'42602: invalid store name "x; drop table y": a name is 1 to 63 lower-case letters, digits and underscores, not starting with a digit (^[a-z_][a-z0-9_]{0,62}$)',
	'backup_store of a store named "x; drop table y" is 42602');
SELECT is(pg_temp.error_of($$SELECT vecdb.backup_store('docs', 'x; drop table y')$$),
	'42602: invalid backup name "x; drop table y": a name is 1 to 63 lower-case letters, digits and underscores, not starting with a digit (^[a-z_][a-z0-9_]{0,62}$)',
	'a backup named "x; drop table y" is 42602');
SELECT is(pg_temp.error_of($$SELECT vecdb.backup_store('docs', 'Monday')$$),
	'42602: invalid backup name "Monday": a name is 1 to 63 lower-case letters, digits and underscores, not starting with a digit (^[a-z_][a-z0-9_]{0,62}$)',
	'a backup name with a capital is 42602');
SELECT is(pg_temp.error_of($$SELECT vecdb.backup_store('docs', NULL)$$),
	'22004: backup name must not be null', 'a null backup name is 22004');
SELECT is(pg_temp.error_of($$SELECT vecdb.backup_store('docs', 'docs_monday')$$),
	'42710: backup "docs_monday" already exists', 'a backup name that is taken is 42710');
SELECT set_eq('SELECT * FROM vecdb_backup.docs_monday', 'SELECT * FROM docs_before',
	'the backup whose name was taken again is unchanged');
SELECT has_table('public', 'y', 'nothing was injected: table y is still there');
SELECT is((SELECT array_agg(name ORDER BY name) FROM vecdb.backups), ARRAY['docs_monday', 'half_b', 'nothing_b'],
	'the failed backups left no row in vecdb.backups');
SELECT is((SELECT array_agg(relname::text ORDER BY relname) FROM pg_class WHERE relnamespace = 'vecdb_backup'::regnamespace AND relkind = 'r'),
	ARRAY['docs_monday', 'half_b', 'nothing_b'], 'and no table in vecdb_backup');

-- list_backups
SELECT results_eq(
	$$SELECT name, store, dims, metric, storage, row_count, checksum = vecdb.store_checksum(store) OR store = 'docs', size_bytes > 0
		FROM vecdb.list_backups()$$,
	$$VALUES ('docs_monday', 'docs', 3, 'cosine', 'vector', 5::bigint, true, true),
			 ('half_b', 'half', 2, 'l2', 'halfvec', 20::bigint, true, true),
			 ('nothing_b', 'nothing', 4, 'inner_product', 'vector', 0::bigint, true, true)$$,
	'list_backups lists every backup by name with its store, definition, row count, checksum and size');
SELECT results_eq($$SELECT name FROM vecdb.list_backups('half')$$, $$VALUES ('half_b')$$,
	'list_backups(store) lists the backups of that store');
SELECT is_empty($$SELECT * FROM vecdb.list_backups('nope')$$, 'list_backups of a store without backups is empty');

-- restore_store
SELECT is(vecdb.restore_store('docs_monday', 'docs_copy'), 5::bigint, 'restore_store returns the number of vectors restored');
SELECT is((SELECT to_jsonb(s) - 'created_at' FROM vecdb.stores s WHERE name = 'docs_copy'),
	'{"name": "docs_copy", "dims": 3, "metric": "cosine", "storage": "vector",
	  "index_options": {"m": 16, "ef_construction": 64}, "embedding_provider": null, "embedding_model": null,
	  "options": {}}'::jsonb,
	'the restored store has the backed-up store''s definition');
SELECT set_eq('SELECT * FROM vecdb_data.docs_copy', 'SELECT * FROM docs_before',
	'the restored store has the rows of the backup, timestamps included');
SELECT is(vecdb.store_checksum('docs_copy'), (SELECT checksum FROM vecdb.backups WHERE name = 'docs_monday'),
	'the restored store''s checksum is the backup''s');
SELECT is(pg_temp.indexes_of('docs_copy'),
	'docs_copy_embedding_idx hnsw vector_cosine_ops m=16,ef_construction=64; docs_copy_metadata_idx gin jsonb_ops ; docs_copy_pkey btree text_ops ',
	'the restored store has the hnsw index of its metric, the GIN index and the primary key');
SELECT results_eq($$SELECT id, distance FROM vecdb.search('docs_copy', '[1,0.5,0]', 3)$$,
	$$SELECT id, distance FROM docs_search_before$$, 'the restored store answers a search as the store did when it was backed up');
SELECT is((SELECT relacl::text FROM pg_class WHERE oid = 'vecdb_data.docs_copy'::regclass),
	(SELECT relacl::text FROM pg_class WHERE oid = 'vecdb_data.docs'::regclass), 'the restored store has the grants of a store');
SELECT is(vecdb.restore_store('half_b', 'half_copy'), 20::bigint, 'a halfvec store restores');
SELECT is(pg_temp.indexes_of('half_copy'),
	'half_copy_embedding_idx hnsw halfvec_l2_ops m=8,ef_construction=64; half_copy_metadata_idx gin jsonb_ops ; half_copy_pkey btree text_ops ',
	'with the halfvec opclass of its metric and its index options');
SELECT is(vecdb.store_checksum('half_copy'), vecdb.store_checksum('half'), 'and the same rows');
SELECT is(vecdb.restore_store('nothing_b', 'nothing_copy'), 0::bigint, 'an empty backup restores to an empty store');

-- restore_store errors
SELECT is(pg_temp.error_of($$SELECT vecdb.restore_store('docs_monday', 'docs')$$),
	'42P07: store "docs" already exists', 'restoring onto an existing store is 42P07');
SELECT is(vecdb.count('docs'), 5::bigint, 'the existing store is untouched');
SELECT is(pg_temp.error_of($$SELECT vecdb.restore_store('nope', 'docs_new')$$),
	'42704: backup "nope" does not exist', 'restoring an unknown backup is 42704');
SELECT is(pg_temp.error_of($$SELECT vecdb.restore_store('x; drop table y', 'docs_new')$$),
	'42602: invalid backup name "x; drop table y": a name is 1 to 63 lower-case letters, digits and underscores, not starting with a digit (^[a-z_][a-z0-9_]{0,62}$)',
	'restoring a backup named "x; drop table y" is 42602');
SELECT is(pg_temp.error_of($$SELECT vecdb.restore_store('docs_monday', 'x; drop table y')$$),
	'42602: invalid store name "x; drop table y": a name is 1 to 63 lower-case letters, digits and underscores, not starting with a digit (^[a-z_][a-z0-9_]{0,62}$)',
	'restoring into a store named "x; drop table y" is 42602');
SELECT is(pg_temp.error_of($$SELECT vecdb.restore_store('docs_monday', NULL)$$),
	'22004: store name must not be null', 'restoring into a null store name is 22004');

-- damaged backups: the checksum fails the restore, and nothing stays
UPDATE vecdb_backup.docs_monday SET metadata = '{"n": 99}' WHERE id = 'c';
SELECT is(pg_temp.error_of($$SELECT vecdb.restore_store('docs_monday', 'docs_bad')$$),
	'XX001: backup "docs_monday" is damaged: its checksum does not match',
	'a backup whose metadata was changed fails its checksum: XX001');
SELECT ok(NOT EXISTS (SELECT FROM vecdb.stores WHERE name = 'docs_bad') AND to_regclass('vecdb_data.docs_bad') IS NULL,
	'the failed restore left no store row and no table');
UPDATE vecdb_backup.docs_monday SET metadata = '{"n": 4}' WHERE id = 'c';
UPDATE vecdb_backup.docs_monday SET embedding = '[1,1,0.001]' WHERE id = 'c';
SELECT is(pg_temp.error_of($$SELECT vecdb.restore_store('docs_monday', 'docs_bad')$$),
	'XX001: backup "docs_monday" is damaged: its checksum does not match', 'a changed vector fails the checksum');
UPDATE vecdb_backup.docs_monday SET embedding = '[1,1,0]' WHERE id = 'c';
DELETE FROM vecdb_backup.docs_monday WHERE id = 'B';
SELECT is(pg_temp.error_of($$SELECT vecdb.restore_store('docs_monday', 'docs_bad')$$),
	'XX001: backup "docs_monday" is damaged: its checksum does not match', 'a lost row fails the checksum');
INSERT INTO vecdb_backup.docs_monday SELECT * FROM docs_before WHERE id = 'B';
SELECT is(vecdb.restore_store('docs_monday', 'docs_repaired'), 5::bigint, 'the repaired backup restores again');
UPDATE vecdb.backups SET checksum = repeat('0', 64) WHERE name = 'half_b';
SELECT is(pg_temp.error_of($$SELECT vecdb.restore_store('half_b', 'half_bad')$$),
	'XX001: backup "half_b" is damaged: its checksum does not match', 'a changed recorded checksum fails too');
DROP TABLE vecdb_backup.nothing_b;
SELECT is(pg_temp.error_of($$SELECT vecdb.restore_store('nothing_b', 'nothing_bad')$$),
	'XX001: backup "nothing_b" is damaged: its table vecdb_backup.nothing_b is missing', 'a backup without its table is XX001');
SELECT ok(NOT EXISTS (SELECT FROM vecdb.stores WHERE name IN ('docs_bad', 'half_bad', 'nothing_bad')),
	'no failed restore left a store');

-- drop_backup
SELECT lives_ok($$SELECT vecdb.drop_backup('nothing_b')$$, 'drop_backup drops a backup whose table is missing');
SELECT lives_ok($$SELECT vecdb.drop_backup('half_b')$$, 'drop_backup drops a backup');
SELECT ok(to_regclass('vecdb_backup.half_b') IS NULL AND NOT EXISTS (SELECT FROM vecdb.backups WHERE name = 'half_b'),
	'its table and its row are gone');
SELECT is(vecdb.count('half_copy'), 20::bigint, 'a store restored from a dropped backup stays');
SELECT is(pg_temp.error_of($$SELECT vecdb.drop_backup('half_b')$$),
	'42704: backup "half_b" does not exist', 'dropping it again is 42704');
SELECT is(pg_temp.error_of($$SELECT vecdb.drop_backup('x; drop table y')$$),
	'42602: invalid backup name "x; drop table y": a name is 1 to 63 lower-case letters, digits and underscores, not starting with a digit (^[a-z_][a-z0-9_]{0,62}$)',
	'dropping a backup named "x; drop table y" is 42602');
SELECT is(pg_temp.error_of($$SELECT vecdb.store_checksum('nope')$$),
	'42704: store "nope" does not exist', 'store_checksum of an unknown store is 42704');
SELECT has_table('public', 'y', 'nothing was injected: table y is still there');

-- rights: a reader lists and reads, a writer cannot back up, drop or
-- restore, an admin can
SELECT is(pg_temp.error_as('vecdb_reader', $$SELECT count(*) FROM vecdb.list_backups()$$), 'no error', 'a reader lists backups');
SELECT is(pg_temp.error_as('vecdb_reader', $$SELECT vecdb.store_checksum('docs')$$), 'no error', 'a reader computes a checksum');
SELECT is(pg_temp.error_as('vecdb_reader', $$SELECT vecdb.backup_store('docs', 'by_reader')$$),
	'42501: permission denied for function backup_store', 'a reader cannot back up');
SELECT is(pg_temp.error_as('vecdb_reader', $$SELECT count(*) FROM vecdb_backup.docs_monday$$),
	'42501: permission denied for schema vecdb_backup', 'a reader cannot read a backup''s table');
SELECT is(pg_temp.error_as('vecdb_writer', $$SELECT vecdb.backup_store('docs', 'by_writer')$$),
	'42501: permission denied for function backup_store', 'a writer cannot back up');
SELECT is(pg_temp.error_as('vecdb_writer', $$SELECT vecdb.restore_store('docs_monday', 'by_writer')$$),
	'42501: permission denied for function restore_store', 'a writer cannot restore');
SELECT is(pg_temp.error_as('vecdb_writer', $$SELECT vecdb.drop_backup('docs_monday')$$),
	'42501: permission denied for function drop_backup', 'a writer cannot drop a backup');
SELECT is(pg_temp.error_as('vecdb_admin', $$SELECT vecdb.backup_store('docs', 'by_admin')$$), 'no error', 'an admin backs up');
SELECT is(pg_temp.error_as('vecdb_admin', $$SELECT vecdb.restore_store('by_admin', 'docs_by_admin')$$), 'no error', 'an admin restores');
SELECT is(pg_temp.error_as('vecdb_admin', $$SELECT vecdb.drop_backup('by_admin')$$), 'no error', 'an admin drops a backup');
SELECT is((SELECT pg_get_userbyid(relowner) FROM pg_class WHERE oid = 'vecdb_data.docs_by_admin'::regclass),
	(SELECT pg_get_userbyid(extowner) FROM pg_extension WHERE extname = 'vecdb'),
	'a store an admin restores belongs to the extension''s owner, as every store');
CREATE ROLE vecdb_test_nobody;
SELECT is(pg_temp.error_as('vecdb_test_nobody', $$SELECT count(*) FROM vecdb.list_backups()$$),
	'42501: permission denied for schema vecdb', 'a role with none of the vecdb roles cannot list backups');
SELECT is(pg_temp.error_as('vecdb_test_nobody', $$SELECT vecdb.store_checksum('docs')$$),
	'42501: permission denied for schema vecdb', 'nor compute a checksum');
-- with the schema open to it, the functions themselves are closed
GRANT USAGE ON SCHEMA vecdb TO vecdb_test_nobody;
SELECT is(pg_temp.error_as('vecdb_test_nobody', $$SELECT count(*) FROM vecdb.list_backups()$$),
	'42501: permission denied for function list_backups', 'list_backups is not for PUBLIC');
SELECT is(pg_temp.error_as('vecdb_test_nobody', $$SELECT vecdb.store_checksum('docs')$$),
	'42501: permission denied for function store_checksum', 'store_checksum is not for PUBLIC');

SELECT * FROM finish();
ROLLBACK;
