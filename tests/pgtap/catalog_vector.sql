-- Catalog of the vector type (extension/sql/10_vector.sql): the type, every
-- function with its arguments, return type and volatility, the aggregates,
-- casts, operators and the btree operator class.  Extension-wide properties
-- (parallel safety, strictness, the complete member lists) are checked in
-- catalog_extension.sql.
BEGIN;
SELECT plan(153);

-- the type
SELECT has_type('public', 'vector', 'Type public.vector should exist');
SELECT has_type('public', '_vector', 'Type public._vector (vector[]) should exist');
SELECT results_eq(
    $$SELECT typinput::regprocedure::text, typoutput::regprocedure::text,
             typreceive::regprocedure::text, typsend::regprocedure::text,
             typmodin::regprocedure::text, typstorage::text, typlen::int
        FROM pg_type WHERE typname = 'vector' AND typnamespace = 'public'::regnamespace$$,
    $$VALUES ('vector_in(cstring,oid,integer)', 'vector_out(vector)',
              'vector_recv(internal,oid,integer)', 'vector_send(vector)',
              'vector_typmod_in(cstring[])', 'e', -1)$$,
    'vector: I/O functions, typmod input, external storage, variable length'
);

-- io

SELECT has_function('public', 'vector_in', ARRAY['cstring', 'oid', 'integer']);
SELECT function_returns('public', 'vector_in', ARRAY['cstring', 'oid', 'integer'], 'vector');
SELECT volatility_is('public', 'vector_in', ARRAY['cstring', 'oid', 'integer'], 'immutable');
SELECT has_function('public', 'vector_out', ARRAY['vector']);
SELECT function_returns('public', 'vector_out', ARRAY['vector'], 'cstring');
SELECT volatility_is('public', 'vector_out', ARRAY['vector'], 'immutable');
SELECT has_function('public', 'vector_typmod_in', ARRAY['cstring[]']);
SELECT function_returns('public', 'vector_typmod_in', ARRAY['cstring[]'], 'integer');
SELECT volatility_is('public', 'vector_typmod_in', ARRAY['cstring[]'], 'immutable');
SELECT has_function('public', 'vector_recv', ARRAY['internal', 'oid', 'integer']);
SELECT function_returns('public', 'vector_recv', ARRAY['internal', 'oid', 'integer'], 'vector');
SELECT volatility_is('public', 'vector_recv', ARRAY['internal', 'oid', 'integer'], 'immutable');
SELECT has_function('public', 'vector_send', ARRAY['vector']);
SELECT function_returns('public', 'vector_send', ARRAY['vector'], 'bytea');
SELECT volatility_is('public', 'vector_send', ARRAY['vector'], 'immutable');

-- functions

SELECT has_function('public', 'l2_distance', ARRAY['vector', 'vector']);
SELECT function_returns('public', 'l2_distance', ARRAY['vector', 'vector'], 'double precision');
SELECT volatility_is('public', 'l2_distance', ARRAY['vector', 'vector'], 'immutable');
SELECT has_function('public', 'inner_product', ARRAY['vector', 'vector']);
SELECT function_returns('public', 'inner_product', ARRAY['vector', 'vector'], 'double precision');
SELECT volatility_is('public', 'inner_product', ARRAY['vector', 'vector'], 'immutable');
SELECT has_function('public', 'cosine_distance', ARRAY['vector', 'vector']);
SELECT function_returns('public', 'cosine_distance', ARRAY['vector', 'vector'], 'double precision');
SELECT volatility_is('public', 'cosine_distance', ARRAY['vector', 'vector'], 'immutable');
SELECT has_function('public', 'l1_distance', ARRAY['vector', 'vector']);
SELECT function_returns('public', 'l1_distance', ARRAY['vector', 'vector'], 'double precision');
SELECT volatility_is('public', 'l1_distance', ARRAY['vector', 'vector'], 'immutable');
SELECT has_function('public', 'vector_dims', ARRAY['vector']);
SELECT function_returns('public', 'vector_dims', ARRAY['vector'], 'integer');
SELECT volatility_is('public', 'vector_dims', ARRAY['vector'], 'immutable');
SELECT has_function('public', 'vector_norm', ARRAY['vector']);
SELECT function_returns('public', 'vector_norm', ARRAY['vector'], 'double precision');
SELECT volatility_is('public', 'vector_norm', ARRAY['vector'], 'immutable');
SELECT has_function('public', 'l2_normalize', ARRAY['vector']);
SELECT function_returns('public', 'l2_normalize', ARRAY['vector'], 'vector');
SELECT volatility_is('public', 'l2_normalize', ARRAY['vector'], 'immutable');
SELECT has_function('public', 'binary_quantize', ARRAY['vector']);
SELECT function_returns('public', 'binary_quantize', ARRAY['vector'], 'bit');
SELECT volatility_is('public', 'binary_quantize', ARRAY['vector'], 'immutable');
SELECT has_function('public', 'subvector', ARRAY['vector', 'integer', 'integer']);
SELECT function_returns('public', 'subvector', ARRAY['vector', 'integer', 'integer'], 'vector');
SELECT volatility_is('public', 'subvector', ARRAY['vector', 'integer', 'integer'], 'immutable');
SELECT has_function('public', 'vector_l2_squared_distance', ARRAY['vector', 'vector']);
SELECT function_returns('public', 'vector_l2_squared_distance', ARRAY['vector', 'vector'], 'double precision');
SELECT volatility_is('public', 'vector_l2_squared_distance', ARRAY['vector', 'vector'], 'immutable');
SELECT has_function('public', 'vector_negative_inner_product', ARRAY['vector', 'vector']);
SELECT function_returns('public', 'vector_negative_inner_product', ARRAY['vector', 'vector'], 'double precision');
SELECT volatility_is('public', 'vector_negative_inner_product', ARRAY['vector', 'vector'], 'immutable');

-- arithmetic and comparison

SELECT has_function('public', 'vector_add', ARRAY['vector', 'vector']);
SELECT function_returns('public', 'vector_add', ARRAY['vector', 'vector'], 'vector');
SELECT volatility_is('public', 'vector_add', ARRAY['vector', 'vector'], 'immutable');
SELECT has_function('public', 'vector_sub', ARRAY['vector', 'vector']);
SELECT function_returns('public', 'vector_sub', ARRAY['vector', 'vector'], 'vector');
SELECT volatility_is('public', 'vector_sub', ARRAY['vector', 'vector'], 'immutable');
SELECT has_function('public', 'vector_mul', ARRAY['vector', 'vector']);
SELECT function_returns('public', 'vector_mul', ARRAY['vector', 'vector'], 'vector');
SELECT volatility_is('public', 'vector_mul', ARRAY['vector', 'vector'], 'immutable');
SELECT has_function('public', 'vector_concat', ARRAY['vector', 'vector']);
SELECT function_returns('public', 'vector_concat', ARRAY['vector', 'vector'], 'vector');
SELECT volatility_is('public', 'vector_concat', ARRAY['vector', 'vector'], 'immutable');
SELECT has_function('public', 'vector_lt', ARRAY['vector', 'vector']);
SELECT function_returns('public', 'vector_lt', ARRAY['vector', 'vector'], 'boolean');
SELECT volatility_is('public', 'vector_lt', ARRAY['vector', 'vector'], 'immutable');
SELECT has_function('public', 'vector_le', ARRAY['vector', 'vector']);
SELECT function_returns('public', 'vector_le', ARRAY['vector', 'vector'], 'boolean');
SELECT volatility_is('public', 'vector_le', ARRAY['vector', 'vector'], 'immutable');
SELECT has_function('public', 'vector_eq', ARRAY['vector', 'vector']);
SELECT function_returns('public', 'vector_eq', ARRAY['vector', 'vector'], 'boolean');
SELECT volatility_is('public', 'vector_eq', ARRAY['vector', 'vector'], 'immutable');
SELECT has_function('public', 'vector_ne', ARRAY['vector', 'vector']);
SELECT function_returns('public', 'vector_ne', ARRAY['vector', 'vector'], 'boolean');
SELECT volatility_is('public', 'vector_ne', ARRAY['vector', 'vector'], 'immutable');
SELECT has_function('public', 'vector_ge', ARRAY['vector', 'vector']);
SELECT function_returns('public', 'vector_ge', ARRAY['vector', 'vector'], 'boolean');
SELECT volatility_is('public', 'vector_ge', ARRAY['vector', 'vector'], 'immutable');
SELECT has_function('public', 'vector_gt', ARRAY['vector', 'vector']);
SELECT function_returns('public', 'vector_gt', ARRAY['vector', 'vector'], 'boolean');
SELECT volatility_is('public', 'vector_gt', ARRAY['vector', 'vector'], 'immutable');
SELECT has_function('public', 'vector_cmp', ARRAY['vector', 'vector']);
SELECT function_returns('public', 'vector_cmp', ARRAY['vector', 'vector'], 'integer');
SELECT volatility_is('public', 'vector_cmp', ARRAY['vector', 'vector'], 'immutable');

-- aggregate support

SELECT has_function('public', 'vector_accum', ARRAY['double precision[]', 'vector']);
SELECT function_returns('public', 'vector_accum', ARRAY['double precision[]', 'vector'], 'double precision[]');
SELECT volatility_is('public', 'vector_accum', ARRAY['double precision[]', 'vector'], 'immutable');
SELECT has_function('public', 'vector_combine', ARRAY['double precision[]', 'double precision[]']);
SELECT function_returns('public', 'vector_combine', ARRAY['double precision[]', 'double precision[]'], 'double precision[]');
SELECT volatility_is('public', 'vector_combine', ARRAY['double precision[]', 'double precision[]'], 'immutable');
SELECT has_function('public', 'vector_avg', ARRAY['double precision[]']);
SELECT function_returns('public', 'vector_avg', ARRAY['double precision[]'], 'vector');
SELECT volatility_is('public', 'vector_avg', ARRAY['double precision[]'], 'immutable');
SELECT has_function('public', 'vector_sum', ARRAY['double precision[]']);
SELECT function_returns('public', 'vector_sum', ARRAY['double precision[]'], 'vector');
SELECT volatility_is('public', 'vector_sum', ARRAY['double precision[]'], 'immutable');

-- cast functions

SELECT has_function('public', 'vector', ARRAY['vector', 'integer', 'boolean']);
SELECT function_returns('public', 'vector', ARRAY['vector', 'integer', 'boolean'], 'vector');
SELECT volatility_is('public', 'vector', ARRAY['vector', 'integer', 'boolean'], 'immutable');
SELECT has_function('public', 'array_to_vector', ARRAY['integer[]', 'integer', 'boolean']);
SELECT function_returns('public', 'array_to_vector', ARRAY['integer[]', 'integer', 'boolean'], 'vector');
SELECT volatility_is('public', 'array_to_vector', ARRAY['integer[]', 'integer', 'boolean'], 'immutable');
SELECT has_function('public', 'array_to_vector', ARRAY['real[]', 'integer', 'boolean']);
SELECT function_returns('public', 'array_to_vector', ARRAY['real[]', 'integer', 'boolean'], 'vector');
SELECT volatility_is('public', 'array_to_vector', ARRAY['real[]', 'integer', 'boolean'], 'immutable');
SELECT has_function('public', 'array_to_vector', ARRAY['double precision[]', 'integer', 'boolean']);
SELECT function_returns('public', 'array_to_vector', ARRAY['double precision[]', 'integer', 'boolean'], 'vector');
SELECT volatility_is('public', 'array_to_vector', ARRAY['double precision[]', 'integer', 'boolean'], 'immutable');
SELECT has_function('public', 'array_to_vector', ARRAY['numeric[]', 'integer', 'boolean']);
SELECT function_returns('public', 'array_to_vector', ARRAY['numeric[]', 'integer', 'boolean'], 'vector');
SELECT volatility_is('public', 'array_to_vector', ARRAY['numeric[]', 'integer', 'boolean'], 'immutable');
SELECT has_function('public', 'vector_to_float4', ARRAY['vector', 'integer', 'boolean']);
SELECT function_returns('public', 'vector_to_float4', ARRAY['vector', 'integer', 'boolean'], 'real[]');
SELECT volatility_is('public', 'vector_to_float4', ARRAY['vector', 'integer', 'boolean'], 'immutable');

-- aggregates
SELECT has_function('public', 'avg', ARRAY['vector']);
SELECT is_aggregate('public', 'avg', ARRAY['vector']);
SELECT function_returns('public', 'avg', ARRAY['vector'], 'vector');
SELECT ok(
    coalesce((SELECT aggcombinefn <> 0 FROM pg_aggregate
               WHERE aggfnoid = to_regprocedure('public.avg(public.vector)')), false),
    'avg(vector) has a combine function, so it can run in parallel'
);
SELECT results_eq(
    $$SELECT aggtransfn::regprocedure::text, aggfinalfn::regprocedure::text,
             aggcombinefn::regprocedure::text, aggtranstype::regtype::text,
             agginitval COLLATE "default"
        FROM pg_aggregate WHERE aggfnoid = to_regprocedure('public.avg(public.vector)')$$,
    $$VALUES ('vector_accum(double precision[],vector)', 'vector_avg(double precision[])',
              'vector_combine(double precision[],double precision[])', 'double precision[]', '{0}')$$,
    'avg(vector): transition, final and combine functions, state type and initial state'
);

SELECT has_function('public', 'sum', ARRAY['vector']);
SELECT is_aggregate('public', 'sum', ARRAY['vector']);
SELECT function_returns('public', 'sum', ARRAY['vector'], 'vector');
SELECT ok(
    coalesce((SELECT aggcombinefn <> 0 FROM pg_aggregate
               WHERE aggfnoid = to_regprocedure('public.sum(public.vector)')), false),
    'sum(vector) has a combine function, so it can run in parallel'
);
SELECT results_eq(
    $$SELECT aggtransfn::regprocedure::text, aggfinalfn::regprocedure::text,
             aggcombinefn::regprocedure::text, aggtranstype::regtype::text,
             agginitval COLLATE "default"
        FROM pg_aggregate WHERE aggfnoid = to_regprocedure('public.sum(public.vector)')$$,
    $$VALUES ('vector_accum(double precision[],vector)', 'vector_sum(double precision[])',
              'vector_combine(double precision[],double precision[])', 'double precision[]', '{0}')$$,
    'sum(vector): transition, final and combine functions, state type and initial state'
);

-- casts
SELECT has_cast('vector', 'vector', 'public', 'vector',
    'Cast (vector AS vector) WITH FUNCTION public.vector should exist');
SELECT cast_context_is('vector', 'vector', 'implicit');
SELECT has_cast('vector', 'real[]', 'public', 'vector_to_float4',
    'Cast (vector AS real[]) WITH FUNCTION public.vector_to_float4 should exist');
SELECT cast_context_is('vector', 'real[]', 'implicit');
SELECT has_cast('integer[]', 'vector', 'public', 'array_to_vector',
    'Cast (integer[] AS vector) WITH FUNCTION public.array_to_vector should exist');
SELECT cast_context_is('integer[]', 'vector', 'assignment');
SELECT has_cast('real[]', 'vector', 'public', 'array_to_vector',
    'Cast (real[] AS vector) WITH FUNCTION public.array_to_vector should exist');
SELECT cast_context_is('real[]', 'vector', 'assignment');
SELECT has_cast('double precision[]', 'vector', 'public', 'array_to_vector',
    'Cast (double precision[] AS vector) WITH FUNCTION public.array_to_vector should exist');
SELECT cast_context_is('double precision[]', 'vector', 'assignment');
SELECT has_cast('numeric[]', 'vector', 'public', 'array_to_vector',
    'Cast (numeric[] AS vector) WITH FUNCTION public.array_to_vector should exist');
SELECT cast_context_is('numeric[]', 'vector', 'assignment');

-- operators: distances
SELECT has_operator('vector', 'public', '<->', 'vector', 'double precision',
    'Operator public.<->(vector, vector) RETURNS double precision should exist');
SELECT has_operator('vector', 'public', '<#>', 'vector', 'double precision',
    'Operator public.<#>(vector, vector) RETURNS double precision should exist');
SELECT has_operator('vector', 'public', '<=>', 'vector', 'double precision',
    'Operator public.<=>(vector, vector) RETURNS double precision should exist');
SELECT has_operator('vector', 'public', '<+>', 'vector', 'double precision',
    'Operator public.<+>(vector, vector) RETURNS double precision should exist');
-- operators: arithmetic
SELECT has_operator('vector', 'public', '+', 'vector', 'vector',
    'Operator public.+(vector, vector) RETURNS vector should exist');
SELECT has_operator('vector', 'public', '-', 'vector', 'vector',
    'Operator public.-(vector, vector) RETURNS vector should exist');
SELECT has_operator('vector', 'public', '*', 'vector', 'vector',
    'Operator public.*(vector, vector) RETURNS vector should exist');
SELECT has_operator('vector', 'public', '||', 'vector', 'vector',
    'Operator public.||(vector, vector) RETURNS vector should exist');
-- operators: comparison
SELECT has_operator('vector', 'public', '<', 'vector', 'boolean',
    'Operator public.<(vector, vector) RETURNS boolean should exist');
SELECT has_operator('vector', 'public', '<=', 'vector', 'boolean',
    'Operator public.<=(vector, vector) RETURNS boolean should exist');
SELECT has_operator('vector', 'public', '=', 'vector', 'boolean',
    'Operator public.=(vector, vector) RETURNS boolean should exist');
SELECT has_operator('vector', 'public', '<>', 'vector', 'boolean',
    'Operator public.<>(vector, vector) RETURNS boolean should exist');
SELECT has_operator('vector', 'public', '>=', 'vector', 'boolean',
    'Operator public.>=(vector, vector) RETURNS boolean should exist');
SELECT has_operator('vector', 'public', '>', 'vector', 'boolean',
    'Operator public.>(vector, vector) RETURNS boolean should exist');

-- btree operator class
SELECT has_opclass('public', 'vector_ops', 'Operator class public.vector_ops should exist');
SELECT ok(
    coalesce((SELECT c.opcdefault
                FROM pg_opclass c JOIN pg_am a ON a.oid = c.opcmethod
               WHERE c.opcname = 'vector_ops' AND c.opcnamespace = 'public'::regnamespace
                 AND a.amname = 'btree' AND c.opcintype = to_regtype('public.vector')), false),
    'vector_ops is the default btree operator class for vector'
);
SELECT set_eq(
    $$SELECT 'operator ' || o.amopstrategy || ' ' || o.amopopr::regoperator::text
        FROM pg_amop o JOIN pg_opclass c ON c.opcfamily = o.amopfamily
       WHERE c.opcname = 'vector_ops' AND c.opcnamespace = 'public'::regnamespace
      UNION ALL
      SELECT 'function ' || p.amprocnum || ' ' || p.amproc::regprocedure::text
        FROM pg_amproc p JOIN pg_opclass c ON c.opcfamily = p.amprocfamily
       WHERE c.opcname = 'vector_ops' AND c.opcnamespace = 'public'::regnamespace$$,
    ARRAY['operator 1 <(vector,vector)', 'operator 2 <=(vector,vector)',
          'operator 3 =(vector,vector)', 'operator 4 >=(vector,vector)',
          'operator 5 >(vector,vector)', 'function 1 vector_cmp(vector,vector)'],
    'vector_ops: strategies 1-5 are < <= = >= >, support function 1 is vector_cmp'
);

SELECT * FROM finish();
ROLLBACK;
