-- Errors that clients and drivers match on by SQLSTATE (the same ones
-- pgvector raises): 22P02 malformed literal, 22000 data exception (NaN,
-- infinity, dimension mismatch), 54000 too many dimensions, 22003 a value out
-- of the element type's range.
BEGIN;
SELECT plan(22);

-- malformed text: 22P02
SELECT throws_ok($$SELECT '[1,2'::vector$$, '22P02', NULL, 'vector: unterminated literal is 22P02');
SELECT throws_ok($$SELECT '1,2]'::vector$$, '22P02', NULL, 'vector: literal without [ is 22P02');
SELECT throws_ok($$SELECT '[1,x]'::vector$$, '22P02', NULL, 'vector: non-numeric element is 22P02');
SELECT throws_ok($$SELECT '[1,2] 3'::vector$$, '22P02', NULL, 'vector: junk after ] is 22P02');
SELECT throws_ok($$SELECT '[1,2'::halfvec$$, '22P02', NULL, 'halfvec: unterminated literal is 22P02');

-- dimension mismatch: 22000
SELECT throws_ok($$SELECT '[1,2]'::vector <-> '[1,2,3]'::vector$$, '22000', NULL,
                 'vector: <-> of different dimensions is 22000');
SELECT throws_ok($$SELECT '[1,2]'::vector + '[1,2,3]'::vector$$, '22000', NULL,
                 'vector: + of different dimensions is 22000');
SELECT throws_ok($$SELECT '[1,2]'::halfvec <=> '[1,2,3]'::halfvec$$, '22000', NULL,
                 'halfvec: <=> of different dimensions is 22000');
SELECT throws_ok($$SELECT '[1,2]'::vector(3)$$, '22000', NULL,
                 'vector: 2 dimensions into vector(3) is 22000');
SELECT throws_ok($$SELECT avg(v) FROM (VALUES ('[1,2]'::vector), ('[1,2,3]')) t(v)$$, '22000', NULL,
                 'vector: avg over different dimensions is 22000');
SELECT throws_ok($$SELECT B'101' <~> B'1011'$$, '22000', NULL,
                 'bit: <~> of different lengths is 22000');

-- NaN and infinity: 22000
SELECT throws_ok($$SELECT '[NaN]'::vector$$, '22000', NULL, 'vector: NaN is 22000');
SELECT throws_ok($$SELECT '[1,Infinity]'::vector$$, '22000', NULL, 'vector: infinity is 22000');
SELECT throws_ok($$SELECT ARRAY['NaN'::real]::vector$$, '22000', NULL, 'vector: NaN from real[] is 22000');
SELECT throws_ok($$SELECT '[NaN]'::halfvec$$, '22000', NULL, 'halfvec: NaN is 22000');

-- no dimensions: 22000; too many: 54000
SELECT throws_ok($$SELECT '[]'::vector$$, '22000', NULL, 'vector: zero dimensions is 22000');
SELECT throws_ok($$SELECT ('[' || repeat('1,', 16000) || '1]')::vector$$, '54000', NULL,
                 'vector: 16001 dimensions in text is 54000');
SELECT throws_ok($$SELECT array_fill(1::real, ARRAY[16001])::vector$$, '54000', NULL,
                 'vector: 16001 dimensions from real[] is 54000');
SELECT throws_ok($$SELECT ('[' || repeat('1,', 16000) || '1]')::halfvec$$, '54000', NULL,
                 'halfvec: 16001 dimensions is 54000');

-- out of range: 22003
SELECT throws_ok($$SELECT '[1e39]'::vector$$, '22003', NULL, 'vector: 1e39 overflows float4, 22003');
SELECT throws_ok($$SELECT ARRAY[1e39::float8]::vector$$, '22003', NULL,
                 'vector: 1e39 from float8[] overflows float4, 22003');
SELECT throws_ok($$SELECT '[70000]'::halfvec$$, '22003', NULL, 'halfvec: 70000 overflows float16, 22003');

SELECT * FROM finish();
ROLLBACK;
