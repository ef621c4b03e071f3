-- Roles and rights: vecdb_reader (search, get, count, stats, list),
-- vecdb_writer (+ create stores, upsert, delete, sync), vecdb_admin (+ drop
-- stores); a role with none of them can call nothing.  Only create_store and
-- drop_store are SECURITY DEFINER, and every store function pins its
-- search_path, so a caller's search_path cannot redirect it.
BEGIN;
SELECT plan(59);

-- the error a statement raises run as role, as 'SQLSTATE: message', or 'no
-- error' (an error rolls the role change back with everything else)
CREATE FUNCTION pg_temp.error_as(role text, statement text) RETURNS text
LANGUAGE plpgsql AS $$
DECLARE
	state text;
	message text;
BEGIN
	PERFORM set_config('role', role, true);
	EXECUTE statement;
	PERFORM set_config('role', 'none', true);
	RETURN 'no error';
EXCEPTION WHEN OTHERS THEN
	GET STACKED DIAGNOSTICS state = RETURNED_SQLSTATE, message = MESSAGE_TEXT;
	RETURN state || ': ' || message;
END
$$;
-- the first column of the first row a query returns, run as role
CREATE FUNCTION pg_temp.value_as(role text, query text) RETURNS text
LANGUAGE plpgsql AS $$
DECLARE
	result text;
BEGIN
	PERFORM set_config('role', role, true);
	EXECUTE query INTO result;
	PERFORM set_config('role', 'none', true);
	RETURN result;
END
$$;

-- login roles as the gateway would use them, and one with no vecdb role
CREATE ROLE store_test_reader LOGIN IN ROLE vecdb_reader;
CREATE ROLE store_test_writer LOGIN IN ROLE vecdb_writer;
CREATE ROLE store_test_admin LOGIN IN ROLE vecdb_admin;
CREATE ROLE store_test_nobody LOGIN;
DO $$
BEGIN
	PERFORM vecdb.create_store('docs', 3, 'l2');
	PERFORM vecdb.upsert('docs', 'a', '[1,2,3]', '{"k": 1}');
END
$$;

-- the roles
SELECT has_role('vecdb_reader', 'vecdb_reader exists');
SELECT has_role('vecdb_writer', 'vecdb_writer exists');
SELECT has_role('vecdb_admin', 'vecdb_admin exists');
SELECT is((SELECT bool_or(rolcanlogin OR rolsuper OR rolcreaterole OR rolcreatedb OR rolbypassrls) FROM pg_roles
			WHERE rolname IN ('vecdb_reader', 'vecdb_writer', 'vecdb_admin')), false,
	'the vecdb roles cannot log in and hold no special attribute');
SELECT is_member_of('vecdb_reader', 'vecdb_writer', 'vecdb_writer is a member of vecdb_reader');
SELECT is_member_of('vecdb_writer', 'vecdb_admin', 'vecdb_admin is a member of vecdb_writer');
SELECT isnt_member_of('vecdb_writer', 'vecdb_reader', 'vecdb_reader is not a member of vecdb_writer');

-- EXECUTE, per function and role (the roles above it inherit it)
CREATE TEMP TABLE expected_execute (signature text, lowest text);
INSERT INTO expected_execute VALUES
	('vecdb.list_stores()', 'vecdb_reader'),
	('vecdb.store_stats(text)', 'vecdb_reader'),
	('vecdb.get(text,text)', 'vecdb_reader'),
	('vecdb.count(text)', 'vecdb_reader'),
	('vecdb.search(text,vector,integer,jsonb,integer)', 'vecdb_reader'),
	('vecdb.explain_search(text,vector,integer,jsonb,integer)', 'vecdb_reader'),
	('vecdb.create_store(text,integer,text,jsonb)', 'vecdb_writer'),
	('vecdb.upsert(text,text,vector,jsonb,text)', 'vecdb_writer'),
	('vecdb.upsert_many(text,jsonb)', 'vecdb_writer'),
	('vecdb.delete(text,text)', 'vecdb_writer'),
	('vecdb.delete_many(text,text[])', 'vecdb_writer'),
	('vecdb.sync(text)', 'vecdb_writer'),
	('vecdb.drop_store(text)', 'vecdb_admin');
SELECT results_eq(
	$$SELECT e.signature,
			 has_function_privilege('store_test_nobody', e.signature::regprocedure, 'EXECUTE'),
			 has_function_privilege('vecdb_reader', e.signature::regprocedure, 'EXECUTE'),
			 has_function_privilege('vecdb_writer', e.signature::regprocedure, 'EXECUTE'),
			 has_function_privilege('vecdb_admin', e.signature::regprocedure, 'EXECUTE')
		FROM expected_execute e ORDER BY 1$$,
	$$SELECT e.signature, false, e.lowest = 'vecdb_reader', e.lowest <> 'vecdb_admin', true
		FROM expected_execute e ORDER BY 1$$,
	'EXECUTE: nobody none, reader the reads, writer also the writes, admin also drop_store');
-- the internal functions of the store API (extension/sql/50_store.sql)
CREATE TEMP TABLE internal_function (signature text);
INSERT INTO internal_function VALUES
	('vecdb._validate_name(text,text)'), ('vecdb._store(text)'), ('vecdb._check_vector(vecdb.stores,vector,text)'),
	('vecdb._create_store_table(text)'), ('vecdb._filter_node(jsonb,text,jsonb[],text[],numeric[])'),
	('vecdb._filter_predicate(jsonb)'), ('vecdb._search_prepare(text,vector,integer,jsonb,integer)'),
	('vecdb._flush_wal()');
SELECT is_empty(
	$$SELECT signature FROM expected_execute UNION ALL SELECT signature FROM internal_function
	  EXCEPT
	  SELECT p.oid::regprocedure::text FROM pg_proc p WHERE p.pronamespace = 'vecdb'::regnamespace$$,
	'(every function listed here exists)');
SELECT is_empty(
	$$SELECT signature FROM (SELECT signature FROM expected_execute UNION ALL SELECT signature FROM internal_function) f
	   WHERE has_function_privilege('store_test_nobody', signature::regprocedure, 'EXECUTE')$$,
	'PUBLIC may execute no store function, internal ones included');
SELECT ok(NOT has_function_privilege('vecdb_admin', 'vecdb._create_store_table(text)', 'EXECUTE'),
	'no vecdb role may call _create_store_table directly (only SECURITY DEFINER functions do)');

-- SECURITY DEFINER: exactly create_store and drop_store, with a pinned search_path
SELECT set_eq(
	$$SELECT signature FROM (SELECT signature FROM expected_execute UNION ALL SELECT signature FROM internal_function) f
	   WHERE (SELECT prosecdef FROM pg_proc WHERE oid = signature::regprocedure)$$,
	ARRAY['vecdb.create_store(text,integer,text,jsonb)', 'vecdb.drop_store(text)'],
	'the SECURITY DEFINER store functions are create_store and drop_store');
SELECT is_empty(
	$$SELECT signature, p.proconfig
		FROM (SELECT signature FROM expected_execute UNION ALL SELECT signature FROM internal_function) f
		JOIN pg_proc p ON p.oid = f.signature::regprocedure
	   WHERE p.prolang IN (SELECT oid FROM pg_language WHERE lanname IN ('sql', 'plpgsql'))
		 AND p.proconfig IS DISTINCT FROM ARRAY['search_path=pg_catalog, pg_temp']$$,
	'every SQL and PL/pgSQL store function runs with search_path pg_catalog, pg_temp');

-- a reader reads
SELECT is(pg_temp.value_as('store_test_reader', $$SELECT id FROM vecdb.search('docs', '[1,2,3]', 1)$$), 'a', 'a reader can search');
SELECT is(pg_temp.value_as('store_test_reader', $$SELECT (vecdb.explain_search('docs', '[1,2,3]', 1) IS NOT NULL)::text$$), 'true',
	'a reader can explain a search');
SELECT is(pg_temp.value_as('store_test_reader', $$SELECT id FROM vecdb.get('docs', 'a')$$), 'a', 'a reader can get');
SELECT is(pg_temp.value_as('store_test_reader', $$SELECT vecdb.count('docs')$$), '1', 'a reader can count');
SELECT is(pg_temp.value_as('store_test_reader', $$SELECT count FROM vecdb.store_stats('docs')$$), '1', 'a reader can read stats');
SELECT is(pg_temp.value_as('store_test_reader', $$SELECT string_agg(name, ',') FROM vecdb.list_stores()$$), 'docs', 'a reader can list stores');
SELECT is(pg_temp.value_as('store_test_reader', $$SELECT id FROM vecdb_data.docs$$), 'a', 'a reader can SELECT from a store table');
SELECT is(pg_temp.value_as('store_test_reader', $$SELECT name FROM vecdb.stores$$), 'docs', 'a reader can read vecdb.stores');

-- a reader cannot write
SELECT is(pg_temp.error_as('store_test_reader', $$SELECT vecdb.upsert('docs', 'b', '[1,2,3]')$$),
	'42501: permission denied for function upsert', 'a reader cannot upsert');
SELECT is(pg_temp.error_as('store_test_reader', $$SELECT vecdb.upsert_many('docs', '[]')$$),
	'42501: permission denied for function upsert_many', 'a reader cannot upsert_many');
SELECT is(pg_temp.error_as('store_test_reader', $$SELECT vecdb.delete('docs', 'a')$$),
	'42501: permission denied for function delete', 'a reader cannot delete');
SELECT is(pg_temp.error_as('store_test_reader', $$SELECT vecdb.delete_many('docs', '{a}')$$),
	'42501: permission denied for function delete_many', 'a reader cannot delete_many');
SELECT is(pg_temp.error_as('store_test_reader', $$SELECT vecdb.create_store('mine', 3)$$),
	'42501: permission denied for function create_store', 'a reader cannot create a store');
SELECT is(pg_temp.error_as('store_test_reader', $$SELECT vecdb.drop_store('docs')$$),
	'42501: permission denied for function drop_store', 'a reader cannot drop a store');
SELECT is(pg_temp.error_as('store_test_reader', $$SELECT vecdb.sync('docs')$$),
	'42501: permission denied for function sync', 'a reader cannot sync');
SELECT is(pg_temp.error_as('store_test_reader', $$INSERT INTO vecdb_data.docs (id, embedding) VALUES ('b', '[1,2,3]')$$),
	'42501: permission denied for table docs', 'a reader cannot INSERT into a store table');
SELECT is(pg_temp.error_as('store_test_reader', $$DELETE FROM vecdb_data.docs$$),
	'42501: permission denied for table docs', 'a reader cannot DELETE from a store table');
SELECT is(pg_temp.error_as('store_test_reader', $$UPDATE vecdb.stores SET dims = 4$$),
	'42501: permission denied for table stores', 'a reader cannot change the catalog');
SELECT is(pg_temp.error_as('store_test_reader', $$SELECT vecdb._create_store_table('docs')$$),
	'42501: permission denied for function _create_store_table', 'a reader cannot call _create_store_table');

-- a writer writes and creates stores, owned by the extension's owner
SELECT is(pg_temp.value_as('store_test_writer', $$SELECT vecdb.upsert('docs', 'b', '[3,2,1]')$$), 'inserted', 'a writer can upsert');
SELECT is(pg_temp.value_as('store_test_writer', $$SELECT inserted FROM vecdb.upsert_many('docs', '[{"id": "c", "vector": [1,1,1]}]')$$), '1',
	'a writer can upsert_many');
SELECT is(pg_temp.value_as('store_test_writer', $$SELECT vecdb.delete('docs', 'c')$$), 'true', 'a writer can delete');
SELECT is(pg_temp.value_as('store_test_writer', $$SELECT vecdb.delete_many('docs', '{b}')$$), '1', 'a writer can delete_many');
SELECT ok(pg_temp.value_as('store_test_writer', $$SELECT vecdb.sync('docs')$$)::pg_lsn > '0/0', 'a writer can sync');
SELECT is(pg_temp.value_as('store_test_writer', $$SELECT name FROM vecdb.create_store('writers', 2, 'l1')$$), 'writers',
	'a writer can create a store');
SELECT table_owner_is('vecdb_data', 'writers', (SELECT pg_get_userbyid(extowner) FROM pg_extension WHERE extname = 'vecdb'),
	'the store a writer created belongs to the extension''s owner, not the writer');
SELECT is(pg_temp.value_as('store_test_writer', $$SELECT vecdb.upsert('writers', 'w', '[1,2]')$$), 'inserted',
	'a writer can write into the store it created');
SELECT is(pg_temp.value_as('store_test_reader', $$SELECT id FROM vecdb.search('writers', '[1,2]', 1)$$), 'w',
	'and a reader can search it');
SELECT is(pg_temp.error_as('store_test_writer', $$SELECT vecdb.drop_store('writers')$$),
	'42501: permission denied for function drop_store', 'a writer cannot drop a store');
SELECT is(pg_temp.error_as('store_test_writer', $$DROP TABLE vecdb_data.writers$$),
	'42501: must be owner of table writers', 'a writer cannot drop a store table either');
SELECT is(pg_temp.error_as('store_test_writer', $$TRUNCATE vecdb_data.docs$$),
	'42501: permission denied for table docs', 'a writer cannot TRUNCATE a store table');
SELECT is(pg_temp.error_as('store_test_writer', $$INSERT INTO vecdb.stores (name, dims, metric) VALUES ('fake', 2, 'l2')$$),
	'42501: permission denied for table stores', 'a writer cannot write the catalog directly');
SELECT is(pg_temp.error_as('store_test_writer', $$SELECT vecdb._create_store_table('docs')$$),
	'42501: permission denied for function _create_store_table', 'a writer cannot call _create_store_table');

-- an admin drops
SELECT is(pg_temp.error_as('store_test_admin', $$SELECT vecdb.drop_store('writers')$$), 'no error', 'an admin can drop a store');
SELECT hasnt_table('vecdb_data', 'writers', 'the dropped store''s table is gone');
SELECT is(pg_temp.value_as('store_test_admin', $$SELECT id FROM vecdb.search('docs', '[1,2,3]', 1)$$), 'a', 'an admin can search too');

-- a role with no vecdb role can do nothing
SELECT is(pg_temp.error_as('store_test_nobody', $$SELECT * FROM vecdb.search('docs', '[1,2,3]')$$),
	'42501: permission denied for schema vecdb', 'a role without a vecdb role cannot search');
SELECT is(pg_temp.error_as('store_test_nobody', $$SELECT * FROM vecdb.list_stores()$$),
	'42501: permission denied for schema vecdb', 'nor list stores');
SELECT is(pg_temp.error_as('store_test_nobody', $$SELECT vecdb.create_store('nobodys', 2)$$),
	'42501: permission denied for schema vecdb', 'nor create a store');
SELECT is(pg_temp.error_as('store_test_nobody', $$SELECT * FROM vecdb_data.docs$$),
	'42501: permission denied for schema vecdb_data', 'nor read a store table');
GRANT USAGE ON SCHEMA vecdb, vecdb_data TO store_test_nobody;
SELECT is(pg_temp.error_as('store_test_nobody', $$SELECT * FROM vecdb.search('docs', '[1,2,3]')$$),
	'42501: permission denied for function search', 'with the schemas usable, still not search');
SELECT is(pg_temp.error_as('store_test_nobody', $$SELECT * FROM vecdb_data.docs$$),
	'42501: permission denied for table docs', 'nor read the table');

-- a caller's search_path cannot redirect a store function
CREATE SCHEMA store_test_evil;
CREATE FUNCTION store_test_evil.jsonb_typeof(jsonb) RETURNS text LANGUAGE sql AS $$ SELECT 'object' $$;
CREATE FUNCTION store_test_evil.format(text, text) RETURNS text LANGUAGE sql AS $$ SELECT 'vecdb.stores' $$;
GRANT USAGE ON SCHEMA store_test_evil TO PUBLIC;
SET LOCAL search_path = store_test_evil, pg_catalog, public;
SELECT is(jsonb_typeof('[1]') || ' ' || format('vecdb_data.%I', 'x'), 'object vecdb.stores',
	'(the shadowing functions win where this search_path reaches)');
SELECT is(pg_temp.error_as('store_test_writer', $$SELECT vecdb.upsert('docs', 'e', '[1,2,3]', '[1]')$$),
	'22023: metadata must be a JSON object, got array', 'upsert does not use a jsonb_typeof from the caller''s search_path');
SELECT is(pg_temp.value_as('store_test_writer', $$SELECT name FROM vecdb.create_store('safe', 2)$$), 'safe',
	'create_store (SECURITY DEFINER) does not use a format from the caller''s search_path');
SELECT has_table('vecdb', 'stores', 'the catalog is intact');
RESET search_path;

SELECT * FROM finish();
ROLLBACK;
