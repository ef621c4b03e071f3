-- Store names (and those of backups and models) are identifiers matching
-- ^[a-z_][a-z0-9_]{0,62}$; anything else is refused with 42602 and the rule
-- in the message, by every function that takes a store name, before any SQL
-- is built from it.
BEGIN;
SELECT plan(37);

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

-- what an injected "drop table y" would drop
CREATE TABLE public.y (x int);

-- accepted
SELECT is(vecdb._validate_name('store', 'docs'), 'docs', 'a lower-case word is a name');
SELECT is(vecdb._validate_name('store', '_'), '_', 'a single underscore is a name');
SELECT is(vecdb._validate_name('store', 'docs_2024_v2'), 'docs_2024_v2', 'digits and underscores after the first character');
SELECT is(vecdb._validate_name('store', repeat('a', 63)), repeat('a', 63), '63 characters is a name');

-- refused, with the rule in the message
SELECT is(pg_temp.error_of($$SELECT vecdb._validate_name('store', 'x; drop table y')$$),
	'42602: invalid store name "x; drop table y": a name is 1 to 63 lower-case letters, digits and underscores, not starting with a digit (^[a-z_][a-z0-9_]{0,62}$)',
	'"x; drop table y" is refused with 42602 and the rule');
SELECT is(pg_temp.error_of($$SELECT vecdb._validate_name('backup', 'Docs')$$),
	'42602: invalid backup name "Docs": a name is 1 to 63 lower-case letters, digits and underscores, not starting with a digit (^[a-z_][a-z0-9_]{0,62}$)',
	'the message names the kind of name');
SELECT throws_ok($$SELECT vecdb._validate_name('store', '')$$, '42602', NULL, 'the empty string is refused');
SELECT throws_ok($$SELECT vecdb._validate_name('store', '1docs')$$, '42602', NULL, 'a leading digit is refused');
SELECT throws_ok($$SELECT vecdb._validate_name('store', repeat('a', 64))$$, '42602', NULL, '64 characters are refused');
SELECT throws_ok($$SELECT vecdb._validate_name('store', 'my-docs')$$, '42602', NULL, 'a hyphen is refused');
SELECT throws_ok($$SELECT vecdb._validate_name('store', 'my docs')$$, '42602', NULL, 'a space is refused');
SELECT throws_ok($$SELECT vecdb._validate_name('store', 'docs' || chr(10))$$, '42602', NULL, 'a trailing newline is refused');
SELECT throws_ok($$SELECT vecdb._validate_name('store', 'dócs')$$, '42602', NULL, 'a non-ASCII letter is refused');
SELECT throws_ok($$SELECT vecdb._validate_name('store', '"docs"')$$, '42602', NULL, 'a quoted identifier is refused');
SELECT throws_ok($$SELECT vecdb._validate_name('store', 'public.docs')$$, '42602', NULL, 'a qualified name is refused');
SELECT is(pg_temp.error_of($$SELECT vecdb._validate_name('store', NULL)$$),
	'22004: store name must not be null', 'a null name is 22004');
SELECT is(pg_temp.error_of(format('SELECT vecdb._validate_name(%L, %L)', 'store', repeat('x', 1000))),
	'42602: invalid store name "' || repeat('x', 80) || '...": a name is 1 to 63 lower-case letters, digits and underscores, not starting with a digit (^[a-z_][a-z0-9_]{0,62}$)',
	'a long bad name is shortened in the message');

-- every function taking a store name refuses a bad one
SELECT throws_ok($$SELECT vecdb.create_store('x; drop table y', 3)$$, '42602', NULL, 'create_store refuses a bad name');
SELECT throws_ok($$SELECT vecdb.create_store('Docs', 3)$$, '42602', NULL, 'create_store refuses upper case');
SELECT throws_ok($$SELECT vecdb.drop_store('x; drop table y')$$, '42602', NULL, 'drop_store refuses a bad name');
SELECT throws_ok($$SELECT * FROM vecdb.store_stats('x; drop table y')$$, '42602', NULL, 'store_stats refuses a bad name');
SELECT throws_ok($$SELECT vecdb.upsert('x; drop table y', 'a', '[1,2,3]')$$, '42602', NULL, 'upsert refuses a bad name');
SELECT throws_ok($$SELECT * FROM vecdb.upsert_many('x; drop table y', '[]')$$, '42602', NULL, 'upsert_many refuses a bad name');
SELECT throws_ok($$SELECT * FROM vecdb.get('x; drop table y', 'a')$$, '42602', NULL, 'get refuses a bad name');
SELECT throws_ok($$SELECT vecdb.delete('x; drop table y', 'a')$$, '42602', NULL, 'delete refuses a bad name');
SELECT throws_ok($$SELECT vecdb.delete_many('x; drop table y', '{a}')$$, '42602', NULL, 'delete_many refuses a bad name');
SELECT throws_ok($$SELECT vecdb.count('x; drop table y')$$, '42602', NULL, 'count refuses a bad name');
SELECT throws_ok($$SELECT * FROM vecdb.search('x; drop table y', '[1,2,3]')$$, '42602', NULL, 'search refuses a bad name');
SELECT throws_ok($$SELECT * FROM vecdb.explain_search('x; drop table y', '[1,2,3]')$$, '42602', NULL, 'explain_search refuses a bad name');
SELECT throws_ok($$SELECT vecdb.sync('x; drop table y')$$, '42602', NULL, 'sync refuses a bad name');
SELECT throws_ok($$SELECT vecdb.create_store(NULL, 3)$$, '22004', NULL, 'create_store refuses a null name');
SELECT throws_ok($$SELECT vecdb.count(NULL)$$, '22004', NULL, 'count refuses a null name');

-- a valid name of a store that does not exist is another error
SELECT is(pg_temp.error_of($$SELECT vecdb.count('no_such_store')$$),
	'42704: store "no_such_store" does not exist', 'an unknown store is 42704');

-- nothing was created or dropped by the attempts
SELECT is((SELECT count(*) FROM vecdb.stores WHERE name !~ '^[a-z_][a-z0-9_]{0,62}$'), 0::bigint,
	'no store with a bad name exists');
SELECT has_table('public', 'y', 'table y survived every injection attempt');
SELECT is((SELECT count(*) FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
			WHERE n.nspname = 'vecdb_data' AND c.relname !~ '^[a-z_][a-z0-9_]*$'), 0::bigint,
	'no relation with a bad name exists in vecdb_data');

-- the catalog refuses a bad name even when written directly
SELECT throws_ok($$INSERT INTO vecdb.stores (name, dims, metric) VALUES ('Bad Name', 3, 'l2')$$, '23514', NULL,
	'vecdb.stores checks names itself');

SELECT * FROM finish();
ROLLBACK;
