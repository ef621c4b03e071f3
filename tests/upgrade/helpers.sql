-- Helpers for tests/upgrade/test_upgrade.sh, loaded into its databases after
-- CREATE EXTENSION vecdb.  Data is a pure function of (seed, row, element), so
-- the databases of one run, and every run, see the same vectors.

CREATE SCHEMA upgrade_test;
GRANT USAGE ON SCHEMA upgrade_test TO PUBLIC;

-- a number in [-1, 1), from a hash of (seed, i, j)
CREATE FUNCTION upgrade_test.u(seed int, i int, j int) RETURNS float8
	LANGUAGE sql IMMUTABLE STRICT PARALLEL SAFE
	AS $$ SELECT (hashint8((seed::int8 * 1000003 + i) * 8191 + j) & 2147483647)::float8 / 1073741824.0 - 1.0 $$;

-- vector number i of a data set: dim elements
CREATE FUNCTION upgrade_test.vec(seed int, i int, dim int) RETURNS float4[]
	LANGUAGE sql IMMUTABLE STRICT PARALLEL SAFE
	AS $$ SELECT array_agg(upgrade_test.u(seed, i, j)::float4 ORDER BY j) FROM generate_series(1, dim) j $$;

-- bit string number i of nbits (a multiple of 32) bits
CREATE FUNCTION upgrade_test.bits(seed int, i int, nbits int) RETURNS varbit
	LANGUAGE sql IMMUTABLE STRICT PARALLEL SAFE
	AS $$ SELECT string_agg(hashint8((seed::int8 * 1000003 + i) * 8191 + w)::bit(32)::text, '' ORDER BY w)::varbit
		FROM generate_series(1, nbits / 32) w $$;

-- uses_index(idx, query): the plan of query (under the current settings)
-- scans index idx; raises an error showing the plan when it does not
CREATE FUNCTION upgrade_test.uses_index(idx text, query text) RETURNS boolean
	LANGUAGE plpgsql AS $fn$
DECLARE
	plan text := '';
	line text;
BEGIN
	FOR line IN EXECUTE 'EXPLAIN (COSTS OFF) ' || query LOOP
		plan := plan || line || E'\n';
	END LOOP;
	IF plan !~ ('Index Scan using ' || idx || ' ') THEN
		RAISE EXCEPTION 'the plan does not scan %: %', idx, plan;
	END IF;
	RETURN true;
END
$fn$;

-- config_rows(): every row of every table the extension marks for pg_dump
-- (pg_extension_config_dump), as a count and a digest per table
CREATE FUNCTION upgrade_test.config_rows() RETURNS TABLE (tbl text, row_count bigint, digest text)
	LANGUAGE plpgsql AS $fn$
DECLARE
	t regclass;
BEGIN
	FOR t IN SELECT unnest(extconfig)::regclass FROM pg_extension WHERE extname = 'vecdb' LOOP
		tbl := t::text;
		EXECUTE format('SELECT count(*), md5(coalesce(string_agg(r::text, E''\n'' ORDER BY r::text), '''')) FROM %s r', t)
			INTO row_count, digest;
		RETURN NEXT;
	END LOOP;
END
$fn$;
