-- Catalog of the bit distances (extension/sql/30_bit.sql).  The bit type is
-- PostgreSQL's own; binary_quantize, which produces it, is checked with
-- vector and halfvec.
BEGIN;
SELECT plan(8);

SELECT has_function('public', 'hamming_distance', ARRAY['bit', 'bit']);
SELECT function_returns('public', 'hamming_distance', ARRAY['bit', 'bit'], 'double precision');
SELECT volatility_is('public', 'hamming_distance', ARRAY['bit', 'bit'], 'immutable');
SELECT has_function('public', 'jaccard_distance', ARRAY['bit', 'bit']);
SELECT function_returns('public', 'jaccard_distance', ARRAY['bit', 'bit'], 'double precision');
SELECT volatility_is('public', 'jaccard_distance', ARRAY['bit', 'bit'], 'immutable');

SELECT has_operator('bit', 'public', '<~>', 'bit', 'double precision',
    'Operator public.<~>(bit, bit) RETURNS double precision should exist');
SELECT has_operator('bit', 'public', '<%>', 'bit', 'double precision',
    'Operator public.<%>(bit, bit) RETURNS double precision should exist');

SELECT * FROM finish();
ROLLBACK;
