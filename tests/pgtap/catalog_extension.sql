-- The vecdb extension as a whole: its schema and vecdb.active_kernel(), the
-- complete lists of its member objects (so that adding a function, operator,
-- cast, type, table or schema without adding it here fails), and what every
-- function must be: in C, strict, immutable (with listed exceptions) and
-- parallel safe; in SQL or PL/pgSQL (the store, backup and auth pieces),
-- declared as listed below, with a pinned search_path, and not executable
-- by PUBLIC.
-- The per-type details are in catalog_vector.sql, catalog_halfvec.sql and
-- catalog_bit.sql; the store API's behaviour in store_*.sql.
BEGIN;
SELECT plan(25);

-- every object that belongs to the extension (dropped at ROLLBACK)
CREATE TEMP VIEW vecdb_member AS
SELECT d.classid, d.objid, d.objsubid
  FROM pg_depend d
 WHERE d.refclassid = 'pg_extension'::regclass
   AND d.refobjid = (SELECT oid FROM pg_extension WHERE extname = 'vecdb')
   AND d.deptype = 'e';

CREATE TEMP VIEW vecdb_function AS
SELECT p.*, format('%I.%I(%s)', n.nspname, p.proname,
                   pg_get_function_identity_arguments(p.oid)) AS signature
  FROM vecdb_member m
  JOIN pg_proc p ON m.classid = 'pg_proc'::regclass AND p.oid = m.objid
  JOIN pg_namespace n ON n.oid = p.pronamespace;

-- the extension and its own schema
SELECT has_extension('public', 'vecdb', 'Extension vecdb should be installed in schema public');
SELECT is(
    (SELECT extversion FROM pg_extension WHERE extname = 'vecdb'),
    (SELECT default_version FROM pg_available_extensions WHERE name = 'vecdb'),
    'the installed vecdb is the default version'
);
SELECT has_schema('vecdb', 'Schema vecdb should exist');

-- vecdb.active_kernel()
SELECT has_function('vecdb', 'active_kernel', ARRAY[]::name[]);
SELECT function_returns('vecdb', 'active_kernel', ARRAY[]::name[], 'text');
SELECT volatility_is('vecdb', 'active_kernel', ARRAY[]::name[], 'stable');
SELECT is_strict('vecdb', 'active_kernel', ARRAY[]::name[]);
SELECT ok(length(vecdb.active_kernel()) > 0, 'vecdb.active_kernel() names the kernels in use');

-- complete member lists

SELECT results_eq(
    $$SELECT classid::regclass::text, count(*)::int FROM vecdb_member GROUP BY 1 ORDER BY 1$$,
    $$VALUES ('pg_am', 1), ('pg_cast', 14), ('pg_class', 8), ('pg_namespace', 4), ('pg_opclass', 12), ('pg_operator', 30),
             ('pg_opfamily', 12), ('pg_proc', 125), ('pg_type', 3)$$,
    'the extension owns 1 access method, 14 casts, 8 tables, 4 schemas, 12 operator classes and families, 30 operators, 125 functions, 3 types'
);

SELECT set_eq(
    'SELECT signature FROM vecdb_function',
    ARRAY[
        -- 00_header.sql
        'vecdb.active_kernel()',
        -- 10_vector.sql
        'public.vector_in(cstring, oid, integer)',
        'public.vector_out(vector)',
        'public.vector_typmod_in(cstring[])',
        'public.vector_recv(internal, oid, integer)',
        'public.vector_send(vector)',
        'public.l2_distance(vector, vector)',
        'public.inner_product(vector, vector)',
        'public.cosine_distance(vector, vector)',
        'public.l1_distance(vector, vector)',
        'public.vector_dims(vector)',
        'public.vector_norm(vector)',
        'public.l2_normalize(vector)',
        'public.binary_quantize(vector)',
        'public.subvector(vector, integer, integer)',
        'public.vector_l2_squared_distance(vector, vector)',
        'public.vector_negative_inner_product(vector, vector)',
        'public.vector_add(vector, vector)',
        'public.vector_sub(vector, vector)',
        'public.vector_mul(vector, vector)',
        'public.vector_concat(vector, vector)',
        'public.vector_lt(vector, vector)',
        'public.vector_le(vector, vector)',
        'public.vector_eq(vector, vector)',
        'public.vector_ne(vector, vector)',
        'public.vector_ge(vector, vector)',
        'public.vector_gt(vector, vector)',
        'public.vector_cmp(vector, vector)',
        'public.vector_accum(double precision[], vector)',
        'public.vector_combine(double precision[], double precision[])',
        'public.vector_avg(double precision[])',
        'public.vector_sum(double precision[])',
        'public.avg(vector)',
        'public.sum(vector)',
        'public.vector(vector, integer, boolean)',
        'public.array_to_vector(integer[], integer, boolean)',
        'public.array_to_vector(real[], integer, boolean)',
        'public.array_to_vector(double precision[], integer, boolean)',
        'public.array_to_vector(numeric[], integer, boolean)',
        'public.vector_to_float4(vector, integer, boolean)',
        -- 20_halfvec.sql
        'public.halfvec_in(cstring, oid, integer)',
        'public.halfvec_out(halfvec)',
        'public.halfvec_typmod_in(cstring[])',
        'public.halfvec_recv(internal, oid, integer)',
        'public.halfvec_send(halfvec)',
        'public.l2_distance(halfvec, halfvec)',
        'public.inner_product(halfvec, halfvec)',
        'public.cosine_distance(halfvec, halfvec)',
        'public.l1_distance(halfvec, halfvec)',
        'public.vector_dims(halfvec)',
        'public.l2_norm(halfvec)',
        'public.l2_normalize(halfvec)',
        'public.binary_quantize(halfvec)',
        'public.subvector(halfvec, integer, integer)',
        'public.halfvec_l2_squared_distance(halfvec, halfvec)',
        'public.halfvec_negative_inner_product(halfvec, halfvec)',
        'public.halfvec_add(halfvec, halfvec)',
        'public.halfvec_sub(halfvec, halfvec)',
        'public.halfvec_mul(halfvec, halfvec)',
        'public.halfvec_concat(halfvec, halfvec)',
        'public.halfvec_lt(halfvec, halfvec)',
        'public.halfvec_le(halfvec, halfvec)',
        'public.halfvec_eq(halfvec, halfvec)',
        'public.halfvec_ne(halfvec, halfvec)',
        'public.halfvec_ge(halfvec, halfvec)',
        'public.halfvec_gt(halfvec, halfvec)',
        'public.halfvec_cmp(halfvec, halfvec)',
        'public.halfvec_accum(double precision[], halfvec)',
        'public.halfvec_avg(double precision[])',
        'public.halfvec_sum(double precision[])',
        'public.avg(halfvec)',
        'public.sum(halfvec)',
        'public.halfvec(halfvec, integer, boolean)',
        'public.halfvec_to_vector(halfvec, integer, boolean)',
        'public.vector_to_halfvec(vector, integer, boolean)',
        'public.array_to_halfvec(integer[], integer, boolean)',
        'public.array_to_halfvec(real[], integer, boolean)',
        'public.array_to_halfvec(double precision[], integer, boolean)',
        'public.array_to_halfvec(numeric[], integer, boolean)',
        'public.halfvec_to_float4(halfvec, integer, boolean)',
        -- 30_bit.sql
        'public.hamming_distance(bit, bit)',
        'public.jaccard_distance(bit, bit)',
        -- 40_hnsw.sql
        'public.hnswhandler(internal)',
        'vecdb.hnsw_verify(index regclass)',
        -- 50_store.sql
        'vecdb._validate_name(kind text, name text)',
        'vecdb._store(name text)',
        'vecdb._check_vector(s vecdb.stores, v vector, what text)',
        'vecdb._create_store_table(name text)',
        'vecdb._filter_node(node jsonb, at text, INOUT objs jsonb[], INOUT keys text[], INOUT nums numeric[], OUT predicate text)',
        'vecdb._filter_predicate(filter jsonb, OUT predicate text, OUT objs jsonb[], OUT keys text[], OUT nums numeric[])',
        'vecdb._search_prepare(store text, query vector, k integer, filter jsonb, ef_search integer, OUT sql text, OUT objs jsonb[], OUT keys text[], OUT nums numeric[])',
        'vecdb._flush_wal()',
        'vecdb.create_store(name text, dims integer, metric text, options jsonb)',
        'vecdb.drop_store(name text)',
        'vecdb.list_stores()',
        'vecdb.store_stats(name text)',
        'vecdb.upsert(store text, id text, vector vector, metadata jsonb, content text)',
        'vecdb.upsert_many(store text, items jsonb)',
        'vecdb.get(store text, id text)',
        'vecdb.delete(store text, id text)',
        'vecdb.delete_many(store text, ids text[])',
        'vecdb.count(store text)',
        'vecdb.search(store text, query vector, k integer, filter jsonb, ef_search integer)',
        'vecdb.explain_search(store text, query vector, k integer, filter jsonb, ef_search integer)',
        'vecdb.sync(store text)',
        -- 60_backup.sql
        'vecdb._export_line(id text, embedding text, metadata jsonb, content text)',
        'vecdb._checksum_step(state bytea, line text)',
        'vecdb._checksum_final(state bytea)',
        'vecdb._checksum_agg(text)',
        'vecdb._checksum(tbl regclass)',
        'vecdb._backup(name text)',
        'vecdb._import_row(s vecdb.stores, line text, OUT id text, OUT embedding text, OUT metadata jsonb, OUT content text)',
        'vecdb.backup_store(store text, backup_name text)',
        'vecdb.restore_store(backup_name text, new_store text)',
        'vecdb.drop_backup(name text)',
        'vecdb.list_backups(of_store text)',
        'vecdb.store_checksum(store text)',
        'vecdb.export_store(store text)',
        'vecdb.import_store(store text, jsonl text)',
        -- 70_auth.sql
        'vecdb_auth.notify_revoked()',
        'vecdb_auth.notify_keys()',
        'vecdb_auth.revoke_family(p_family text)',
        'vecdb_auth.rotate_refresh_token(p_id text, p_new_id text, p_new_hash text, p_scope text, p_expires_at timestamp with time zone)',
        'vecdb_auth.use_authorization_code(p_code_hash text, p_family text)',
        'vecdb_auth.prune(p_key_grace interval)'
    ],
    'the functions owned by vecdb are exactly the tested ones'
);

SELECT set_eq(
    $$SELECT o.oid::regoperator::text AS operator, o.oprresult::regtype::text AS result,
             o.oprcode::regprocedure::text AS function,
             nullif(o.oprcom, 0)::regoperator::text AS commutator,
             nullif(o.oprnegate, 0)::regoperator::text AS negator,
             o.oprrest::regproc::text AS restrict, o.oprjoin::regproc::text AS join
        FROM vecdb_member m JOIN pg_operator o ON m.classid = 'pg_operator'::regclass AND o.oid = m.objid$$,
    $$VALUES
             ('<->(vector,vector)', 'double precision', 'l2_distance(vector,vector)', '<->(vector,vector)', NULL, '-', '-'),
             ('<#>(vector,vector)', 'double precision', 'vector_negative_inner_product(vector,vector)', '<#>(vector,vector)', NULL, '-', '-'),
             ('<=>(vector,vector)', 'double precision', 'cosine_distance(vector,vector)', '<=>(vector,vector)', NULL, '-', '-'),
             ('<+>(vector,vector)', 'double precision', 'l1_distance(vector,vector)', '<+>(vector,vector)', NULL, '-', '-'),
             ('+(vector,vector)', 'vector', 'vector_add(vector,vector)', '+(vector,vector)', NULL, '-', '-'),
             ('-(vector,vector)', 'vector', 'vector_sub(vector,vector)', NULL, NULL, '-', '-'),
             ('*(vector,vector)', 'vector', 'vector_mul(vector,vector)', '*(vector,vector)', NULL, '-', '-'),
             ('||(vector,vector)', 'vector', 'vector_concat(vector,vector)', NULL, NULL, '-', '-'),
             ('<(vector,vector)', 'boolean', 'vector_lt(vector,vector)', '>(vector,vector)', '>=(vector,vector)', 'scalarltsel', 'scalarltjoinsel'),
             ('<=(vector,vector)', 'boolean', 'vector_le(vector,vector)', '>=(vector,vector)', '>(vector,vector)', 'scalarlesel', 'scalarlejoinsel'),
             ('=(vector,vector)', 'boolean', 'vector_eq(vector,vector)', '=(vector,vector)', '<>(vector,vector)', 'eqsel', 'eqjoinsel'),
             ('<>(vector,vector)', 'boolean', 'vector_ne(vector,vector)', '<>(vector,vector)', '=(vector,vector)', 'neqsel', 'neqjoinsel'),
             ('>=(vector,vector)', 'boolean', 'vector_ge(vector,vector)', '<=(vector,vector)', '<(vector,vector)', 'scalargesel', 'scalargejoinsel'),
             ('>(vector,vector)', 'boolean', 'vector_gt(vector,vector)', '<(vector,vector)', '<=(vector,vector)', 'scalargtsel', 'scalargtjoinsel'),
             ('<->(halfvec,halfvec)', 'double precision', 'l2_distance(halfvec,halfvec)', '<->(halfvec,halfvec)', NULL, '-', '-'),
             ('<#>(halfvec,halfvec)', 'double precision', 'halfvec_negative_inner_product(halfvec,halfvec)', '<#>(halfvec,halfvec)', NULL, '-', '-'),
             ('<=>(halfvec,halfvec)', 'double precision', 'cosine_distance(halfvec,halfvec)', '<=>(halfvec,halfvec)', NULL, '-', '-'),
             ('<+>(halfvec,halfvec)', 'double precision', 'l1_distance(halfvec,halfvec)', '<+>(halfvec,halfvec)', NULL, '-', '-'),
             ('+(halfvec,halfvec)', 'halfvec', 'halfvec_add(halfvec,halfvec)', '+(halfvec,halfvec)', NULL, '-', '-'),
             ('-(halfvec,halfvec)', 'halfvec', 'halfvec_sub(halfvec,halfvec)', NULL, NULL, '-', '-'),
             ('*(halfvec,halfvec)', 'halfvec', 'halfvec_mul(halfvec,halfvec)', '*(halfvec,halfvec)', NULL, '-', '-'),
             ('||(halfvec,halfvec)', 'halfvec', 'halfvec_concat(halfvec,halfvec)', NULL, NULL, '-', '-'),
             ('<(halfvec,halfvec)', 'boolean', 'halfvec_lt(halfvec,halfvec)', '>(halfvec,halfvec)', '>=(halfvec,halfvec)', 'scalarltsel', 'scalarltjoinsel'),
             ('<=(halfvec,halfvec)', 'boolean', 'halfvec_le(halfvec,halfvec)', '>=(halfvec,halfvec)', '>(halfvec,halfvec)', 'scalarlesel', 'scalarlejoinsel'),
             ('=(halfvec,halfvec)', 'boolean', 'halfvec_eq(halfvec,halfvec)', '=(halfvec,halfvec)', '<>(halfvec,halfvec)', 'eqsel', 'eqjoinsel'),
             ('<>(halfvec,halfvec)', 'boolean', 'halfvec_ne(halfvec,halfvec)', '<>(halfvec,halfvec)', '=(halfvec,halfvec)', 'neqsel', 'neqjoinsel'),
             ('>=(halfvec,halfvec)', 'boolean', 'halfvec_ge(halfvec,halfvec)', '<=(halfvec,halfvec)', '<(halfvec,halfvec)', 'scalargesel', 'scalargejoinsel'),
             ('>(halfvec,halfvec)', 'boolean', 'halfvec_gt(halfvec,halfvec)', '<(halfvec,halfvec)', '<=(halfvec,halfvec)', 'scalargtsel', 'scalargtjoinsel'),
             ('<~>(bit,bit)', 'double precision', 'hamming_distance(bit,bit)', '<~>(bit,bit)', NULL, '-', '-'),
             ('<%>(bit,bit)', 'double precision', 'jaccard_distance(bit,bit)', '<%>(bit,bit)', NULL, '-', '-')$$,
    'the operators owned by vecdb: result, function, commutator, negator, selectivity estimators'
);

SELECT set_eq(
    $$SELECT c.castsource::regtype::text AS source, c.casttarget::regtype::text AS target,
             c.castfunc::regprocedure::text AS function, c.castcontext::text AS context,
             c.castmethod::text AS method
        FROM vecdb_member m JOIN pg_cast c ON m.classid = 'pg_cast'::regclass AND c.oid = m.objid$$,
    $$VALUES ('vector', 'vector', 'vector(vector,integer,boolean)', 'i', 'f'),
             ('vector', 'real[]', 'vector_to_float4(vector,integer,boolean)', 'i', 'f'),
             ('integer[]', 'vector', 'array_to_vector(integer[],integer,boolean)', 'a', 'f'),
             ('real[]', 'vector', 'array_to_vector(real[],integer,boolean)', 'a', 'f'),
             ('double precision[]', 'vector', 'array_to_vector(double precision[],integer,boolean)', 'a', 'f'),
             ('numeric[]', 'vector', 'array_to_vector(numeric[],integer,boolean)', 'a', 'f'),
             ('halfvec', 'halfvec', 'halfvec(halfvec,integer,boolean)', 'i', 'f'),
             ('halfvec', 'vector', 'halfvec_to_vector(halfvec,integer,boolean)', 'a', 'f'),
             ('vector', 'halfvec', 'vector_to_halfvec(vector,integer,boolean)', 'i', 'f'),
             ('halfvec', 'real[]', 'halfvec_to_float4(halfvec,integer,boolean)', 'a', 'f'),
             ('integer[]', 'halfvec', 'array_to_halfvec(integer[],integer,boolean)', 'a', 'f'),
             ('real[]', 'halfvec', 'array_to_halfvec(real[],integer,boolean)', 'a', 'f'),
             ('double precision[]', 'halfvec', 'array_to_halfvec(double precision[],integer,boolean)', 'a', 'f'),
             ('numeric[]', 'halfvec', 'array_to_halfvec(numeric[],integer,boolean)', 'a', 'f')$$,
    'the casts owned by vecdb: source, target, function, context (i/a/e)'
);

SELECT set_eq(
    $$SELECT pg_describe_object(classid, objid, objsubid) FROM vecdb_member
       WHERE classid NOT IN ('pg_proc'::regclass, 'pg_operator'::regclass, 'pg_cast'::regclass)$$,
    ARRAY['schema vecdb', 'type vector', 'type halfvec',
          'operator class vector_ops for access method btree',
          'operator family vector_ops for access method btree',
          'operator class halfvec_ops for access method btree',
          'operator family halfvec_ops for access method btree',
          'access method hnsw',
          'operator class vector_l2_ops for access method hnsw',
          'operator family vector_l2_ops for access method hnsw',
          'operator class vector_ip_ops for access method hnsw',
          'operator family vector_ip_ops for access method hnsw',
          'operator class vector_cosine_ops for access method hnsw',
          'operator family vector_cosine_ops for access method hnsw',
          'operator class vector_l1_ops for access method hnsw',
          'operator family vector_l1_ops for access method hnsw',
          'operator class halfvec_l2_ops for access method hnsw',
          'operator family halfvec_l2_ops for access method hnsw',
          'operator class halfvec_ip_ops for access method hnsw',
          'operator family halfvec_ip_ops for access method hnsw',
          'operator class halfvec_cosine_ops for access method hnsw',
          'operator family halfvec_cosine_ops for access method hnsw',
          'operator class halfvec_l1_ops for access method hnsw',
          'operator family halfvec_l1_ops for access method hnsw',
          'operator class bit_hamming_ops for access method hnsw',
          'operator family bit_hamming_ops for access method hnsw',
          'operator class bit_jaccard_ops for access method hnsw',
          'operator family bit_jaccard_ops for access method hnsw',
          -- 50_store.sql
          'schema vecdb_data', 'table vecdb.stores', 'type vecdb.item',
          -- 60_backup.sql
          'schema vecdb_backup', 'table vecdb.backups',
          -- 70_auth.sql
          'schema vecdb_auth', 'table vecdb_auth.signing_keys', 'table vecdb_auth.clients', 'table vecdb_auth.users',
          'table vecdb_auth.authorization_codes', 'table vecdb_auth.refresh_tokens', 'table vecdb_auth.revoked_tokens'],
    'the other objects owned by vecdb: its schemas, types, tables, two btree operator classes, the hnsw access method and its ten operator classes'
);

-- properties of every function in C

CREATE TEMP VIEW vecdb_c_function AS
SELECT * FROM vecdb_function WHERE prolang = (SELECT oid FROM pg_language WHERE lanname = 'c');

SELECT is_empty(
    $$SELECT signature, proparallel FROM vecdb_c_function
       WHERE proparallel <> CASE WHEN signature = 'vecdb._flush_wal()' THEN 'u' ELSE 's' END$$,
    'every C function is PARALLEL SAFE, but vecdb._flush_wal() (UNSAFE: it flushes WAL)'
);
SELECT is_empty(
    $$SELECT signature FROM vecdb_c_function WHERE NOT proisstrict$$,
    'every C function is STRICT'
);
SELECT is_empty(
    $$SELECT signature, provolatile FROM vecdb_c_function
       WHERE provolatile <> CASE WHEN signature = 'vecdb.active_kernel()' THEN 's'
                                 WHEN signature IN ('public.hnswhandler(internal)', 'vecdb.hnsw_verify(index regclass)',
                                                    'vecdb._flush_wal()') THEN 'v'
                                 ELSE 'i' END$$,
    'every C function is IMMUTABLE, but vecdb.active_kernel() (STABLE), the hnsw handler, vecdb.hnsw_verify() and vecdb._flush_wal() (VOLATILE)'
);
SELECT is_empty(
    $$SELECT signature FROM vecdb_c_function WHERE probin IS DISTINCT FROM '$libdir/vecdb'$$,
    'every C function is in $libdir/vecdb'
);
SELECT is_empty(
    $$SELECT signature FROM vecdb_c_function WHERE prosecdef OR (proretset AND signature <> 'vecdb.hnsw_verify(index regclass)')$$,
    'no C function is SECURITY DEFINER, and only vecdb.hnsw_verify() returns a set'
);
SELECT is_empty(
    $$SELECT signature FROM vecdb_function
       WHERE prokind = 'f' AND prolang NOT IN (SELECT oid FROM pg_language WHERE lanname IN ('c', 'sql', 'plpgsql'))$$,
    'every function but the aggregates is in C, SQL or PL/pgSQL'
);

-- properties of every function in SQL and PL/pgSQL: language, volatility,
-- parallel safety, strictness, SECURITY DEFINER, set-returning.  The store
-- API (50_store.sql): reads are STABLE and PARALLEL SAFE; search sets
-- hnsw.* for its statement (VOLATILE, PARALLEL RESTRICTED); nothing is
-- STRICT, so a null argument is an error rather than a silent null;
-- create_store and drop_store make and drop tables owned by the extension's
-- owner (SECURITY DEFINER), as backup_store, restore_store and drop_backup
-- (60_backup.sql) do.

SELECT results_eq(
    $$SELECT signature COLLATE "default", l.lanname::text COLLATE "default", provolatile::text, proparallel::text, proisstrict, prosecdef, proretset
        FROM vecdb_function f JOIN pg_language l ON l.oid = f.prolang
       WHERE l.lanname IN ('sql', 'plpgsql')
       ORDER BY convert_to(signature, 'UTF8')$$,
    $$VALUES
        ('vecdb._backup(name text)', 'plpgsql', 'v', 'u', false, false, false),
        ('vecdb._check_vector(s vecdb.stores, v vector, what text)', 'plpgsql', 'i', 's', false, false, false),
        ('vecdb._checksum(tbl regclass)', 'plpgsql', 's', 'u', false, false, false),
        ('vecdb._checksum_final(state bytea)', 'sql', 'i', 's', true, false, false),
        ('vecdb._checksum_step(state bytea, line text)', 'sql', 'i', 's', true, false, false),
        ('vecdb._create_store_table(name text)', 'plpgsql', 'v', 'u', false, false, false),
        ('vecdb._export_line(id text, embedding text, metadata jsonb, content text)', 'sql', 's', 's', false, false, false),
        ('vecdb._filter_node(node jsonb, at text, INOUT objs jsonb[], INOUT keys text[], INOUT nums numeric[], OUT predicate text)', 'plpgsql', 'i', 's', false, false, false),
        ('vecdb._filter_predicate(filter jsonb, OUT predicate text, OUT objs jsonb[], OUT keys text[], OUT nums numeric[])', 'sql', 'i', 's', false, false, false),
        ('vecdb._import_row(s vecdb.stores, line text, OUT id text, OUT embedding text, OUT metadata jsonb, OUT content text)', 'plpgsql', 's', 'u', false, false, false),
        ('vecdb._search_prepare(store text, query vector, k integer, filter jsonb, ef_search integer, OUT sql text, OUT objs jsonb[], OUT keys text[], OUT nums numeric[])', 'plpgsql', 'v', 'r', false, false, false),
        ('vecdb._store(name text)', 'plpgsql', 's', 's', false, false, false),
        ('vecdb._validate_name(kind text, name text)', 'plpgsql', 'i', 's', false, false, false),
        ('vecdb.backup_store(store text, backup_name text)', 'plpgsql', 'v', 'u', false, true, false),
        ('vecdb.count(store text)', 'plpgsql', 's', 's', false, false, false),
        ('vecdb.create_store(name text, dims integer, metric text, options jsonb)', 'plpgsql', 'v', 'u', false, true, false),
        ('vecdb.delete(store text, id text)', 'plpgsql', 'v', 'u', false, false, false),
        ('vecdb.delete_many(store text, ids text[])', 'plpgsql', 'v', 'u', false, false, false),
        ('vecdb.drop_backup(name text)', 'plpgsql', 'v', 'u', false, true, false),
        ('vecdb.drop_store(name text)', 'plpgsql', 'v', 'u', false, true, false),
        ('vecdb.explain_search(store text, query vector, k integer, filter jsonb, ef_search integer)', 'plpgsql', 'v', 'r', false, false, true),
        ('vecdb.export_store(store text)', 'plpgsql', 's', 'u', false, false, true),
        ('vecdb.get(store text, id text)', 'plpgsql', 's', 's', false, false, true),
        ('vecdb.import_store(store text, jsonl text)', 'plpgsql', 'v', 'u', false, false, false),
        ('vecdb.list_backups(of_store text)', 'sql', 's', 's', false, false, true),
        ('vecdb.list_stores()', 'sql', 's', 's', false, false, true),
        ('vecdb.restore_store(backup_name text, new_store text)', 'plpgsql', 'v', 'u', false, true, false),
        ('vecdb.search(store text, query vector, k integer, filter jsonb, ef_search integer)', 'plpgsql', 'v', 'r', false, false, true),
        ('vecdb.store_checksum(store text)', 'plpgsql', 's', 'u', false, false, false),
        ('vecdb.store_stats(name text)', 'plpgsql', 's', 's', false, false, true),
        ('vecdb.sync(store text)', 'plpgsql', 'v', 'u', false, false, false),
        ('vecdb.upsert(store text, id text, vector vector, metadata jsonb, content text)', 'plpgsql', 'v', 'u', false, false, false),
        ('vecdb.upsert_many(store text, items jsonb)', 'plpgsql', 'v', 'u', false, false, true),
        ('vecdb_auth.notify_keys()', 'plpgsql', 'v', 'u', false, false, false),
        ('vecdb_auth.notify_revoked()', 'plpgsql', 'v', 'u', false, false, false),
        ('vecdb_auth.prune(p_key_grace interval)', 'sql', 'v', 'u', false, false, false),
        ('vecdb_auth.revoke_family(p_family text)', 'plpgsql', 'v', 'u', false, false, false),
        ('vecdb_auth.rotate_refresh_token(p_id text, p_new_id text, p_new_hash text, p_scope text, p_expires_at timestamp with time zone)', 'plpgsql', 'v', 'u', false, false, false),
        ('vecdb_auth.use_authorization_code(p_code_hash text, p_family text)', 'plpgsql', 'v', 'u', false, false, true)$$,
    'every SQL and PL/pgSQL function: language, volatility, parallel safety, strictness, SECURITY DEFINER, set-returning'
);
SELECT is_empty(
    $$SELECT signature, proconfig FROM vecdb_function
       WHERE prolang IN (SELECT oid FROM pg_language WHERE lanname IN ('sql', 'plpgsql'))
         AND proconfig IS DISTINCT FROM ARRAY['search_path=pg_catalog, pg_temp']$$,
    'every SQL and PL/pgSQL function runs with search_path pg_catalog, pg_temp (so a caller cannot redirect it)'
);
SELECT is_empty(
    $$SELECT signature FROM vecdb_function
       WHERE (prolang IN (SELECT oid FROM pg_language WHERE lanname IN ('sql', 'plpgsql'))
              OR prosecdef OR signature LIKE 'vecdb.\_%')
         AND (proacl IS NULL OR EXISTS (SELECT FROM aclexplode(proacl) a WHERE a.grantee = 0))$$,
    'PUBLIC may execute no SQL, PL/pgSQL, SECURITY DEFINER or internal function (the vecdb roles hold those rights)'
);
SELECT is_empty(
    $$SELECT n.nspname FROM pg_namespace n
       WHERE n.nspname IN ('vecdb_data', 'vecdb_backup', 'vecdb_auth')
         AND EXISTS (SELECT FROM aclexplode(coalesce(n.nspacl, acldefault('n', n.nspowner))) a WHERE a.grantee = 0)$$,
    'PUBLIC has no right on schemas vecdb_data, vecdb_backup and vecdb_auth'
);

-- aggregates
SELECT set_eq(
    $$SELECT signature FROM vecdb_function WHERE prokind = 'a'$$,
    ARRAY['public.avg(vector)', 'public.sum(vector)', 'public.avg(halfvec)', 'public.sum(halfvec)',
          'vecdb._checksum_agg(text)'],
    'vecdb has five aggregates: avg and sum of vector and halfvec, and the checksum of backups'
);
SELECT is_empty(
    $$SELECT f.signature FROM vecdb_function f JOIN pg_aggregate a ON a.aggfnoid = f.oid
       WHERE f.signature LIKE 'public.%' AND (a.aggcombinefn = 0 OR f.proparallel <> 's')$$,
    'every vector aggregate has a combine function and is PARALLEL SAFE, so it can run in parallel'
);

SELECT * FROM finish();
ROLLBACK;
