-- The vecdb extension as a whole: its schema and vecdb.active_kernel(), the
-- complete lists of its member objects (so that adding a function, operator,
-- cast or type without adding it here fails), and properties every function
-- must have: parallel safe, strict, immutable (but active_kernel), in C.
-- The per-type details are in catalog_vector.sql, catalog_halfvec.sql and
-- catalog_bit.sql.
BEGIN;
SELECT plan(20);

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
    $$VALUES ('pg_am', 1), ('pg_cast', 14), ('pg_namespace', 1), ('pg_opclass', 12), ('pg_operator', 30),
             ('pg_opfamily', 12), ('pg_proc', 84), ('pg_type', 2)$$,
    'the extension owns 1 access method, 14 casts, 1 schema, 12 operator classes and families, 30 operators, 84 functions, 2 types'
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
        'vecdb.hnsw_verify(index regclass)'
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
          'operator family bit_jaccard_ops for access method hnsw'],
    'the other objects owned by vecdb: its schema, two types, two btree operator classes, the hnsw access method and its ten operator classes'
);

-- properties of every function

SELECT is_empty(
    $$SELECT signature, proparallel FROM vecdb_function WHERE proparallel <> 's'$$,
    'every vecdb function (aggregates included) is PARALLEL SAFE'
);
SELECT is_empty(
    $$SELECT signature FROM vecdb_function WHERE prokind = 'f' AND NOT proisstrict$$,
    'every vecdb function but the aggregates is STRICT'
);
SELECT is_empty(
    $$SELECT signature, provolatile FROM vecdb_function
       WHERE provolatile <> CASE WHEN signature = 'vecdb.active_kernel()' THEN 's'
                                 WHEN signature IN ('public.hnswhandler(internal)', 'vecdb.hnsw_verify(index regclass)') THEN 'v'
                                 ELSE 'i' END$$,
    'every vecdb function is IMMUTABLE, but vecdb.active_kernel() (STABLE), the hnsw handler and vecdb.hnsw_verify() (VOLATILE)'
);
SELECT is_empty(
    $$SELECT signature FROM vecdb_function
       WHERE prokind = 'f' AND (prolang <> (SELECT oid FROM pg_language WHERE lanname = 'c')
                                OR probin IS DISTINCT FROM '$libdir/vecdb')$$,
    'every vecdb function but the aggregates is in C, in $libdir/vecdb'
);
SELECT is_empty(
    $$SELECT signature FROM vecdb_function WHERE prosecdef OR (proretset AND signature <> 'vecdb.hnsw_verify(index regclass)')$$,
    'no vecdb function is SECURITY DEFINER, and only vecdb.hnsw_verify() returns a set'
);

-- aggregates
SELECT set_eq(
    $$SELECT signature FROM vecdb_function WHERE prokind = 'a'$$,
    ARRAY['public.avg(vector)', 'public.sum(vector)', 'public.avg(halfvec)', 'public.sum(halfvec)'],
    'vecdb has four aggregates: avg and sum of vector and halfvec'
);
SELECT is_empty(
    $$SELECT f.signature FROM vecdb_function f JOIN pg_aggregate a ON a.aggfnoid = f.oid
       WHERE a.aggcombinefn = 0$$,
    'every vecdb aggregate has a combine function, so it can run in parallel'
);

SELECT * FROM finish();
ROLLBACK;
