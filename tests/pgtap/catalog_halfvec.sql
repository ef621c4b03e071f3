-- Catalog of the halfvec type (extension/sql/20_halfvec.sql): the type, every
-- function with its arguments, return type and volatility, the aggregates,
-- casts, operators and the btree operator class.  Extension-wide properties
-- (parallel safety, strictness, the complete member lists) are checked in
-- catalog_extension.sql.
BEGIN;
SELECT plan(160);

-- the type
SELECT has_type('public', 'halfvec', 'Type public.halfvec should exist');
SELECT has_type('public', '_halfvec', 'Type public._halfvec (halfvec[]) should exist');
SELECT results_eq(
    $$SELECT typinput::regprocedure::text, typoutput::regprocedure::text,
             typreceive::regprocedure::text, typsend::regprocedure::text,
             typmodin::regprocedure::text, typstorage::text, typlen::int
        FROM pg_type WHERE typname = 'halfvec' AND typnamespace = 'public'::regnamespace$$,
    $$VALUES ('halfvec_in(cstring,oid,integer)', 'halfvec_out(halfvec)',
              'halfvec_recv(internal,oid,integer)', 'halfvec_send(halfvec)',
              'halfvec_typmod_in(cstring[])', 'e', -1)$$,
    'halfvec: I/O functions, typmod input, external storage, variable length'
);

-- io

SELECT has_function('public', 'halfvec_in', ARRAY['cstring', 'oid', 'integer']);
SELECT function_returns('public', 'halfvec_in', ARRAY['cstring', 'oid', 'integer'], 'halfvec');
SELECT volatility_is('public', 'halfvec_in', ARRAY['cstring', 'oid', 'integer'], 'immutable');
SELECT has_function('public', 'halfvec_out', ARRAY['halfvec']);
SELECT function_returns('public', 'halfvec_out', ARRAY['halfvec'], 'cstring');
SELECT volatility_is('public', 'halfvec_out', ARRAY['halfvec'], 'immutable');
SELECT has_function('public', 'halfvec_typmod_in', ARRAY['cstring[]']);
SELECT function_returns('public', 'halfvec_typmod_in', ARRAY['cstring[]'], 'integer');
SELECT volatility_is('public', 'halfvec_typmod_in', ARRAY['cstring[]'], 'immutable');
SELECT has_function('public', 'halfvec_recv', ARRAY['internal', 'oid', 'integer']);
SELECT function_returns('public', 'halfvec_recv', ARRAY['internal', 'oid', 'integer'], 'halfvec');
SELECT volatility_is('public', 'halfvec_recv', ARRAY['internal', 'oid', 'integer'], 'immutable');
SELECT has_function('public', 'halfvec_send', ARRAY['halfvec']);
SELECT function_returns('public', 'halfvec_send', ARRAY['halfvec'], 'bytea');
SELECT volatility_is('public', 'halfvec_send', ARRAY['halfvec'], 'immutable');

-- functions

SELECT has_function('public', 'l2_distance', ARRAY['halfvec', 'halfvec']);
SELECT function_returns('public', 'l2_distance', ARRAY['halfvec', 'halfvec'], 'double precision');
SELECT volatility_is('public', 'l2_distance', ARRAY['halfvec', 'halfvec'], 'immutable');
SELECT has_function('public', 'inner_product', ARRAY['halfvec', 'halfvec']);
SELECT function_returns('public', 'inner_product', ARRAY['halfvec', 'halfvec'], 'double precision');
SELECT volatility_is('public', 'inner_product', ARRAY['halfvec', 'halfvec'], 'immutable');
SELECT has_function('public', 'cosine_distance', ARRAY['halfvec', 'halfvec']);
SELECT function_returns('public', 'cosine_distance', ARRAY['halfvec', 'halfvec'], 'double precision');
SELECT volatility_is('public', 'cosine_distance', ARRAY['halfvec', 'halfvec'], 'immutable');
SELECT has_function('public', 'l1_distance', ARRAY['halfvec', 'halfvec']);
SELECT function_returns('public', 'l1_distance', ARRAY['halfvec', 'halfvec'], 'double precision');
SELECT volatility_is('public', 'l1_distance', ARRAY['halfvec', 'halfvec'], 'immutable');
SELECT has_function('public', 'vector_dims', ARRAY['halfvec']);
SELECT function_returns('public', 'vector_dims', ARRAY['halfvec'], 'integer');
SELECT volatility_is('public', 'vector_dims', ARRAY['halfvec'], 'immutable');
SELECT has_function('public', 'l2_norm', ARRAY['halfvec']);
SELECT function_returns('public', 'l2_norm', ARRAY['halfvec'], 'double precision');
SELECT volatility_is('public', 'l2_norm', ARRAY['halfvec'], 'immutable');
SELECT has_function('public', 'l2_normalize', ARRAY['halfvec']);
SELECT function_returns('public', 'l2_normalize', ARRAY['halfvec'], 'halfvec');
SELECT volatility_is('public', 'l2_normalize', ARRAY['halfvec'], 'immutable');
SELECT has_function('public', 'binary_quantize', ARRAY['halfvec']);
SELECT function_returns('public', 'binary_quantize', ARRAY['halfvec'], 'bit');
SELECT volatility_is('public', 'binary_quantize', ARRAY['halfvec'], 'immutable');
SELECT has_function('public', 'subvector', ARRAY['halfvec', 'integer', 'integer']);
SELECT function_returns('public', 'subvector', ARRAY['halfvec', 'integer', 'integer'], 'halfvec');
SELECT volatility_is('public', 'subvector', ARRAY['halfvec', 'integer', 'integer'], 'immutable');
SELECT has_function('public', 'halfvec_l2_squared_distance', ARRAY['halfvec', 'halfvec']);
SELECT function_returns('public', 'halfvec_l2_squared_distance', ARRAY['halfvec', 'halfvec'], 'double precision');
SELECT volatility_is('public', 'halfvec_l2_squared_distance', ARRAY['halfvec', 'halfvec'], 'immutable');
SELECT has_function('public', 'halfvec_negative_inner_product', ARRAY['halfvec', 'halfvec']);
SELECT function_returns('public', 'halfvec_negative_inner_product', ARRAY['halfvec', 'halfvec'], 'double precision');
SELECT volatility_is('public', 'halfvec_negative_inner_product', ARRAY['halfvec', 'halfvec'], 'immutable');

-- arithmetic and comparison

SELECT has_function('public', 'halfvec_add', ARRAY['halfvec', 'halfvec']);
SELECT function_returns('public', 'halfvec_add', ARRAY['halfvec', 'halfvec'], 'halfvec');
SELECT volatility_is('public', 'halfvec_add', ARRAY['halfvec', 'halfvec'], 'immutable');
SELECT has_function('public', 'halfvec_sub', ARRAY['halfvec', 'halfvec']);
SELECT function_returns('public', 'halfvec_sub', ARRAY['halfvec', 'halfvec'], 'halfvec');
SELECT volatility_is('public', 'halfvec_sub', ARRAY['halfvec', 'halfvec'], 'immutable');
SELECT has_function('public', 'halfvec_mul', ARRAY['halfvec', 'halfvec']);
SELECT function_returns('public', 'halfvec_mul', ARRAY['halfvec', 'halfvec'], 'halfvec');
SELECT volatility_is('public', 'halfvec_mul', ARRAY['halfvec', 'halfvec'], 'immutable');
SELECT has_function('public', 'halfvec_concat', ARRAY['halfvec', 'halfvec']);
SELECT function_returns('public', 'halfvec_concat', ARRAY['halfvec', 'halfvec'], 'halfvec');
SELECT volatility_is('public', 'halfvec_concat', ARRAY['halfvec', 'halfvec'], 'immutable');
SELECT has_function('public', 'halfvec_lt', ARRAY['halfvec', 'halfvec']);
SELECT function_returns('public', 'halfvec_lt', ARRAY['halfvec', 'halfvec'], 'boolean');
SELECT volatility_is('public', 'halfvec_lt', ARRAY['halfvec', 'halfvec'], 'immutable');
SELECT has_function('public', 'halfvec_le', ARRAY['halfvec', 'halfvec']);
SELECT function_returns('public', 'halfvec_le', ARRAY['halfvec', 'halfvec'], 'boolean');
SELECT volatility_is('public', 'halfvec_le', ARRAY['halfvec', 'halfvec'], 'immutable');
SELECT has_function('public', 'halfvec_eq', ARRAY['halfvec', 'halfvec']);
SELECT function_returns('public', 'halfvec_eq', ARRAY['halfvec', 'halfvec'], 'boolean');
SELECT volatility_is('public', 'halfvec_eq', ARRAY['halfvec', 'halfvec'], 'immutable');
SELECT has_function('public', 'halfvec_ne', ARRAY['halfvec', 'halfvec']);
SELECT function_returns('public', 'halfvec_ne', ARRAY['halfvec', 'halfvec'], 'boolean');
SELECT volatility_is('public', 'halfvec_ne', ARRAY['halfvec', 'halfvec'], 'immutable');
SELECT has_function('public', 'halfvec_ge', ARRAY['halfvec', 'halfvec']);
SELECT function_returns('public', 'halfvec_ge', ARRAY['halfvec', 'halfvec'], 'boolean');
SELECT volatility_is('public', 'halfvec_ge', ARRAY['halfvec', 'halfvec'], 'immutable');
SELECT has_function('public', 'halfvec_gt', ARRAY['halfvec', 'halfvec']);
SELECT function_returns('public', 'halfvec_gt', ARRAY['halfvec', 'halfvec'], 'boolean');
SELECT volatility_is('public', 'halfvec_gt', ARRAY['halfvec', 'halfvec'], 'immutable');
SELECT has_function('public', 'halfvec_cmp', ARRAY['halfvec', 'halfvec']);
SELECT function_returns('public', 'halfvec_cmp', ARRAY['halfvec', 'halfvec'], 'integer');
SELECT volatility_is('public', 'halfvec_cmp', ARRAY['halfvec', 'halfvec'], 'immutable');

-- aggregate support (the combine function is vector_combine, tested in catalog_vector.sql)

SELECT has_function('public', 'halfvec_accum', ARRAY['double precision[]', 'halfvec']);
SELECT function_returns('public', 'halfvec_accum', ARRAY['double precision[]', 'halfvec'], 'double precision[]');
SELECT volatility_is('public', 'halfvec_accum', ARRAY['double precision[]', 'halfvec'], 'immutable');
SELECT has_function('public', 'halfvec_avg', ARRAY['double precision[]']);
SELECT function_returns('public', 'halfvec_avg', ARRAY['double precision[]'], 'halfvec');
SELECT volatility_is('public', 'halfvec_avg', ARRAY['double precision[]'], 'immutable');
SELECT has_function('public', 'halfvec_sum', ARRAY['double precision[]']);
SELECT function_returns('public', 'halfvec_sum', ARRAY['double precision[]'], 'halfvec');
SELECT volatility_is('public', 'halfvec_sum', ARRAY['double precision[]'], 'immutable');

-- cast functions

SELECT has_function('public', 'halfvec', ARRAY['halfvec', 'integer', 'boolean']);
SELECT function_returns('public', 'halfvec', ARRAY['halfvec', 'integer', 'boolean'], 'halfvec');
SELECT volatility_is('public', 'halfvec', ARRAY['halfvec', 'integer', 'boolean'], 'immutable');
SELECT has_function('public', 'halfvec_to_vector', ARRAY['halfvec', 'integer', 'boolean']);
SELECT function_returns('public', 'halfvec_to_vector', ARRAY['halfvec', 'integer', 'boolean'], 'vector');
SELECT volatility_is('public', 'halfvec_to_vector', ARRAY['halfvec', 'integer', 'boolean'], 'immutable');
SELECT has_function('public', 'vector_to_halfvec', ARRAY['vector', 'integer', 'boolean']);
SELECT function_returns('public', 'vector_to_halfvec', ARRAY['vector', 'integer', 'boolean'], 'halfvec');
SELECT volatility_is('public', 'vector_to_halfvec', ARRAY['vector', 'integer', 'boolean'], 'immutable');
SELECT has_function('public', 'array_to_halfvec', ARRAY['integer[]', 'integer', 'boolean']);
SELECT function_returns('public', 'array_to_halfvec', ARRAY['integer[]', 'integer', 'boolean'], 'halfvec');
SELECT volatility_is('public', 'array_to_halfvec', ARRAY['integer[]', 'integer', 'boolean'], 'immutable');
SELECT has_function('public', 'array_to_halfvec', ARRAY['real[]', 'integer', 'boolean']);
SELECT function_returns('public', 'array_to_halfvec', ARRAY['real[]', 'integer', 'boolean'], 'halfvec');
SELECT volatility_is('public', 'array_to_halfvec', ARRAY['real[]', 'integer', 'boolean'], 'immutable');
SELECT has_function('public', 'array_to_halfvec', ARRAY['double precision[]', 'integer', 'boolean']);
SELECT function_returns('public', 'array_to_halfvec', ARRAY['double precision[]', 'integer', 'boolean'], 'halfvec');
SELECT volatility_is('public', 'array_to_halfvec', ARRAY['double precision[]', 'integer', 'boolean'], 'immutable');
SELECT has_function('public', 'array_to_halfvec', ARRAY['numeric[]', 'integer', 'boolean']);
SELECT function_returns('public', 'array_to_halfvec', ARRAY['numeric[]', 'integer', 'boolean'], 'halfvec');
SELECT volatility_is('public', 'array_to_halfvec', ARRAY['numeric[]', 'integer', 'boolean'], 'immutable');
SELECT has_function('public', 'halfvec_to_float4', ARRAY['halfvec', 'integer', 'boolean']);
SELECT function_returns('public', 'halfvec_to_float4', ARRAY['halfvec', 'integer', 'boolean'], 'real[]');
SELECT volatility_is('public', 'halfvec_to_float4', ARRAY['halfvec', 'integer', 'boolean'], 'immutable');

-- aggregates: same state as vector's, so the combine function is vector_combine
SELECT has_function('public', 'avg', ARRAY['halfvec']);
SELECT is_aggregate('public', 'avg', ARRAY['halfvec']);
SELECT function_returns('public', 'avg', ARRAY['halfvec'], 'halfvec');
SELECT ok(
    coalesce((SELECT aggcombinefn <> 0 FROM pg_aggregate
               WHERE aggfnoid = to_regprocedure('public.avg(public.halfvec)')), false),
    'avg(halfvec) has a combine function, so it can run in parallel'
);
SELECT results_eq(
    $$SELECT aggtransfn::regprocedure::text, aggfinalfn::regprocedure::text,
             aggcombinefn::regprocedure::text, aggtranstype::regtype::text,
             agginitval COLLATE "default"
        FROM pg_aggregate WHERE aggfnoid = to_regprocedure('public.avg(public.halfvec)')$$,
    $$VALUES ('halfvec_accum(double precision[],halfvec)', 'halfvec_avg(double precision[])',
              'vector_combine(double precision[],double precision[])', 'double precision[]', '{0}')$$,
    'avg(halfvec): transition, final and combine functions, state type and initial state'
);

SELECT has_function('public', 'sum', ARRAY['halfvec']);
SELECT is_aggregate('public', 'sum', ARRAY['halfvec']);
SELECT function_returns('public', 'sum', ARRAY['halfvec'], 'halfvec');
SELECT ok(
    coalesce((SELECT aggcombinefn <> 0 FROM pg_aggregate
               WHERE aggfnoid = to_regprocedure('public.sum(public.halfvec)')), false),
    'sum(halfvec) has a combine function, so it can run in parallel'
);
SELECT results_eq(
    $$SELECT aggtransfn::regprocedure::text, aggfinalfn::regprocedure::text,
             aggcombinefn::regprocedure::text, aggtranstype::regtype::text,
             agginitval COLLATE "default"
        FROM pg_aggregate WHERE aggfnoid = to_regprocedure('public.sum(public.halfvec)')$$,
    $$VALUES ('halfvec_accum(double precision[],halfvec)', 'halfvec_sum(double precision[])',
              'vector_combine(double precision[],double precision[])', 'double precision[]', '{0}')$$,
    'sum(halfvec): transition, final and combine functions, state type and initial state'
);

-- casts
SELECT has_cast('halfvec', 'halfvec', 'public', 'halfvec',
    'Cast (halfvec AS halfvec) WITH FUNCTION public.halfvec should exist');
SELECT cast_context_is('halfvec', 'halfvec', 'implicit');
SELECT has_cast('halfvec', 'vector', 'public', 'halfvec_to_vector',
    'Cast (halfvec AS vector) WITH FUNCTION public.halfvec_to_vector should exist');
SELECT cast_context_is('halfvec', 'vector', 'assignment');
SELECT has_cast('vector', 'halfvec', 'public', 'vector_to_halfvec',
    'Cast (vector AS halfvec) WITH FUNCTION public.vector_to_halfvec should exist');
SELECT cast_context_is('vector', 'halfvec', 'implicit');
SELECT has_cast('halfvec', 'real[]', 'public', 'halfvec_to_float4',
    'Cast (halfvec AS real[]) WITH FUNCTION public.halfvec_to_float4 should exist');
SELECT cast_context_is('halfvec', 'real[]', 'assignment');
SELECT has_cast('integer[]', 'halfvec', 'public', 'array_to_halfvec',
    'Cast (integer[] AS halfvec) WITH FUNCTION public.array_to_halfvec should exist');
SELECT cast_context_is('integer[]', 'halfvec', 'assignment');
SELECT has_cast('real[]', 'halfvec', 'public', 'array_to_halfvec',
    'Cast (real[] AS halfvec) WITH FUNCTION public.array_to_halfvec should exist');
SELECT cast_context_is('real[]', 'halfvec', 'assignment');
SELECT has_cast('double precision[]', 'halfvec', 'public', 'array_to_halfvec',
    'Cast (double precision[] AS halfvec) WITH FUNCTION public.array_to_halfvec should exist');
SELECT cast_context_is('double precision[]', 'halfvec', 'assignment');
SELECT has_cast('numeric[]', 'halfvec', 'public', 'array_to_halfvec',
    'Cast (numeric[] AS halfvec) WITH FUNCTION public.array_to_halfvec should exist');
SELECT cast_context_is('numeric[]', 'halfvec', 'assignment');

-- operators: distances
SELECT has_operator('halfvec', 'public', '<->', 'halfvec', 'double precision',
    'Operator public.<->(halfvec, halfvec) RETURNS double precision should exist');
SELECT has_operator('halfvec', 'public', '<#>', 'halfvec', 'double precision',
    'Operator public.<#>(halfvec, halfvec) RETURNS double precision should exist');
SELECT has_operator('halfvec', 'public', '<=>', 'halfvec', 'double precision',
    'Operator public.<=>(halfvec, halfvec) RETURNS double precision should exist');
SELECT has_operator('halfvec', 'public', '<+>', 'halfvec', 'double precision',
    'Operator public.<+>(halfvec, halfvec) RETURNS double precision should exist');
-- operators: arithmetic
SELECT has_operator('halfvec', 'public', '+', 'halfvec', 'halfvec',
    'Operator public.+(halfvec, halfvec) RETURNS halfvec should exist');
SELECT has_operator('halfvec', 'public', '-', 'halfvec', 'halfvec',
    'Operator public.-(halfvec, halfvec) RETURNS halfvec should exist');
SELECT has_operator('halfvec', 'public', '*', 'halfvec', 'halfvec',
    'Operator public.*(halfvec, halfvec) RETURNS halfvec should exist');
SELECT has_operator('halfvec', 'public', '||', 'halfvec', 'halfvec',
    'Operator public.||(halfvec, halfvec) RETURNS halfvec should exist');
-- operators: comparison
SELECT has_operator('halfvec', 'public', '<', 'halfvec', 'boolean',
    'Operator public.<(halfvec, halfvec) RETURNS boolean should exist');
SELECT has_operator('halfvec', 'public', '<=', 'halfvec', 'boolean',
    'Operator public.<=(halfvec, halfvec) RETURNS boolean should exist');
SELECT has_operator('halfvec', 'public', '=', 'halfvec', 'boolean',
    'Operator public.=(halfvec, halfvec) RETURNS boolean should exist');
SELECT has_operator('halfvec', 'public', '<>', 'halfvec', 'boolean',
    'Operator public.<>(halfvec, halfvec) RETURNS boolean should exist');
SELECT has_operator('halfvec', 'public', '>=', 'halfvec', 'boolean',
    'Operator public.>=(halfvec, halfvec) RETURNS boolean should exist');
SELECT has_operator('halfvec', 'public', '>', 'halfvec', 'boolean',
    'Operator public.>(halfvec, halfvec) RETURNS boolean should exist');

-- btree operator class
SELECT has_opclass('public', 'halfvec_ops', 'Operator class public.halfvec_ops should exist');
SELECT ok(
    coalesce((SELECT c.opcdefault
                FROM pg_opclass c JOIN pg_am a ON a.oid = c.opcmethod
               WHERE c.opcname = 'halfvec_ops' AND c.opcnamespace = 'public'::regnamespace
                 AND a.amname = 'btree' AND c.opcintype = to_regtype('public.halfvec')), false),
    'halfvec_ops is the default btree operator class for halfvec'
);
SELECT set_eq(
    $$SELECT 'operator ' || o.amopstrategy || ' ' || o.amopopr::regoperator::text
        FROM pg_amop o JOIN pg_opclass c ON c.opcfamily = o.amopfamily
       WHERE c.opcname = 'halfvec_ops' AND c.opcnamespace = 'public'::regnamespace
      UNION ALL
      SELECT 'function ' || p.amprocnum || ' ' || p.amproc::regprocedure::text
        FROM pg_amproc p JOIN pg_opclass c ON c.opcfamily = p.amprocfamily
       WHERE c.opcname = 'halfvec_ops' AND c.opcnamespace = 'public'::regnamespace$$,
    ARRAY['operator 1 <(halfvec,halfvec)', 'operator 2 <=(halfvec,halfvec)',
          'operator 3 =(halfvec,halfvec)', 'operator 4 >=(halfvec,halfvec)',
          'operator 5 >(halfvec,halfvec)', 'function 1 halfvec_cmp(halfvec,halfvec)'],
    'halfvec_ops: strategies 1-5 are < <= = >= >, support function 1 is halfvec_cmp'
);

SELECT * FROM finish();
ROLLBACK;
