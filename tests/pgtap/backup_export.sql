-- Export and import: export_store (the exact lines, their order, JSON
-- escapes), import_store (all or nothing, upserts, what a line may leave
-- out), export -> import round trips, every bad line named by its number
-- with its SQLSTATE, and what each role may do.
BEGIN;
SELECT plan(51);

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

-- a store's export as one text
CREATE FUNCTION pg_temp.jsonl(store text) RETURNS text
LANGUAGE sql AS $$ SELECT string_agg(line, E'\n') FROM vecdb.export_store(store) line $$;

-- what an injected "drop table y" would drop
CREATE TABLE public.y (x int);

SELECT name FROM vecdb.create_store('docs', 3, 'cosine');
SELECT count(vecdb.upsert('docs', id, v::vector, m::jsonb, c))
  FROM (VALUES ('a', '[1,0,0]', '{"n": 1, "tags": ["x", "y"], "nested": {"k": null}}', 'plain'),
			   ('b', '[0,1.5,-2e-05]', '{}', NULL),
			   ('B', '[0.1,0.2,0.3]', '{"n": 3}', E'quotes " and \\ and\na newline\tand a tab'),
			   ('é', '[3e+20,1,1]', '{"ü": "ñ"}', 'unicode ☃')) AS t(id, v, m, c);
SELECT name FROM vecdb.create_store('half', 2, 'l2', '{"storage": "halfvec"}');
SELECT count(vecdb.upsert('half', 'h' || i, ARRAY[i / 10.0, -i / 3.0]::real[]::vector, '{}', NULL)) FROM generate_series(1, 30) i;
SELECT name FROM vecdb.create_store('empty', 2, 'l1');

-- export_store
SELECT results_eq($$SELECT line FROM vecdb.export_store('docs') line$$,
	$$VALUES ('{"id":"B","vector":[0.1,0.2,0.3],"metadata":{"n": 3},"content":"quotes \" and \\ and\na newline\tand a tab"}'),
			 ('{"id":"a","vector":[1,0,0],"metadata":{"n": 1, "tags": ["x", "y"], "nested": {"k": null}},"content":"plain"}'),
			 ('{"id":"b","vector":[0,1.5,-2e-05],"metadata":{},"content":null}'),
			 ('{"id":"é","vector":[3e+20,1,1],"metadata":{"ü": "ñ"},"content":"unicode ☃"}')$$,
	'export_store: one JSON object a vector, in byte order of id (B before a), strings escaped');
SELECT ok((SELECT bool_and(line::jsonb ?& ARRAY['id', 'vector', 'metadata', 'content'] AND
						   (SELECT count(*) FROM jsonb_object_keys(line::jsonb)) = 4)
			 FROM vecdb.export_store('docs') line),
	'every line is a JSON object of id, vector, metadata and content');
SELECT is((SELECT line::jsonb ->> 'content' FROM vecdb.export_store('docs') line WHERE line::jsonb ->> 'id' = 'B'),
	E'quotes " and \\ and\na newline\tand a tab', 'the content reads back from the JSON as it was');
SELECT is_empty($$SELECT * FROM vecdb.export_store('empty')$$, 'an empty store exports no line');
SELECT is(pg_temp.error_of($$SELECT vecdb.export_store('nope')$$),
	'42704: store "nope" does not exist', 'export_store of an unknown store is 42704');
SELECT is(pg_temp.error_of($$SELECT vecdb.export_store('x; drop table y')$$),
	'42602: invalid store name "x; drop table y": a name is 1 to 63 lower-case letters, digits and underscores, not starting with a digit (^[a-z_][a-z0-9_]{0,62}$)',
	'export_store of a store named "x; drop table y" is 42602');

-- export -> import round trips
SELECT name FROM vecdb.create_store('docs2', 3, 'cosine');
SELECT is(vecdb.import_store('docs2', pg_temp.jsonl('docs')), 4::bigint, 'import_store returns the number of lines it loaded');
SELECT results_eq($$SELECT * FROM vecdb.export_store('docs2')$$, $$SELECT * FROM vecdb.export_store('docs')$$,
	'export -> import -> export gives the same lines');
SELECT is(vecdb.store_checksum('docs2'), vecdb.store_checksum('docs'), 'and the same checksum');
SELECT set_eq($$SELECT id, embedding, metadata, content FROM vecdb_data.docs2$$,
	$$SELECT id, embedding, metadata, content FROM vecdb_data.docs$$, 'and the same vectors, metadata and content');
SELECT name FROM vecdb.create_store('half2', 2, 'l2', '{"storage": "halfvec"}');
SELECT is(vecdb.import_store('half2', pg_temp.jsonl('half')), 30::bigint, 'a halfvec store imports its export');
SELECT is(vecdb.store_checksum('half2'), vecdb.store_checksum('half'), 'with the same checksum: halfvec values print exactly');
SELECT name FROM vecdb.create_store('wide', 3, 'l2');
SELECT is(vecdb.import_store('wide', pg_temp.jsonl('docs')), 4::bigint, 'an export imports into another store of the same dimensions');

-- what a line may leave out, blank lines, CRLF
SELECT is(vecdb.import_store('wide', E'{"id": "m1", "vector": [1, 2, 3]}\r\n\n   \n{"id": "m2", "vector": [1e-3, 2, 3], "metadata": null, "content": null}\n'),
	2::bigint, 'metadata and content may be left out or null; blank lines and CRLF line ends are fine');
SELECT results_eq($$SELECT id, embedding::text, metadata, content FROM vecdb_data.wide WHERE id IN ('m1', 'm2') ORDER BY id$$,
	$$VALUES ('m1', '[1,2,3]', '{}'::jsonb, NULL::text), ('m2', '[0.001,2,3]', '{}'::jsonb, NULL::text)$$,
	'left out, metadata is {} and content null');
SELECT is(vecdb.import_store('wide', ''), 0::bigint, 'an empty text imports nothing');

-- import replaces vectors with the same id, keeps created_at and sets updated_at
UPDATE vecdb_data.wide SET created_at = '2020-01-01', updated_at = '2020-01-01' WHERE id = 'a';
SELECT is(vecdb.import_store('wide', '{"id": "a", "vector": [9, 9, 9], "metadata": {"v": 2}, "content": "new"}'), 1::bigint,
	'import_store of an existing id');
SELECT results_eq($$SELECT embedding::text, metadata, content, created_at, updated_at FROM vecdb_data.wide WHERE id = 'a'$$,
	$$VALUES ('[9,9,9]', '{"v": 2}'::jsonb, 'new', '2020-01-01'::timestamptz, now())$$,
	'replaces its vector, metadata and content, keeps created_at and sets updated_at');

-- bad lines: named by number (blank lines count), with their SQLSTATE; nothing is written
CREATE TEMP TABLE wide_before AS SELECT * FROM vecdb_data.wide;
SELECT is(pg_temp.error_of($$SELECT vecdb.import_store('wide', E'{"id": "n1", "vector": [1, 2, 3]}\n\n{"id": oops}\n{"id": "n2", "vector": [1, 2, 3]}')$$),
	'22P02: line 3: invalid input syntax for type json', 'a line that is not JSON: 22P02, line 3');
SELECT is(pg_temp.error_of($$SELECT vecdb.import_store('wide', E'{"id": "n1", "vector": [1, 2, 3]}\n{"id": "n2", "vector": [1, 2]}')$$),
	'22000: line 2: store "wide" expects 3 dimensions, got 2', 'wrong dimensions: 22000, with the store''s dimensions');
SELECT is(pg_temp.error_of($$SELECT vecdb.import_store('wide', '[1, 2, 3]')$$),
	'22023: line 1: expected a JSON object, got array', 'a line that is not an object: 22023');
SELECT is(pg_temp.error_of($$SELECT vecdb.import_store('wide', '{"id": "n1", "vectors": [1, 2, 3]}')$$),
	'22023: line 1: unknown member "vectors"', 'an unknown member: 22023');
SELECT is(pg_temp.error_of($$SELECT vecdb.import_store('wide', '{"vector": [1, 2, 3]}')$$),
	'22023: line 1: "id" must be a string, got nothing', 'no id: 22023');
SELECT is(pg_temp.error_of($$SELECT vecdb.import_store('wide', '{"id": 7, "vector": [1, 2, 3]}')$$),
	'22023: line 1: "id" must be a string, got number', 'a number as id: 22023');
SELECT is(pg_temp.error_of($$SELECT vecdb.import_store('wide', '{"id": "", "vector": [1, 2, 3]}')$$),
	'22023: line 1: "id" must not be empty', 'an empty id: 22023');
SELECT is(pg_temp.error_of($$SELECT vecdb.import_store('wide', '{"id": "n1"}')$$),
	'22023: line 1: "vector" must be an array of numbers', 'no vector: 22023');
SELECT is(pg_temp.error_of($$SELECT vecdb.import_store('wide', '{"id": "n1", "vector": [1, "2", 3]}')$$),
	'22023: line 1: "vector" must be an array of numbers', 'a string in the vector: 22023');
SELECT is(pg_temp.error_of($$SELECT vecdb.import_store('wide', '{"id": "n1", "vector": [1, 2, 1e39]}')$$),
	'22003: line 1: "vector" has an element out of range for vector', 'an element beyond float4: 22003');
SELECT is(pg_temp.error_of($$SELECT vecdb.import_store('half2', '{"id": "n1", "vector": [1, 70000]}')$$),
	'22003: line 1: "vector" has an element out of range for halfvec', 'an element beyond halfvec in a halfvec store: 22003');
SELECT is(pg_temp.error_of($$SELECT vecdb.import_store('docs2', '{"id": "n1", "vector": [0, 0, 0]}')$$),
	'22000: line 1: store "docs2" uses cosine distance, which is undefined for a zero vector', 'a zero vector in a cosine store: 22000');
SELECT is(pg_temp.error_of($$SELECT vecdb.import_store('wide', '{"id": "n1", "vector": [1, 2, 3], "metadata": [1]}')$$),
	'22023: line 1: "metadata" must be a JSON object, got array', 'metadata that is not an object: 22023');
SELECT is(pg_temp.error_of($$SELECT vecdb.import_store('wide', '{"id": "n1", "vector": [1, 2, 3], "content": 5}')$$),
	'22023: line 1: "content" must be a string, got number', 'content that is not a string: 22023');
SELECT is(pg_temp.error_of($$SELECT vecdb.import_store('wide', E'{"id": "n1", "vector": [1, 2, 3]}\n{"id": "n2", "vector": [1, 2, 3]}\n{"id": "n1", "vector": [3, 2, 1]}')$$),
	'23505: line 3: id "n1" was already given on line 1', 'an id given twice: 23505, naming both lines');
SELECT is(pg_temp.error_of($$SELECT vecdb.import_store('wide', E'{"id": "n1", "vector": [1, 2, 3]}\n{"id": "n1", "vector": [1, 2, 3]}\n{oops')$$),
	'23505: line 2: id "n1" was already given on line 1', 'the first bad line is named: a repeated id before a line that is not JSON');
SELECT is(pg_temp.error_of($$SELECT vecdb.import_store('wide', E'{"id": "n1", "vector": [1, 2, 3]}\n{oops\n{"id": "n1", "vector": [1, 2, 3]}')$$),
	'22P02: line 2: invalid input syntax for type json', 'and a line that is not JSON before a repeated id');
SELECT is(pg_temp.error_of($$SELECT vecdb.import_store('wide', NULL)$$),
	'22004: jsonl must not be null', 'null lines: 22004');
SELECT is(pg_temp.error_of($$SELECT vecdb.import_store('nope', '{"id": "n1", "vector": [1, 2, 3]}')$$),
	'42704: store "nope" does not exist', 'import into an unknown store: 42704');
SELECT is(pg_temp.error_of($$SELECT vecdb.import_store('x; drop table y', '{"id": "n1", "vector": [1, 2, 3]}')$$),
	'42602: invalid store name "x; drop table y": a name is 1 to 63 lower-case letters, digits and underscores, not starting with a digit (^[a-z_][a-z0-9_]{0,62}$)',
	'import into a store named "x; drop table y": 42602');
SELECT set_eq('SELECT * FROM vecdb_data.wide', 'SELECT * FROM wide_before', 'no failed import wrote anything');
SELECT has_table('public', 'y', 'nothing was injected: table y is still there');

-- the error says what to do and what happened
CREATE FUNCTION pg_temp.hint_of(statement text) RETURNS text
LANGUAGE plpgsql AS $$
DECLARE
	hint text;
BEGIN
	EXECUTE statement;
	RETURN NULL;
EXCEPTION WHEN OTHERS THEN
	GET STACKED DIAGNOSTICS hint = PG_EXCEPTION_HINT;
	RETURN hint;
END
$$;
SELECT is(pg_temp.hint_of($$SELECT vecdb.import_store('wide', '{"id": "n1", "vectors": [1, 2, 3]}')$$),
	'A line is a JSON object {"id": "...", "vector": [...], "metadata": {...}, "content": "..."}; metadata and content may be left out.  Nothing was imported.',
	'the hint of a malformed line shows a line''s shape and says nothing was imported');
SELECT is(pg_temp.hint_of($$SELECT vecdb.import_store('wide', E'{"id": "n1", "vector": [1, 2, 3]}\n{"id": "n1", "vector": [1, 2, 3]}')$$),
	'Nothing was imported.', 'so does the hint of a repeated id');

-- a large import goes in one statement, and a bad line near its end is still found
SELECT name FROM vecdb.create_store('many', 4, 'l2');
SELECT is(vecdb.import_store('many', (SELECT string_agg(format('{"id": "r%s", "vector": [%s, %s, 1, 2]}', i, i, -i), E'\n') FROM generate_series(1, 5000) i)),
	5000::bigint, '5,000 lines import');
SELECT is(pg_temp.error_of($$SELECT vecdb.import_store('many', (SELECT string_agg(format('{"id": "s%s", "vector": [%s, 1, 2, 3]}', i, CASE WHEN i = 4999 THEN '"x"' ELSE i::text END), E'\n') FROM generate_series(1, 5000) i))$$),
	'22023: line 4999: "vector" must be an array of numbers', 'a bad line 4,999 of 5,000 is named');
SELECT is(vecdb.count('many'), 5000::bigint, 'and none of the 4,998 good lines before it stayed');

-- rights: export is for readers, import for writers
SELECT is(pg_temp.error_as('vecdb_reader', $$SELECT count(*) FROM vecdb.export_store('docs')$$), 'no error', 'a reader exports');
SELECT is(pg_temp.error_as('vecdb_reader', $$SELECT vecdb.import_store('wide', '{"id": "r1", "vector": [1, 2, 3]}')$$),
	'42501: permission denied for function import_store', 'a reader cannot import');
SELECT is(pg_temp.error_as('vecdb_writer', $$SELECT vecdb.import_store('wide', '{"id": "w1", "vector": [1, 2, 3]}')$$),
	'no error', 'a writer imports');
SELECT is((SELECT count(*) FROM vecdb_data.wide WHERE id = 'w1'), 1::bigint, 'and the vector is there');
CREATE ROLE vecdb_test_nobody;
GRANT USAGE ON SCHEMA vecdb TO vecdb_test_nobody;
SELECT is(pg_temp.error_as('vecdb_test_nobody', $$SELECT count(*) FROM vecdb.export_store('docs')$$),
	'42501: permission denied for function export_store', 'a role with none of the vecdb roles cannot export');
SELECT is(pg_temp.error_as('vecdb_test_nobody', $$SELECT vecdb.import_store('wide', '{"id": "x1", "vector": [1, 2, 3]}')$$),
	'42501: permission denied for function import_store', 'nor import');

SELECT * FROM finish();
ROLLBACK;
