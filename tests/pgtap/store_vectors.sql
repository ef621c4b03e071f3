-- Vectors in a store: upsert (insert, replace, timestamps, every bad
-- argument), upsert_many (counts, all or nothing, every bad item named by
-- its index), get, delete, delete_many, count, the table's own checks on
-- direct writes, and sync.
BEGIN;
SELECT plan(77);

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

DO $$
BEGIN
	PERFORM vecdb.create_store('v3', 3, 'l2');
	PERFORM vecdb.create_store('c3', 3, 'cosine');
	PERFORM vecdb.create_store('h3', 3, 'l2', '{"storage": "halfvec"}');
	PERFORM vecdb.create_store('hc3', 3, 'cosine', '{"storage": "halfvec"}');
	PERFORM vecdb.create_store('edge', 1, 'l2');
END
$$;

-- upsert: insert, then replace
SELECT is(vecdb.upsert('v3', 'a', '[1,2,3]', '{"color": "red"}', 'first'), 'inserted', 'upsert of a new id inserts');
SELECT is(
	(SELECT (g.id, g.embedding::text, g.metadata, g.content) FROM vecdb.get('v3', 'a') g),
	('a'::text, '[1,2,3]'::text, '{"color": "red"}'::jsonb, 'first'::text),
	'get returns what upsert wrote');
-- pretend the row is old, to see which timestamp upsert moves
UPDATE vecdb_data.v3 SET created_at = '2020-01-01', updated_at = '2020-01-02' WHERE id = 'a';
SELECT is(vecdb.upsert('v3', 'a', '[4,5,6]', '{"size": 2}'), 'updated', 'upsert of an existing id updates');
SELECT is(
	(SELECT (g.embedding::text, g.metadata, g.content, g.created_at, g.updated_at) FROM vecdb.get('v3', 'a') g),
	('[4,5,6]'::text, '{"size": 2}'::jsonb, NULL::text, '2020-01-01'::timestamptz, now()),
	'upsert replaces vector, metadata and content, keeps created_at and sets updated_at');
SELECT is(vecdb.upsert('v3', 'b', '[1,1,1]', NULL), 'inserted', 'upsert with null metadata');
SELECT is((SELECT metadata FROM vecdb.get('v3', 'b')), '{}'::jsonb, 'null metadata is stored as {}');
SELECT is(vecdb.upsert('v3', 'c', '[1,0,0]'), 'inserted', 'upsert with only store, id and vector');
SELECT is((SELECT (metadata, content) FROM vecdb.get('v3', 'c')), ('{}'::jsonb, NULL::text), 'metadata defaults to {}, content to null');
SELECT is(vecdb.upsert('v3', 'ünï cödé / with spaces', '[1,0,0]'), 'inserted', 'any non-empty text is an id');

-- halfvec stores take vector and store halfvec; get gives vector back
SELECT is(vecdb.upsert('h3', 'a', '[0.5,1.25,-2]'), 'inserted', 'upsert into a halfvec store');
SELECT is((SELECT pg_typeof(embedding)::text || ' ' || embedding::text FROM vecdb_data.h3), 'halfvec [0.5,1.25,-2]',
	'the store holds halfvec');
SELECT is((SELECT embedding::text FROM vecdb.get('h3', 'a')), '[0.5,1.25,-2]', 'get returns it as vector');

-- upsert: bad arguments change nothing
SELECT is(pg_temp.error_of($$SELECT vecdb.upsert('v3', 'a', '[1,2]')$$),
	'22000: store "v3" expects 3 dimensions, got 2', 'wrong dimensions: 22000 naming the store and both counts');
SELECT is(pg_temp.error_of($$SELECT vecdb.upsert('v3', 'a', '[1,2,3,4]')$$),
	'22000: store "v3" expects 3 dimensions, got 4', 'too many dimensions: 22000');
SELECT is(pg_temp.error_of($$SELECT vecdb.upsert('v3', 'a', '[NaN,1,2]')$$),
	'22000: NaN not allowed in vector', 'NaN: 22000 from the vector type');
SELECT is(pg_temp.error_of($$SELECT vecdb.upsert('v3', 'a', '[1,Infinity,2]')$$),
	'22000: infinite value not allowed in vector', 'infinity: 22000 from the vector type');
SELECT is(pg_temp.error_of($$SELECT vecdb.upsert('v3', 'a', '[1,2')$$),
	'22P02: invalid input syntax for type vector: "[1,2"', 'a malformed literal: 22P02');
SELECT is(pg_temp.error_of($$SELECT vecdb.upsert('v3', 'a', NULL)$$),
	'22004: vector must not be null', 'a null vector: 22004');
SELECT is(pg_temp.error_of($$SELECT vecdb.upsert('v3', NULL, '[1,2,3]')$$),
	'22004: id must not be null', 'a null id: 22004');
SELECT is(pg_temp.error_of($$SELECT vecdb.upsert('v3', '', '[1,2,3]')$$),
	'22023: id must not be empty', 'an empty id: 22023');
SELECT is(pg_temp.error_of($$SELECT vecdb.upsert('v3', 'a', '[1,2,3]', '[1,2]')$$),
	'22023: metadata must be a JSON object, got array', 'metadata that is not an object: 22023');
SELECT is(pg_temp.error_of($$SELECT vecdb.upsert('v3', 'a', '[1,2,3]', '"text"')$$),
	'22023: metadata must be a JSON object, got string', 'metadata that is a string: 22023');
SELECT is(pg_temp.error_of($$SELECT vecdb.upsert('c3', 'z', '[0,0,0]')$$),
	'22000: store "c3" uses cosine distance, which is undefined for a zero vector', 'a zero vector in a cosine store: 22000');
SELECT is(pg_temp.error_of($$SELECT vecdb.upsert('hc3', 'z', '[1e-9,0,0]')$$),
	'22000: store "hc3" uses cosine distance, which is undefined for a zero vector',
	'a vector that halfvec rounds to zero in a cosine store: 22000');
SELECT is(pg_temp.error_of($$SELECT vecdb.upsert('h3', 'z', '[70000,1,2]')$$),
	'22003: "70000" is out of range for type halfvec', 'an element beyond halfvec in a halfvec store: 22003');
SELECT is(pg_temp.error_of($$SELECT vecdb.upsert('nowhere', 'a', '[1,2,3]')$$),
	'42704: store "nowhere" does not exist', 'an unknown store: 42704');
SELECT is(
	(SELECT (g.embedding::text, g.metadata) FROM vecdb.get('v3', 'a') g),
	('[4,5,6]'::text, '{"size": 2}'::jsonb),
	'the failed upserts left the row as it was');
SELECT is(vecdb.count('v3'), 4::bigint, 'and added no row');

-- upsert_many
SELECT is(
	(SELECT (u.inserted, u.updated) FROM vecdb.upsert_many('v3',
		'[{"id": "a", "vector": [7, 8, 9], "metadata": {"batch": 1}, "content": "again"},
		  {"id": "m1", "vector": [1, 0.5, -2.25]},
		  {"id": "m2", "vector": [0, 0, 1], "metadata": null, "content": null},
		  {"id": "m3", "vector": [1e-50, 3e38, -1], "metadata": {"tags": ["x"]}}]') u),
	(3::bigint, 1::bigint),
	'upsert_many reports 3 inserted and 1 updated');
SELECT results_eq(
	$$SELECT g.id, g.embedding::text, g.metadata, g.content
		FROM unnest(ARRAY['a', 'm1', 'm2', 'm3']) i, vecdb.get('v3', i) g$$,
	$$VALUES ('a', '[7,8,9]', '{"batch": 1}'::jsonb, 'again'), ('m1', '[1,0.5,-2.25]', '{}', NULL),
			 ('m2', '[0,0,1]', '{}', NULL), ('m3', '[0,3e+38,-1]', '{"tags": ["x"]}', NULL)$$,
	'upsert_many wrote every item (null or absent metadata as {}, tiny numbers as 0)');
SELECT is((SELECT created_at FROM vecdb.get('v3', 'a')), '2020-01-01'::timestamptz, 'upsert_many keeps created_at too');
SELECT is((SELECT (u.inserted, u.updated) FROM vecdb.upsert_many('v3', '[]') u), (0::bigint, 0::bigint),
	'an empty batch writes nothing');
SELECT is((SELECT (u.inserted, u.updated) FROM vecdb.upsert_many('h3', '[{"id": "b", "vector": [65519, -1, 0.5]}]') u),
	(1::bigint, 0::bigint), 'upsert_many into a halfvec store');
SELECT is((SELECT embedding::text FROM vecdb_data.h3 WHERE id = 'b'), '[65504,-1,0.5]', 'stored as halfvec');

-- upsert_many: a bad item is named by its index and nothing is written
CREATE TEMP TABLE before_batch AS SELECT * FROM vecdb_data.v3;
SELECT is(pg_temp.error_of($$SELECT * FROM vecdb.upsert_many('v3',
		'[{"id": "new1", "vector": [1, 2, 3]}, {"id": "a", "vector": [0, 0, 0]}, {"id": "new2", "vector": [1, 2]}]')$$),
	'22000: items[2]: store "v3" expects 3 dimensions, got 2', 'wrong dimensions in items[2]: 22000');
SELECT set_eq('SELECT * FROM vecdb_data.v3', 'SELECT * FROM before_batch',
	'the items before the bad one were not written, nor the existing row changed');
SELECT is(pg_temp.error_of($$SELECT * FROM vecdb.upsert_many('v3', '[{"id": "x", "vector": [1, 2, 3]}, 7]')$$),
	'22023: items[1]: expected an object {"id", "vector", "metadata", "content"}, got number', 'an item that is not an object');
SELECT is(pg_temp.error_of($$SELECT * FROM vecdb.upsert_many('v3', '[{"id": "x", "vector": [1, 2, 3], "embedding": [1]}]')$$),
	'22023: items[0]: unknown key "embedding" (the keys are id, vector, metadata and content)', 'an unknown key');
SELECT is(pg_temp.error_of($$SELECT * FROM vecdb.upsert_many('v3', '[{"vector": [1, 2, 3]}]')$$),
	'22023: items[0]: "id" must be a string, got nothing', 'a missing id');
SELECT is(pg_temp.error_of($$SELECT * FROM vecdb.upsert_many('v3', '[{"id": 5, "vector": [1, 2, 3]}]')$$),
	'22023: items[0]: "id" must be a string, got number', 'a numeric id');
SELECT is(pg_temp.error_of($$SELECT * FROM vecdb.upsert_many('v3', '[{"id": "", "vector": [1, 2, 3]}]')$$),
	'22023: items[0]: "id" must not be empty', 'an empty id');
SELECT is(pg_temp.error_of($$SELECT * FROM vecdb.upsert_many('v3', '[{"id": "x"}]')$$),
	'22023: items[0]: "vector" must be an array of numbers', 'a missing vector');
SELECT is(pg_temp.error_of($$SELECT * FROM vecdb.upsert_many('v3', '[{"id": "x", "vector": "[1,2,3]"}]')$$),
	'22023: items[0]: "vector" must be an array of numbers', 'a vector given as a string');
SELECT is(pg_temp.error_of($$SELECT * FROM vecdb.upsert_many('v3', '[{"id": "x", "vector": [1, "2", 3]}]')$$),
	'22023: items[0]: "vector" must be an array of numbers', 'a vector with a string element');
SELECT is(pg_temp.error_of($$SELECT * FROM vecdb.upsert_many('v3', '[{"id": "x", "vector": [1, null, 3]}]')$$),
	'22023: items[0]: "vector" must be an array of numbers', 'a vector with a null element');
SELECT is(pg_temp.error_of($$SELECT * FROM vecdb.upsert_many('v3', '[{"id": "x", "vector": []}]')$$),
	'22000: items[0]: store "v3" expects 3 dimensions, got 0', 'an empty vector');
SELECT is(pg_temp.error_of($$SELECT * FROM vecdb.upsert_many('v3', '[{"id": "x", "vector": [1, 1e39, 3]}]')$$),
	'22003: items[0]: "vector" has an element out of range for vector', 'an element beyond real: 22003');
SELECT is(pg_temp.error_of($$SELECT * FROM vecdb.upsert_many('v3', '[{"id": "x", "vector": [1, -1e400, 3]}]')$$),
	'22003: items[0]: "vector" has an element out of range for vector', 'an element beyond double precision: 22003');
SELECT is(pg_temp.error_of($$SELECT * FROM vecdb.upsert_many('v3', '[{"id": "x", "vector": [1, 3.4028235677973366e38, 3]}]')$$),
	'22003: items[0]: "vector" has an element out of range for vector', 'the first value that rounds to infinity in real');
SELECT is(pg_temp.error_of($$SELECT * FROM vecdb.upsert_many('h3', '[{"id": "x", "vector": [1, 65520, 3]}]')$$),
	'22003: items[0]: "vector" has an element out of range for halfvec', 'an element beyond halfvec: 22003');
SELECT is(pg_temp.error_of($$SELECT * FROM vecdb.upsert_many('c3', '[{"id": "x", "vector": [0, 0, 0]}]')$$),
	'22000: items[0]: store "c3" uses cosine distance, which is undefined for a zero vector', 'a zero vector in a cosine store');
SELECT is(pg_temp.error_of($$SELECT * FROM vecdb.upsert_many('hc3', '[{"id": "x", "vector": [1e-9, 0, 0]}]')$$),
	'22000: items[0]: store "hc3" uses cosine distance, which is undefined for a zero vector',
	'a vector that halfvec rounds to zero in a cosine store');
SELECT is(pg_temp.error_of($$SELECT * FROM vecdb.upsert_many('v3', '[{"id": "x", "vector": [1, 2, 3], "metadata": [1]}]')$$),
	'22023: items[0]: "metadata" must be a JSON object, got array', 'metadata that is not an object');
SELECT is(pg_temp.error_of($$SELECT * FROM vecdb.upsert_many('v3', '[{"id": "x", "vector": [1, 2, 3], "content": 42}]')$$),
	'22023: items[0]: "content" must be a string, got number', 'content that is not a string');
SELECT is(pg_temp.error_of($$SELECT * FROM vecdb.upsert_many('v3',
		'[{"id": "p", "vector": [1, 2, 3]}, {"id": "q", "vector": [1, 2, 3]}, {"id": "p", "vector": [3, 2, 1]}]')$$),
	'22023: items[0] and items[2] have the same id "p"', 'a duplicate id names both items');
SELECT is(pg_temp.error_of($$SELECT * FROM vecdb.upsert_many('v3', '{"id": "x", "vector": [1, 2, 3]}')$$),
	'22023: items must be a JSON array of objects {"id", "vector", "metadata", "content"}, got object', 'items that are not an array');
SELECT is(pg_temp.error_of($$SELECT * FROM vecdb.upsert_many('v3', NULL)$$),
	'22004: items must not be null', 'null items');
SELECT set_eq('SELECT * FROM vecdb_data.v3', 'SELECT * FROM before_batch', 'no failed batch wrote anything');
SELECT is((SELECT inserted FROM vecdb.upsert_many('edge', '[{"id": "x", "vector": [3.402823567797336e38]}]')), 1::bigint,
	'the last value that rounds to the largest real is accepted');
SELECT is((SELECT inserted FROM vecdb.upsert_many('h3', '[{"id": "x", "vector": [1, -65519.99, 3]}]')), 1::bigint,
	'the last value that rounds to the largest halfvec is accepted');

-- get, delete, delete_many, count
SELECT is_empty($$SELECT * FROM vecdb.get('v3', 'no such id')$$, 'get of an unknown id returns no row');
SELECT is(pg_temp.error_of($$SELECT * FROM vecdb.get('nowhere', 'a')$$), '42704: store "nowhere" does not exist', 'get from an unknown store');
SELECT is(vecdb.count('v3'), 7::bigint, 'count');
SELECT is(vecdb.delete('v3', 'm1'), true, 'delete of an existing id is true');
SELECT is(vecdb.delete('v3', 'm1'), false, 'delete of a missing id is false');
SELECT is(vecdb.delete_many('v3', ARRAY['m2', 'm3', 'never', 'm2']), 2::bigint, 'delete_many returns how many existed');
SELECT is(vecdb.delete_many('v3', '{}'), 0::bigint, 'delete_many of no ids');
SELECT is(pg_temp.error_of($$SELECT vecdb.delete_many('v3', NULL)$$), '22004: ids must not be null', 'delete_many of null');
SELECT is(vecdb.count('v3'), 4::bigint, 'count after deleting');
SELECT is(pg_temp.error_of($$SELECT vecdb.delete('nowhere', 'a')$$), '42704: store "nowhere" does not exist', 'delete from an unknown store');

-- the table keeps upsert's rules for rows written with plain SQL
SELECT throws_ok($$INSERT INTO vecdb_data.v3 (id, embedding, metadata) VALUES ('t', '[1,2,3]', '[]')$$, '23514', NULL,
	'a store table refuses metadata that is not an object');
SELECT throws_ok($$INSERT INTO vecdb_data.v3 (id, embedding) VALUES ('', '[1,2,3]')$$, '23514', NULL,
	'a store table refuses an empty id');
SELECT throws_ok($$INSERT INTO vecdb_data.c3 (id, embedding) VALUES ('t', '[0,0,0]')$$, '23514', NULL,
	'a cosine store table refuses a zero vector');
SELECT throws_ok($$INSERT INTO vecdb_data.v3 (id, embedding) VALUES ('t', '[1,2]')$$, '22000', NULL,
	'a store table refuses wrong dimensions');

-- sync flushes WAL written by this transaction's uncommitted writes too
SET LOCAL synchronous_commit = off;
DO $$ BEGIN PERFORM vecdb.upsert('v3', 'synced', '[1,2,3]'); END $$;
CREATE TEMP TABLE lsn AS SELECT pg_current_wal_insert_lsn() AS written;
SELECT ok(vecdb.sync('v3') >= (SELECT written FROM lsn), 'sync returns a position at or after the last write');
SELECT ok(pg_current_wal_flush_lsn() >= (SELECT written FROM lsn), 'WAL is flushed up to the last write');
SELECT is(pg_temp.error_of($$SELECT vecdb.sync('nowhere')$$), '42704: store "nowhere" does not exist', 'sync of an unknown store');

SELECT * FROM finish();
ROLLBACK;
