-- The store API (docs/store.md): named collections of vectors with metadata,
-- created, searched and dropped through functions, so that psql users and
-- the gateway get the same product.
--
-- A store is a row in vecdb.stores and a table vecdb_data.<name> with an
-- hnsw index for its metric and a GIN index on its metadata.  Store names
-- are validated identifiers (vecdb._validate_name) before they reach any SQL
-- text, and then only through format('%I'); values always travel as
-- parameters, filters included (vecdb._filter_predicate).
--
-- Rights.  Three roles carry what the gateway's scopes mean: vecdb_reader
-- (search, get, count, stats, list), vecdb_writer (+ create stores, upsert,
-- delete, sync), vecdb_admin (+ drop stores; backups in 60_backup.sql).
-- Reads and writes run with the caller's rights, through grants on the
-- store tables that create_store makes; only create_store and drop_store,
-- which make and drop tables owned by the extension's owner, are SECURITY
-- DEFINER.  EXECUTE is revoked from PUBLIC on everything here, so a role
-- holding none of the three can call nothing.  Every function pins
-- search_path and schema-qualifies what it uses, so a caller's search_path
-- cannot redirect it.

CREATE SCHEMA vecdb_data;
COMMENT ON SCHEMA vecdb_data IS 'one table per vecdb store (see vecdb.stores)';

CREATE TABLE vecdb.stores (
	name text PRIMARY KEY CHECK (name ~ '^[a-z_][a-z0-9_]{0,62}$'),
	dims integer NOT NULL CHECK (dims > 0),
	metric text NOT NULL CHECK (metric IN ('cosine', 'l2', 'inner_product', 'l1')),
	storage text NOT NULL DEFAULT 'vector' CHECK (storage IN ('vector', 'halfvec')),
	index_options jsonb NOT NULL DEFAULT '{}',
	embedding_provider text,
	embedding_model text,
	options jsonb NOT NULL DEFAULT '{}',
	created_at timestamptz NOT NULL DEFAULT now()
);
COMMENT ON TABLE vecdb.stores IS 'the vecdb stores: one row per table in schema vecdb_data';

-- The roles are cluster-wide and may exist already (another database of the
-- cluster created them); memberships make each role include the one below.
DO $roles$
DECLARE
	r record;
BEGIN
	FOR r IN SELECT * FROM (VALUES ('vecdb_reader', NULL),
								   ('vecdb_writer', 'vecdb_reader'),
								   ('vecdb_admin', 'vecdb_writer')) AS v(role, includes)
	LOOP
		IF NOT EXISTS (SELECT FROM pg_catalog.pg_roles WHERE rolname = r.role) THEN
			EXECUTE pg_catalog.format('CREATE ROLE %I NOLOGIN', r.role);
		END IF;
		IF r.includes IS NOT NULL AND NOT pg_catalog.pg_has_role(r.role, r.includes, 'MEMBER') THEN
			EXECUTE pg_catalog.format('GRANT %I TO %I', r.includes, r.role);
		END IF;
	END LOOP;
END
$roles$;

GRANT USAGE ON SCHEMA vecdb, vecdb_data TO vecdb_reader;
GRANT SELECT ON vecdb.stores TO vecdb_reader;

-- Internal helpers.  Their names start with an underscore; the reader role
-- may execute those the invoker-rights functions call.

-- a store, backup or model name, checked: it is used as an identifier
CREATE FUNCTION vecdb._validate_name(kind text, name text) RETURNS text
LANGUAGE plpgsql IMMUTABLE PARALLEL SAFE
SET search_path = pg_catalog, pg_temp
AS $$
BEGIN
	IF name IS NULL THEN
		RAISE EXCEPTION '% name must not be null', kind
			USING ERRCODE = 'null_value_not_allowed';
	END IF;
	IF name !~ '^[a-z_][a-z0-9_]{0,62}$' THEN
		RAISE EXCEPTION 'invalid % name "%": a name is 1 to 63 lower-case letters, digits and underscores, not starting with a digit (^[a-z_][a-z0-9_]{0,62}$)',
			kind, CASE WHEN length(name) > 80 THEN left(name, 80) || '...' ELSE name END
			USING ERRCODE = 'invalid_name';
	END IF;
	RETURN name;
END
$$;

-- the catalog row of an existing store
CREATE FUNCTION vecdb._store(name text) RETURNS vecdb.stores
LANGUAGE plpgsql STABLE PARALLEL SAFE
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
	s vecdb.stores;
BEGIN
	PERFORM vecdb._validate_name('store', _store.name);
	SELECT * INTO s FROM vecdb.stores st WHERE st.name = _store.name;
	IF NOT FOUND THEN
		RAISE EXCEPTION 'store "%" does not exist', _store.name
			USING ERRCODE = 'undefined_object', HINT = 'vecdb.list_stores() lists the stores.';
	END IF;
	RETURN s;
END
$$;

-- a vector on its way into store s (what names it in messages): present, of
-- the store's dimensions, and not zero under cosine, where its distance to
-- anything is undefined (and the hnsw index would not hold it)
CREATE FUNCTION vecdb._check_vector(s vecdb.stores, v @extschema@.vector, what text) RETURNS void
LANGUAGE plpgsql IMMUTABLE PARALLEL SAFE
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
	elements real[];
BEGIN
	IF v IS NULL THEN
		RAISE EXCEPTION '% must not be null', what USING ERRCODE = 'null_value_not_allowed';
	END IF;
	IF @extschema@.vector_dims(v) <> s.dims THEN
		RAISE EXCEPTION 'store "%" expects % dimensions, got %', s.name, s.dims, @extschema@.vector_dims(v)
			USING ERRCODE = 'data_exception';
	END IF;
	IF s.metric = 'cosine' THEN
		-- what the store will hold: a halfvec may round small elements to 0
		IF s.storage = 'halfvec' THEN
			elements := v::@extschema@.halfvec::real[];
		ELSE
			elements := v::real[];
		END IF;
		IF 0 = ALL (elements) THEN
			RAISE EXCEPTION 'store "%" uses cosine distance, which is undefined for a zero %', s.name, what
				USING ERRCODE = 'data_exception';
		END IF;
	ELSIF s.storage = 'halfvec' THEN
		-- raises 22003 for an element beyond halfvec's range, before any write
		PERFORM v::@extschema@.halfvec;
	END IF;
END
$$;

-- (Re)creates the table, indexes and grants of a store whose row is in
-- vecdb.stores and whose table does not exist (create_store, and restores in
-- 60_backup.sql).  The index names are left to PostgreSQL: S_embedding_idx,
-- S_metadata_idx and S_pkey when they fit in 63 bytes and are free, shortened
-- or numbered when not.
CREATE FUNCTION vecdb._create_store_table(name text) RETURNS void
LANGUAGE plpgsql VOLATILE
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
	s vecdb.stores := vecdb._store(_create_store_table.name);
	taken_by text;
	opclass text;
	with_options text[] := '{}';
	option text;
BEGIN
	-- tables, indexes and constraints share one namespace: store docs has an
	-- index docs_pkey, so a store docs_pkey cannot have its table
	SELECT CASE WHEN t.relname IS NOT NULL THEN format('index %s of store "%s"', c.relname, t.relname)
				ELSE pg_describe_object('pg_class'::regclass, c.oid, 0) END
	  INTO taken_by
	  FROM pg_class c
	  LEFT JOIN pg_index i ON i.indexrelid = c.oid
	  LEFT JOIN pg_class t ON t.oid = i.indrelid
	 WHERE c.oid = to_regclass(format('vecdb_data.%I', s.name));
	IF FOUND THEN
		RAISE EXCEPTION 'cannot create store "%": the name is taken by %', s.name, taken_by
			USING ERRCODE = 'duplicate_table', HINT = 'Choose another store name.';
	END IF;
	opclass := s.storage || CASE s.metric WHEN 'cosine' THEN '_cosine_ops' WHEN 'l2' THEN '_l2_ops'
										  WHEN 'inner_product' THEN '_ip_ops' WHEN 'l1' THEN '_l1_ops' END;
	-- integers only (create_store checked them), so they are safe as SQL text
	FOREACH option IN ARRAY ARRAY['m', 'ef_construction'] LOOP
		IF s.index_options ? option THEN
			with_options := with_options || format('%s = %s', option, (s.index_options ->> option)::integer);
		END IF;
	END LOOP;

	EXECUTE format($ddl$
		CREATE TABLE vecdb_data.%1$I (
			id text PRIMARY KEY CHECK (id <> ''),
			embedding @extschema@.%2$I(%3$s) NOT NULL %4$s,
			metadata jsonb NOT NULL DEFAULT '{}' CHECK (jsonb_typeof(metadata) = 'object'),
			content text,
			created_at timestamptz NOT NULL DEFAULT now(),
			updated_at timestamptz NOT NULL DEFAULT now())$ddl$,
		s.name, s.storage, s.dims,
		-- rows written with plain SQL keep the rule upsert enforces
		CASE WHEN s.metric = 'cosine' THEN 'CHECK (0 <> ANY (embedding::real[]))' ELSE '' END);
	EXECUTE format('CREATE INDEX ON vecdb_data.%I USING hnsw (embedding @extschema@.%I)%s',
				   s.name, opclass,
				   CASE WHEN cardinality(with_options) > 0
						THEN ' WITH (' || array_to_string(with_options, ', ') || ')' ELSE '' END);
	EXECUTE format('CREATE INDEX ON vecdb_data.%I USING gin (metadata)', s.name);
	EXECUTE format('GRANT SELECT ON vecdb_data.%I TO vecdb_reader', s.name);
	EXECUTE format('GRANT INSERT, UPDATE, DELETE ON vecdb_data.%I TO vecdb_writer', s.name);
END
$$;

-- The SQL predicate of a search filter (docs/store.md, "Filters"), over
-- table alias t.  The text holds no value from the filter: values go into
-- the arrays, which the query receives as parameters $3 (jsonb objects that
-- rows must contain), $4 (metadata keys) and $5 (numbers).  Errors name the
-- offending part as a path from "filter".
CREATE FUNCTION vecdb._filter_node(node jsonb, at text, INOUT objs jsonb[], INOUT keys text[],
								   INOUT nums numeric[], OUT predicate text)
LANGUAGE plpgsql IMMUTABLE PARALLEL SAFE
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
	operators CONSTANT text := 'A filter is a JSON object of conditions on metadata keys: {"key": value} for equality (containment for arrays and objects), or {"key": {"$op": value}} with $eq, $ne, $in, $nin, $gt, $gte, $lt, $lte or $exists; conditions combine with $and and $or (arrays of filters) and $not (a filter).';
	parts text[] := '{}';
	key text;
	val jsonb;
	op text;
	arg jsonb;
	child record;
	i integer;
	first integer;
BEGIN
	IF jsonb_typeof(node) IS DISTINCT FROM 'object' THEN
		RAISE EXCEPTION 'invalid filter at %: expected an object, got %', at, coalesce(jsonb_typeof(node), 'nothing')
			USING ERRCODE = 'invalid_parameter_value', HINT = operators;
	END IF;
	FOR key, val IN SELECT * FROM jsonb_each(node) LOOP
		IF key IN ('$and', '$or') THEN
			IF jsonb_typeof(val) <> 'array' OR jsonb_array_length(val) = 0 THEN
				RAISE EXCEPTION 'invalid filter at %.%: expected a non-empty array of filters', at, key
					USING ERRCODE = 'invalid_parameter_value', HINT = operators;
			END IF;
			DECLARE
				branches text[] := '{}';
			BEGIN
				FOR i IN 0 .. jsonb_array_length(val) - 1 LOOP
					SELECT * INTO child FROM vecdb._filter_node(val -> i, format('%s.%s[%s]', at, key, i), objs, keys, nums);
					objs := child.objs; keys := child.keys; nums := child.nums;
					branches := branches || child.predicate;
				END LOOP;
				parts := parts || ('(' || array_to_string(branches, CASE key WHEN '$and' THEN ' AND ' ELSE ' OR ' END) || ')');
			END;
		ELSIF key = '$not' THEN
			SELECT * INTO child FROM vecdb._filter_node(val, at || '.$not', objs, keys, nums);
			objs := child.objs; keys := child.keys; nums := child.nums;
			parts := parts || ('(NOT ' || child.predicate || ')');
		ELSIF left(key, 1) = '$' THEN
			RAISE EXCEPTION 'invalid filter at %: unknown operator "%" (operators other than $and, $or and $not apply to a key, as in {"price": {"$gt": 10}})', at, key
				USING ERRCODE = 'invalid_parameter_value', HINT = operators;
		ELSIF jsonb_typeof(val) = 'object' AND EXISTS (SELECT FROM jsonb_object_keys(val) k WHERE left(k, 1) = '$') THEN
			IF EXISTS (SELECT FROM jsonb_object_keys(val) k WHERE left(k, 1) <> '$') THEN
				RAISE EXCEPTION 'invalid filter at %.%: an object of operators cannot also hold keys', at, key
					USING ERRCODE = 'invalid_parameter_value', HINT = operators;
			END IF;
			FOR op, arg IN SELECT * FROM jsonb_each(val) LOOP
				CASE op
				WHEN '$eq', '$ne' THEN
					objs := objs || jsonb_build_object(key, arg);
					parts := parts || format(CASE op WHEN '$eq' THEN '(t.metadata @> $3[%s])' ELSE '(NOT t.metadata @> $3[%s])' END,
											 cardinality(objs));
				WHEN '$in', '$nin' THEN
					IF jsonb_typeof(arg) <> 'array' THEN
						RAISE EXCEPTION 'invalid filter at %.%.%: expected an array of values, got %', at, key, op, jsonb_typeof(arg)
							USING ERRCODE = 'invalid_parameter_value', HINT = operators;
					END IF;
					IF jsonb_array_length(arg) = 0 THEN
						-- nothing is in an empty list
						parts := parts || CASE op WHEN '$in' THEN 'false' ELSE 'true' END;
					ELSE
						first := cardinality(objs) + 1;
						objs := objs || ARRAY(SELECT jsonb_build_object(key, e)
												FROM jsonb_array_elements(arg) WITH ORDINALITY AS a(e, n) ORDER BY n);
						parts := parts || format(CASE op WHEN '$in' THEN '(t.metadata @> ANY ($3[%s:%s]))'
														 ELSE '(NOT t.metadata @> ANY ($3[%s:%s]))' END,
												 first, cardinality(objs));
					END IF;
				WHEN '$gt', '$gte', '$lt', '$lte' THEN
					IF jsonb_typeof(arg) <> 'number' THEN
						RAISE EXCEPTION 'invalid filter at %.%.%: expected a number, got %', at, key, op, jsonb_typeof(arg)
							USING ERRCODE = 'invalid_parameter_value', HINT = operators;
					END IF;
					keys := keys || key;
					nums := nums || arg::numeric;
					-- a key whose value is not a number does not match
					parts := parts || format('(CASE WHEN jsonb_typeof(t.metadata -> $4[%1$s]) = ''number'' THEN (t.metadata -> $4[%1$s])::numeric %2$s $5[%3$s] ELSE false END)',
											 cardinality(keys),
											 CASE op WHEN '$gt' THEN '>' WHEN '$gte' THEN '>=' WHEN '$lt' THEN '<' ELSE '<=' END,
											 cardinality(nums));
				WHEN '$exists' THEN
					IF jsonb_typeof(arg) <> 'boolean' THEN
						RAISE EXCEPTION 'invalid filter at %.%.$exists: expected true or false, got %', at, key, jsonb_typeof(arg)
							USING ERRCODE = 'invalid_parameter_value', HINT = operators;
					END IF;
					keys := keys || key;
					parts := parts || format(CASE WHEN arg::boolean THEN '(t.metadata ? $4[%s])' ELSE '(NOT t.metadata ? $4[%s])' END,
											 cardinality(keys));
				ELSE
					RAISE EXCEPTION 'invalid filter at %.%: unknown operator "%"', at, key, op
						USING ERRCODE = 'invalid_parameter_value', HINT = operators;
				END CASE;
			END LOOP;
		ELSE
			objs := objs || jsonb_build_object(key, val);
			parts := parts || format('(t.metadata @> $3[%s])', cardinality(objs));
		END IF;
	END LOOP;
	predicate := CASE cardinality(parts) WHEN 0 THEN 'true' ELSE array_to_string(parts, ' AND ') END;
END
$$;

CREATE FUNCTION vecdb._filter_predicate(filter jsonb, OUT predicate text, OUT objs jsonb[], OUT keys text[],
										OUT nums numeric[])
LANGUAGE sql IMMUTABLE PARALLEL SAFE
SET search_path = pg_catalog, pg_temp
AS $$
	SELECT f.predicate, f.objs, f.keys, f.nums
	  FROM vecdb._filter_node(filter, 'filter', '{}', '{}', '{}') f
$$;

-- flushes WAL up to everything inserted so far (src/store.c)
CREATE FUNCTION vecdb._flush_wal() RETURNS pg_lsn
	AS 'MODULE_PATHNAME', 'vecdb_flush_wal' LANGUAGE C VOLATILE STRICT PARALLEL UNSAFE;

-- Stores

CREATE FUNCTION vecdb.create_store(name text, dims integer, metric text DEFAULT 'cosine',
								   options jsonb DEFAULT '{}') RETURNS vecdb.stores
LANGUAGE plpgsql VOLATILE SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
	option_list CONSTANT text := 'The options are storage ("vector" or "halfvec"), m and ef_construction (hnsw index options, integers), embedding_provider and embedding_model (strings).';
	canonical_metric text;
	given jsonb := coalesce(create_store.options, '{}');
	storage text := 'vector';
	index_options jsonb := '{"m": 16, "ef_construction": 64}';
	provider text;
	model text;
	key text;
	val jsonb;
	s vecdb.stores;
BEGIN
	PERFORM vecdb._validate_name('store', create_store.name);
	IF dims IS NULL OR dims < 1 OR dims > 16000 THEN
		RAISE EXCEPTION 'dims must be between 1 and 16000, got %', coalesce(dims::text, 'null')
			USING ERRCODE = 'invalid_parameter_value';
	END IF;
	canonical_metric := CASE metric WHEN 'cosine' THEN 'cosine'
									WHEN 'euclidean' THEN 'l2' WHEN 'l2' THEN 'l2'
									WHEN 'inner_product' THEN 'inner_product'
									WHEN 'manhattan' THEN 'l1' WHEN 'l1' THEN 'l1' END;
	IF canonical_metric IS NULL THEN
		RAISE EXCEPTION 'unknown metric "%"', coalesce(metric, 'null')
			USING ERRCODE = 'invalid_parameter_value',
				  HINT = 'The metrics are cosine, euclidean (or l2), inner_product and manhattan (or l1).';
	END IF;
	IF jsonb_typeof(given) <> 'object' THEN
		RAISE EXCEPTION 'options must be a JSON object, got %', jsonb_typeof(given)
			USING ERRCODE = 'invalid_parameter_value', HINT = option_list;
	END IF;
	FOR key, val IN SELECT * FROM jsonb_each(given) LOOP
		CASE key
		WHEN 'storage' THEN
			IF val NOT IN ('"vector"', '"halfvec"') THEN
				RAISE EXCEPTION 'option storage must be "vector" or "halfvec", got %', val
					USING ERRCODE = 'invalid_parameter_value';
			END IF;
			storage := val ->> 0;
		WHEN 'm', 'ef_construction' THEN
			-- the index checks the ranges; here only that it is an integer
			IF jsonb_typeof(val) <> 'number' OR val::numeric <> trunc(val::numeric)
			   OR abs(val::numeric) > 2147483647 THEN
				RAISE EXCEPTION 'option % must be an integer, got %', key, val
					USING ERRCODE = 'invalid_parameter_value';
			END IF;
			index_options := index_options || jsonb_build_object(key, val::integer);
		WHEN 'embedding_provider', 'embedding_model' THEN
			IF jsonb_typeof(val) <> 'string' THEN
				RAISE EXCEPTION 'option % must be a string, got %', key, val
					USING ERRCODE = 'invalid_parameter_value';
			END IF;
			IF key = 'embedding_provider' THEN
				provider := val ->> 0;
			ELSE
				model := val ->> 0;
			END IF;
		ELSE
			RAISE EXCEPTION 'unknown option "%"', key
				USING ERRCODE = 'invalid_parameter_value', HINT = option_list;
		END CASE;
	END LOOP;

	-- the primary key makes a concurrent create_store of the same name wait,
	-- then find the name taken
	INSERT INTO vecdb.stores AS st (name, dims, metric, storage, index_options,
									embedding_provider, embedding_model, options)
	VALUES (create_store.name, dims, canonical_metric, storage, index_options, provider, model, given)
	ON CONFLICT DO NOTHING
	RETURNING * INTO s;
	IF NOT FOUND THEN
		RAISE EXCEPTION 'store "%" already exists', create_store.name
			USING ERRCODE = 'duplicate_object';
	END IF;
	PERFORM vecdb._create_store_table(create_store.name);
	RETURN s;
END
$$;

CREATE FUNCTION vecdb.drop_store(name text) RETURNS void
LANGUAGE plpgsql VOLATILE SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
	dropped text;
BEGIN
	PERFORM vecdb._validate_name('store', drop_store.name);
	-- the row lock makes a concurrent drop_store of the same store wait
	DELETE FROM vecdb.stores st WHERE st.name = drop_store.name RETURNING st.name INTO dropped;
	IF NOT FOUND THEN
		RAISE EXCEPTION 'store "%" does not exist', drop_store.name
			USING ERRCODE = 'undefined_object', HINT = 'vecdb.list_stores() lists the stores.';
	END IF;
	IF to_regclass(format('vecdb_data.%I', dropped)) IS NOT NULL THEN
		-- no CASCADE: a view someone built on the store makes this fail, and
		-- nothing is dropped
		EXECUTE format('DROP TABLE vecdb_data.%I', dropped);
	END IF;
END
$$;

CREATE FUNCTION vecdb.list_stores() RETURNS SETOF vecdb.stores
LANGUAGE sql STABLE PARALLEL SAFE
SET search_path = pg_catalog, pg_temp
AS $$
	SELECT * FROM vecdb.stores ORDER BY name
$$;

CREATE FUNCTION vecdb.store_stats(name text)
RETURNS TABLE (store text, count bigint, dims integer, metric text, storage text, compression text,
			   index_options jsonb, embedding_provider text, embedding_model text,
			   table_bytes bigint, index_bytes bigint, total_bytes bigint,
			   created_at timestamptz, last_write timestamptz)
LANGUAGE plpgsql STABLE PARALLEL SAFE
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
	s vecdb.stores := vecdb._store(store_stats.name);
	rel regclass := format('vecdb_data.%I', s.name)::regclass;
BEGIN
	-- dynamic SQL: the OUT parameters would shadow the column names here
	RETURN QUERY EXECUTE format($q$
		SELECT $1, count(*), $2, $3, $4, $5, $6, $7, $8,
			   pg_table_size($9), pg_indexes_size($9), pg_total_relation_size($9),
			   $10, max(t.updated_at)
		  FROM vecdb_data.%I t$q$, s.name)
	USING s.name, s.dims, s.metric, s.storage,
		  CASE s.storage WHEN 'halfvec' THEN 'float16' ELSE 'none' END,
		  s.index_options, s.embedding_provider, s.embedding_model, rel, s.created_at;
END
$$;

-- Vectors

CREATE FUNCTION vecdb.upsert(store text, id text, vector @extschema@.vector, metadata jsonb DEFAULT '{}',
							 content text DEFAULT NULL) RETURNS text
LANGUAGE plpgsql VOLATILE
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
	s vecdb.stores := vecdb._store(upsert.store);
	inserted boolean;
BEGIN
	IF upsert.id IS NULL THEN
		RAISE EXCEPTION 'id must not be null' USING ERRCODE = 'null_value_not_allowed';
	END IF;
	IF upsert.id = '' THEN
		RAISE EXCEPTION 'id must not be empty' USING ERRCODE = 'invalid_parameter_value';
	END IF;
	PERFORM vecdb._check_vector(s, upsert.vector, 'vector');
	IF upsert.metadata IS NOT NULL AND jsonb_typeof(upsert.metadata) <> 'object' THEN
		RAISE EXCEPTION 'metadata must be a JSON object, got %', jsonb_typeof(upsert.metadata)
			USING ERRCODE = 'invalid_parameter_value';
	END IF;
	-- A freshly inserted row has xmax 0; the new version of an updated row
	-- carries the lock ON CONFLICT DO UPDATE took, so its xmax is ours.
	EXECUTE format($q$
		INSERT INTO vecdb_data.%I AS t (id, embedding, metadata, content)
		VALUES ($1, $2, $3, $4)
		ON CONFLICT (id) DO UPDATE
		   SET embedding = excluded.embedding, metadata = excluded.metadata,
			   content = excluded.content, updated_at = now()
		RETURNING t.xmax = 0$q$, s.name)
	INTO inserted
	USING upsert.id, upsert.vector, coalesce(upsert.metadata, '{}'), upsert.content;
	RETURN CASE WHEN inserted THEN 'inserted' ELSE 'updated' END;
END
$$;

-- Every item is checked before anything is written, so a bad one names its
-- index and the batch writes nothing; then one INSERT writes them all.
CREATE FUNCTION vecdb.upsert_many(store text, items jsonb) RETURNS TABLE (inserted bigint, updated bigint)
LANGUAGE plpgsql VOLATILE
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
	s vecdb.stores := vecdb._store(upsert_many.store);
	-- An element is out of range when its conversion rounds to infinity:
	-- from 65520 on for halfvec (via real), from the float8 half-way
	-- between the largest real and 2^128 on for vector.  Magnitudes below
	-- 1e-300, which float8 refuses as underflows, are 0 in either type.
	limit_value numeric := CASE s.storage WHEN 'halfvec' THEN 65520 ELSE 1e39 END;
	float4_halfway CONSTANT float8 := 3.4028235677973366e38;
	-- below this, no element can round to infinity: the exact test is skipped
	safe_below numeric := CASE s.storage WHEN 'halfvec' THEN 65504 ELSE 3.4e38 END;
	problem record;
BEGIN
	IF items IS NULL THEN
		RAISE EXCEPTION 'items must not be null' USING ERRCODE = 'null_value_not_allowed';
	END IF;
	IF jsonb_typeof(items) <> 'array' THEN
		RAISE EXCEPTION 'items must be a JSON array of objects {"id", "vector", "metadata", "content"}, got %', jsonb_typeof(items)
			USING ERRCODE = 'invalid_parameter_value';
	END IF;

	-- One pass over each item's elements gathers what the checks need; the
	-- exact rounding tests run only for the rare items near a limit.  CASE
	-- tests in order, so each test may rely on the ones before it.
	SELECT n - 1 AS at, p[1] AS code, p[2] AS message INTO problem
	  FROM jsonb_array_elements(items) WITH ORDINALITY AS a(e, n)
	 CROSS JOIN LATERAL (
			SELECT count(*) AS length,
				   coalesce(bool_or(jsonb_typeof(x) <> 'number'), false) AS non_number,
				   max(abs(CASE WHEN jsonb_typeof(x) = 'number' THEN x::numeric END)) AS max_abs
			  FROM jsonb_array_elements(CASE WHEN jsonb_typeof(e -> 'vector') = 'array' THEN e -> 'vector' ELSE '[]' END) x
		   ) AS v
	 CROSS JOIN LATERAL (SELECT CASE
			WHEN jsonb_typeof(e) <> 'object' THEN
				ARRAY['22023', format('expected an object {"id", "vector", "metadata", "content"}, got %s', jsonb_typeof(e))]
			WHEN EXISTS (SELECT FROM jsonb_object_keys(e) k WHERE k NOT IN ('id', 'vector', 'metadata', 'content')) THEN
				ARRAY['22023', format('unknown key "%s" (the keys are id, vector, metadata and content)',
									  (SELECT min(k) FROM jsonb_object_keys(e) k WHERE k NOT IN ('id', 'vector', 'metadata', 'content')))]
			WHEN jsonb_typeof(e -> 'id') IS DISTINCT FROM 'string' THEN
				ARRAY['22023', format('"id" must be a string, got %s', coalesce(jsonb_typeof(e -> 'id'), 'nothing'))]
			WHEN e ->> 'id' = '' THEN
				ARRAY['22023', '"id" must not be empty']
			WHEN jsonb_typeof(e -> 'vector') IS DISTINCT FROM 'array' OR v.non_number THEN
				ARRAY['22023', '"vector" must be an array of numbers']
			WHEN v.length <> s.dims THEN
				ARRAY['22000', format('store "%s" expects %s dimensions, got %s', s.name, s.dims, v.length)]
			WHEN v.max_abs >= safe_below
				 AND EXISTS (SELECT FROM jsonb_array_elements(e -> 'vector') x
							  WHERE CASE WHEN abs(x::numeric) >= limit_value THEN true
										 WHEN abs(x::numeric) < 1e-300 THEN false
										 WHEN s.storage = 'halfvec' THEN abs(x::float8::real) >= limit_value
										 ELSE abs(x::float8) >= float4_halfway END) THEN
				ARRAY['22003', format('"vector" has an element out of range for %s', s.storage)]
			WHEN s.metric = 'cosine' AND v.max_abs < 1e-3 AND 0 = ALL (CASE s.storage
					WHEN 'halfvec' THEN ARRAY(SELECT CASE WHEN abs(x::numeric) < 1e-300 THEN 0 ELSE x::float8 END
												FROM jsonb_array_elements(e -> 'vector') x)::@extschema@.halfvec::real[]
					ELSE ARRAY(SELECT CASE WHEN abs(x::numeric) < 1e-300 THEN 0 ELSE x::float8 END
								 FROM jsonb_array_elements(e -> 'vector') x)::@extschema@.vector::real[] END) THEN
				ARRAY['22000', format('store "%s" uses cosine distance, which is undefined for a zero vector', s.name)]
			WHEN jsonb_typeof(e -> 'metadata') NOT IN ('object', 'null') THEN
				ARRAY['22023', format('"metadata" must be a JSON object, got %s', jsonb_typeof(e -> 'metadata'))]
			WHEN jsonb_typeof(e -> 'content') NOT IN ('string', 'null') THEN
				ARRAY['22023', format('"content" must be a string, got %s', jsonb_typeof(e -> 'content'))]
			END AS p) AS check_item
	 WHERE p IS NOT NULL
	 ORDER BY n
	 LIMIT 1;
	IF FOUND THEN
		RAISE EXCEPTION 'items[%]: %', problem.at, problem.message USING ERRCODE = problem.code;
	END IF;

	-- one INSERT cannot write a row twice
	SELECT d.id, d.places INTO problem
	  FROM (SELECT e ->> 'id' AS id, array_agg(n - 1 ORDER BY n) AS places
			  FROM jsonb_array_elements(items) WITH ORDINALITY AS a(e, n)
			 GROUP BY 1 HAVING count(*) > 1) d
	 ORDER BY d.places[1]
	 LIMIT 1;
	IF FOUND THEN
		RAISE EXCEPTION 'items[%] and items[%] have the same id "%"', problem.places[1], problem.places[2], problem.id
			USING ERRCODE = 'invalid_parameter_value';
	END IF;

	RETURN QUERY EXECUTE format($q$
		WITH written AS (
			INSERT INTO vecdb_data.%1$I AS t (id, embedding, metadata, content)
			SELECT e ->> 'id',
				   ARRAY(SELECT CASE WHEN abs(x::numeric) < 1e-300 THEN 0 ELSE x::float8 END
						   FROM jsonb_array_elements(e -> 'vector') WITH ORDINALITY AS v(x, i)
						  ORDER BY i)::@extschema@.%2$I,
				   coalesce(nullif(e -> 'metadata', 'null'), '{}'),
				   e ->> 'content'
			  FROM jsonb_array_elements($1) AS a(e)
			ON CONFLICT (id) DO UPDATE
			   SET embedding = excluded.embedding, metadata = excluded.metadata,
				   content = excluded.content, updated_at = now()
			RETURNING t.xmax = 0 AS fresh)
		SELECT count(*) FILTER (WHERE fresh), count(*) FILTER (WHERE NOT fresh) FROM written$q$,
		s.name, s.storage)
	USING items;
END
$$;

-- what get returns (a type of its own: its id column would clash with the
-- id parameter in RETURNS TABLE)
CREATE TYPE vecdb.item AS (id text, embedding @extschema@.vector, metadata jsonb, content text,
						   created_at timestamptz, updated_at timestamptz);
COMMENT ON TYPE vecdb.item IS 'a vector of a store as vecdb.get returns it (halfvec stores too give vector)';

CREATE FUNCTION vecdb.get(store text, id text) RETURNS SETOF vecdb.item
LANGUAGE plpgsql STABLE PARALLEL SAFE
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
	s vecdb.stores := vecdb._store(get.store);
BEGIN
	RETURN QUERY EXECUTE format($q$
		SELECT t.id, t.embedding::@extschema@.vector, t.metadata, t.content, t.created_at, t.updated_at
		  FROM vecdb_data.%I t WHERE t.id = $1$q$, s.name)
	USING get.id;
END
$$;

CREATE FUNCTION vecdb.delete(store text, id text) RETURNS boolean
LANGUAGE plpgsql VOLATILE
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
	s vecdb.stores := vecdb._store(delete.store);
	deleted integer;
BEGIN
	EXECUTE format('DELETE FROM vecdb_data.%I t WHERE t.id = $1', s.name) USING delete.id;
	GET DIAGNOSTICS deleted = ROW_COUNT;
	RETURN deleted > 0;
END
$$;

CREATE FUNCTION vecdb.delete_many(store text, ids text[]) RETURNS bigint
LANGUAGE plpgsql VOLATILE
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
	s vecdb.stores := vecdb._store(delete_many.store);
	deleted bigint;
BEGIN
	IF ids IS NULL THEN
		RAISE EXCEPTION 'ids must not be null' USING ERRCODE = 'null_value_not_allowed';
	END IF;
	EXECUTE format('DELETE FROM vecdb_data.%I t WHERE t.id = ANY ($1)', s.name) USING ids;
	GET DIAGNOSTICS deleted = ROW_COUNT;
	RETURN deleted;
END
$$;

CREATE FUNCTION vecdb.count(store text) RETURNS bigint
LANGUAGE plpgsql STABLE PARALLEL SAFE
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
	s vecdb.stores := vecdb._store(count.store);
	n bigint;
BEGIN
	EXECUTE format('SELECT count(*) FROM vecdb_data.%I', s.name) INTO n;
	RETURN n;
END
$$;

-- Search.  The nearest k rows come from the hnsw index (ORDER BY the
-- metric's operator, LIMIT k); with a filter, or more rows wanted than
-- ef_search keeps, the scan is iterative, so it goes on until k rows pass.
-- An iterative scan stops after hnsw.max_scan_tuples rows, so when it ends
-- with fewer than k the same statement orders the matching rows exactly
-- instead (the distance function, not the operator, so no index can serve
-- it): k rows come back whenever k rows match.
--
-- _search_prepare checks the arguments, builds that statement (parameters
-- $1 query, $2 k, $3-$5 the filter's values) and sets hnsw.ef_search and
-- hnsw.iterative_scan for it, transaction-locally: search and
-- explain_search, which run the statement, put the caller's values back
-- (an error rolls them back anyway).
CREATE FUNCTION vecdb._search_prepare(store text, query @extschema@.vector, k integer, filter jsonb,
									  ef_search integer, OUT sql text, OUT objs jsonb[], OUT keys text[],
									  OUT nums numeric[])
LANGUAGE plpgsql VOLATILE PARALLEL RESTRICTED
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
	s vecdb.stores := vecdb._store(_search_prepare.store);
	f record;
	op text;
	exact_distance text;
	score_expr text;
	query_param text;
BEGIN
	-- first, as it also loads the library that defines the hnsw.* settings
	PERFORM vecdb._check_vector(s, query, 'query');
	IF k IS NULL OR k < 1 OR k > 1000 THEN
		RAISE EXCEPTION 'k must be between 1 and 1000, got %', coalesce(k::text, 'null')
			USING ERRCODE = 'invalid_parameter_value';
	END IF;
	IF ef_search IS NOT NULL AND (ef_search < 1 OR ef_search > 1000) THEN
		RAISE EXCEPTION 'ef_search must be between 1 and 1000, got %', ef_search
			USING ERRCODE = 'invalid_parameter_value';
	END IF;
	SELECT * INTO f FROM vecdb._filter_predicate(coalesce(_search_prepare.filter, '{}'));
	objs := f.objs;
	keys := f.keys;
	nums := f.nums;

	op := CASE s.metric WHEN 'cosine' THEN '<=>' WHEN 'l2' THEN '<->'
						WHEN 'inner_product' THEN '<#>' ELSE '<+>' END;
	exact_distance := CASE s.metric
		WHEN 'cosine' THEN '@extschema@.cosine_distance(t.embedding, %1$s)'
		WHEN 'l2' THEN '@extschema@.l2_distance(t.embedding, %1$s)'
		WHEN 'inner_product' THEN '(- @extschema@.inner_product(t.embedding, %1$s))'
		ELSE '@extschema@.l1_distance(t.embedding, %1$s)' END;
	-- similarities in [0, 1], higher is nearer (docs/store.md, "Scores")
	score_expr := CASE s.metric
		WHEN 'cosine' THEN 'greatest(0, least(1, 1 - r.distance / 2))'
		WHEN 'inner_product' THEN '1 / (1 + exp(greatest(-700, least(700, r.distance))))'
		ELSE '1 / (1 + r.distance)' END;
	query_param := CASE s.storage WHEN 'halfvec' THEN '$1::@extschema@.halfvec' ELSE '$1' END;

	sql := format($q$
		WITH approximate AS (
			SELECT t.id, t.embedding OPERATOR(@extschema@.%1$s) %2$s AS distance, t.metadata, t.content
			  FROM vecdb_data.%3$I t
			 WHERE %4$s
			 ORDER BY t.embedding OPERATOR(@extschema@.%1$s) %2$s
			 LIMIT $2)
		SELECT r.id, r.distance, %6$s, r.metadata, r.content
		  FROM (SELECT * FROM approximate WHERE (SELECT count(*) FROM approximate) = $2
				UNION ALL
				(SELECT t.id, %5$s, t.metadata, t.content
				   FROM vecdb_data.%3$I t
				  WHERE %4$s AND (SELECT count(*) FROM approximate) < $2
				  ORDER BY 2
				  LIMIT $2)) r
		 ORDER BY r.distance, r.id$q$,
		op, query_param, s.name, f.predicate, format(exact_distance, query_param), score_expr);

	IF ef_search IS NOT NULL THEN
		PERFORM set_config('hnsw.ef_search', ef_search::text, true);
	END IF;
	IF _search_prepare.filter IS NOT NULL OR k > current_setting('hnsw.ef_search')::integer THEN
		PERFORM set_config('hnsw.iterative_scan', 'relaxed_order', true);
	END IF;
END
$$;

CREATE FUNCTION vecdb.search(store text, query @extschema@.vector, k integer DEFAULT 10,
							 filter jsonb DEFAULT NULL, ef_search integer DEFAULT NULL)
RETURNS TABLE (id text, distance double precision, score double precision, metadata jsonb, content text)
LANGUAGE plpgsql VOLATILE PARALLEL RESTRICTED
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
	saved_ef_search text;
	saved_iterative_scan text;
	p record;
BEGIN
	-- the library must be loaded for its settings to be read
	PERFORM @extschema@.vector_dims(query);
	saved_ef_search := current_setting('hnsw.ef_search');
	saved_iterative_scan := current_setting('hnsw.iterative_scan');
	SELECT * INTO p FROM vecdb._search_prepare(search.store, search.query, search.k, search.filter, search.ef_search);
	RETURN QUERY EXECUTE p.sql USING query, k, p.objs, p.keys, p.nums;
	PERFORM set_config('hnsw.ef_search', saved_ef_search, true);
	PERFORM set_config('hnsw.iterative_scan', saved_iterative_scan, true);
END
$$;

-- the plan of the statement search runs, as run (EXPLAIN ANALYZE without
-- timings, so the same data gives the same text)
CREATE FUNCTION vecdb.explain_search(store text, query @extschema@.vector, k integer DEFAULT 10,
									 filter jsonb DEFAULT NULL, ef_search integer DEFAULT NULL)
RETURNS SETOF text
LANGUAGE plpgsql VOLATILE PARALLEL RESTRICTED
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
	saved_ef_search text;
	saved_iterative_scan text;
	p record;
BEGIN
	PERFORM @extschema@.vector_dims(query);
	saved_ef_search := current_setting('hnsw.ef_search');
	saved_iterative_scan := current_setting('hnsw.iterative_scan');
	SELECT * INTO p FROM vecdb._search_prepare(explain_search.store, explain_search.query, explain_search.k,
												explain_search.filter, explain_search.ef_search);
	RETURN QUERY EXECUTE 'EXPLAIN (ANALYZE, COSTS OFF, TIMING OFF, SUMMARY OFF) ' || p.sql
		USING query, k, p.objs, p.keys, p.nums;
	PERFORM set_config('hnsw.ef_search', saved_ef_search, true);
	PERFORM set_config('hnsw.iterative_scan', saved_iterative_scan, true);
END
$$;

-- The WAL position up to which everything written so far is flushed to
-- disk.  A committed write is durable when its commit record's WAL is
-- flushed: at commit with synchronous_commit on, within a few hundred
-- milliseconds with it off; sync makes it now.
CREATE FUNCTION vecdb.sync(store text) RETURNS pg_lsn
LANGUAGE plpgsql VOLATILE
SET search_path = pg_catalog, pg_temp
AS $$
BEGIN
	PERFORM vecdb._store(sync.store);
	RETURN vecdb._flush_wal();
END
$$;

COMMENT ON FUNCTION vecdb.create_store(text, integer, text, jsonb) IS
	'creates a store: table vecdb_data.<name> with an hnsw index for the metric and a GIN index on metadata';
COMMENT ON FUNCTION vecdb.drop_store(text) IS 'drops a store and all its vectors';
COMMENT ON FUNCTION vecdb.list_stores() IS 'the stores, by name';
COMMENT ON FUNCTION vecdb.store_stats(text) IS 'row count, dimensions, metric, storage, sizes and last write of a store';
COMMENT ON FUNCTION vecdb.upsert(text, text, @extschema@.vector, jsonb, text) IS
	'inserts or replaces one vector by id; returns inserted or updated';
COMMENT ON FUNCTION vecdb.upsert_many(text, jsonb) IS
	'inserts or replaces a JSON array of {"id", "vector", "metadata", "content"} at once, all or nothing';
COMMENT ON FUNCTION vecdb.get(text, text) IS 'one vector of a store by id';
COMMENT ON FUNCTION vecdb.delete(text, text) IS 'deletes one vector by id; true if it existed';
COMMENT ON FUNCTION vecdb.delete_many(text, text[]) IS 'deletes vectors by id; returns how many existed';
COMMENT ON FUNCTION vecdb.count(text) IS 'the number of vectors in a store';
COMMENT ON FUNCTION vecdb.search(text, @extschema@.vector, integer, jsonb, integer) IS
	'the k nearest vectors of a store, optionally filtered on metadata, with distance and score';
COMMENT ON FUNCTION vecdb.explain_search(text, @extschema@.vector, integer, jsonb, integer) IS
	'the plan of the statement vecdb.search runs for these arguments, with the rows each step returned';
COMMENT ON FUNCTION vecdb.sync(text) IS 'flushes WAL; returns the position up to which every write so far is on disk';

-- Privileges: nothing for PUBLIC; each role gets its functions (and
-- inherits those of the roles below it).
REVOKE ALL ON FUNCTION vecdb._validate_name(text, text), vecdb._store(text),
	vecdb._check_vector(vecdb.stores, @extschema@.vector, text), vecdb._create_store_table(text),
	vecdb._filter_node(jsonb, text, jsonb[], text[], numeric[]), vecdb._filter_predicate(jsonb),
	vecdb._search_prepare(text, @extschema@.vector, integer, jsonb, integer), vecdb._flush_wal(),
	vecdb.create_store(text, integer, text, jsonb), vecdb.drop_store(text), vecdb.list_stores(),
	vecdb.store_stats(text), vecdb.upsert(text, text, @extschema@.vector, jsonb, text),
	vecdb.upsert_many(text, jsonb), vecdb.get(text, text), vecdb.delete(text, text),
	vecdb.delete_many(text, text[]), vecdb.count(text),
	vecdb.search(text, @extschema@.vector, integer, jsonb, integer),
	vecdb.explain_search(text, @extschema@.vector, integer, jsonb, integer), vecdb.sync(text)
	FROM PUBLIC;
GRANT EXECUTE ON FUNCTION vecdb._validate_name(text, text), vecdb._store(text),
	vecdb._check_vector(vecdb.stores, @extschema@.vector, text),
	vecdb._filter_node(jsonb, text, jsonb[], text[], numeric[]), vecdb._filter_predicate(jsonb),
	vecdb._search_prepare(text, @extschema@.vector, integer, jsonb, integer),
	vecdb.list_stores(), vecdb.store_stats(text), vecdb.get(text, text), vecdb.count(text),
	vecdb.search(text, @extschema@.vector, integer, jsonb, integer),
	vecdb.explain_search(text, @extschema@.vector, integer, jsonb, integer)
	TO vecdb_reader;
GRANT EXECUTE ON FUNCTION vecdb._flush_wal(),
	vecdb.create_store(text, integer, text, jsonb), vecdb.upsert(text, text, @extschema@.vector, jsonb, text),
	vecdb.upsert_many(text, jsonb), vecdb.delete(text, text), vecdb.delete_many(text, text[]),
	vecdb.sync(text)
	TO vecdb_writer;
GRANT EXECUTE ON FUNCTION vecdb.drop_store(text) TO vecdb_admin;
