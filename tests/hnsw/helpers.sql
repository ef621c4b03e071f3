-- Helpers for tests/hnsw/test_hnsw.sh, loaded into every test database after
-- CREATE EXTENSION vecdb.  Data is a pure function of (seed, row, element), so
-- every run, every cluster and every session sees the same vectors.

CREATE SCHEMA hnsw_test;

-- a uniform number in (0, 1), from a hash of (seed, i, j)
CREATE FUNCTION hnsw_test.u(seed int, i int, j int) RETURNS float8
	LANGUAGE sql IMMUTABLE STRICT PARALLEL SAFE
	AS $$ SELECT ((hashint8((seed::int8 * 1000003 + i) * 8191 + j) & 2147483647)::float8 + 0.5) / 2147483648.0 $$;

-- a standard normal number (Box-Muller)
CREATE FUNCTION hnsw_test.n(seed int, i int, j int) RETURNS float8
	LANGUAGE sql IMMUTABLE STRICT PARALLEL SAFE
	AS $$ SELECT sqrt(-2.0 * ln(hnsw_test.u(seed, i, 2 * j))) * cos(2.0 * pi() * hnsw_test.u(seed, i, 2 * j + 1)) $$;

-- vector number i of a data set: dim standard normal components
CREATE FUNCTION hnsw_test.gauss(seed int, i int, dim int) RETURNS float4[]
	LANGUAGE sql IMMUTABLE STRICT PARALLEL SAFE
	AS $$ SELECT array_agg(hnsw_test.n(seed, i, j)::float4 ORDER BY j) FROM generate_series(1, dim) j $$;

-- vector number i near a 16-dimensional subspace: element j is latent
-- coordinate j % 16 plus 5% noise (a low intrinsic dimension, as embeddings have)
CREATE FUNCTION hnsw_test.embed(seed int, i int, dim int) RETURNS float4[]
	LANGUAGE sql IMMUTABLE STRICT PARALLEL SAFE
	AS $$ SELECT array_agg((hnsw_test.u(seed, i, j % 16) + 0.05 * hnsw_test.u(seed + 1, i, j))::float4 ORDER BY j)
		FROM generate_series(0, dim - 1) j $$;

-- bit string number i: nbits (a multiple of 32) independent fair bits
CREATE FUNCTION hnsw_test.bits(seed int, i int, nbits int) RETURNS varbit
	LANGUAGE sql IMMUTABLE STRICT PARALLEL SAFE
	AS $$ SELECT string_agg(hashint8((seed::int8 * 1000003 + i) * 8191 + w)::bit(32)::text, '' ORDER BY w)::varbit
		FROM generate_series(1, nbits / 32) w $$;

-- plan_uses(idx, query): the plan of query (under the current settings) has an
-- index scan of idx; raises an error showing the plan when it has not
CREATE FUNCTION hnsw_test.plan_uses(idx text, query text) RETURNS boolean
	LANGUAGE plpgsql AS $fn$
DECLARE
	plan text := '';
	line text;
BEGIN
	FOR line IN EXECUTE 'EXPLAIN (COSTS OFF) ' || query LOOP
		plan := plan || line || E'\n';
	END LOOP;
	IF plan !~ ('Index (Only )?Scan using ' || idx || ' ') THEN
		RAISE EXCEPTION 'the plan does not scan index %: %', idx, plan;
	END IF;
	RETURN true;
END $fn$;

-- recall(tbl, idx, queries, op, k, ef_search): tbl(id int, v) has the hnsw
-- index idx on v, queries(id int, v) holds the query vectors.  For each query
-- the exact k-th distance comes from a sequential scan; a row of the index
-- scan (ORDER BY v op q LIMIT k) is a hit when its distance is at most that,
-- so ties count, as they must for bit.  Returns the mean recall, the worst
-- query's hits and the rows the index scans returned in all (k per query when
-- nothing is lost).
CREATE FUNCTION hnsw_test.recall(tbl regclass, idx text, queries regclass, op text, k int DEFAULT 10, ef_search int DEFAULT 100,
	OUT recall float8, OUT worst bigint, OUT returned bigint)
	LANGUAGE plpgsql AS $fn$
DECLARE
	approx text;
BEGIN
	PERFORM set_config('client_min_messages', 'warning', true);
	PERFORM set_config('max_parallel_workers_per_gather', '0', true);
	PERFORM set_config('enable_seqscan', 'on', true);
	PERFORM set_config('enable_indexscan', 'off', true);
	PERFORM set_config('enable_bitmapscan', 'off', true);
	DROP TABLE IF EXISTS pg_temp.hnsw_truth;
	EXECUTE format($$CREATE TEMP TABLE hnsw_truth AS
		SELECT q.id, (SELECT max(s.d) FROM (SELECT t.v %2$s q.v AS d FROM %1$s t ORDER BY 1 LIMIT %4$s) s) AS kth
		FROM %3$s q$$, tbl, op, queries, k);

	PERFORM set_config('enable_seqscan', 'off', true);
	PERFORM set_config('enable_indexscan', 'on', true);
	PERFORM set_config('hnsw.ef_search', ef_search::text, true);
	PERFORM set_config('hnsw.iterative_scan', 'off', true);
	approx := format($$SELECT q.id, count(DISTINCT r.id) FILTER (WHERE r.d <= tr.kth + 1e-9) AS hits, count(r.id) AS n
		FROM %3$s q JOIN hnsw_truth tr USING (id)
		LEFT JOIN LATERAL (SELECT t.id, t.v %2$s q.v AS d FROM %1$s t ORDER BY t.v %2$s q.v LIMIT %4$s) r ON true
		GROUP BY q.id$$, tbl, op, queries, k);
	PERFORM hnsw_test.plan_uses(idx, approx);
	EXECUTE format('SELECT sum(hits)::float8 / (%s * count(*)), min(hits), sum(n) FROM (%s) x', k, approx)
		INTO recall, worst, returned;
END $fn$;

-- lost(tbl, idx, op, ef_search): the rows of tbl(id int, v) that an index scan
-- of idx for their own vector (ORDER BY v op own LIMIT 1) does not return
-- first, neither the row itself nor another at distance 0: how many, and
-- which (up to 10)
CREATE FUNCTION hnsw_test.lost(tbl regclass, idx text, op text DEFAULT '<->', ef_search int DEFAULT 100,
	OUT lost bigint, OUT sample text)
	LANGUAGE plpgsql AS $fn$
DECLARE
	q text;
BEGIN
	PERFORM set_config('max_parallel_workers_per_gather', '0', true);
	PERFORM set_config('enable_seqscan', 'off', true);
	PERFORM set_config('enable_bitmapscan', 'off', true);
	PERFORM set_config('hnsw.ef_search', ef_search::text, true);
	PERFORM set_config('hnsw.iterative_scan', 'off', true);
	q := format($$SELECT c.id, n.id AS got, n.d FROM %1$s c
		LEFT JOIN LATERAL (SELECT c2.id, c2.v %2$s c.v AS d FROM %1$s c2 ORDER BY c2.v %2$s c.v LIMIT 1) n ON true$$, tbl, op);
	PERFORM hnsw_test.plan_uses(idx, q);
	EXECUTE format($$SELECT count(*), string_agg(format('id %%s got %%s at %%s', id, coalesce(got::text, 'nothing'), d), ', ')
		FILTER (WHERE rn <= 10)
		FROM (SELECT *, row_number() OVER (ORDER BY id) rn FROM (%s) x WHERE got IS NULL OR (got <> id AND d <> 0)) y$$, q)
		INTO lost, sample;
END $fn$;

-- problems(idx): what vecdb.hnsw_verify reports, on one line ('clean': nothing)
CREATE FUNCTION hnsw_test.problems(idx regclass) RETURNS text
	LANGUAGE plpgsql AS $fn$
DECLARE
	n bigint;
	first text;
BEGIN
	SELECT count(*), string_agg(p, ' | ') FILTER (WHERE rn <= 5) INTO n, first
	FROM (SELECT p, row_number() OVER () rn FROM vecdb.hnsw_verify(idx) p) x;
	IF n = 0 THEN
		RETURN 'clean';
	END IF;
	RETURN n || ' problem(s), first: ' || first;
END $fn$;

-- free slots an hnsw index holds for reuse: the metapage's list (nfree) plus
-- the chain through free slots (chain_length), read from the metapage with
-- pageinspect at the offsets of HnswMetaPageData (extension/src/hnsw.h):
-- contents start at byte 24; nfree is at 36, chain_length at 40 + 4 * 1500 + 4
CREATE EXTENSION IF NOT EXISTS pageinspect;
CREATE FUNCTION hnsw_test.le32(p bytea, off int) RETURNS bigint
LANGUAGE sql IMMUTABLE AS $$
    SELECT get_byte(p, off)::bigint + 256 * get_byte(p, off + 1) +
           65536 * get_byte(p, off + 2) + 16777216::bigint * get_byte(p, off + 3)
$$;
CREATE FUNCTION hnsw_test.free_slots(idx regclass) RETURNS bigint
LANGUAGE sql AS $$
    SELECT hnsw_test.le32(p, 24 + 36) + hnsw_test.le32(p, 24 + 40 + 4 * 1500 + 4)
      FROM get_raw_page(idx::text, 0) p
$$;
