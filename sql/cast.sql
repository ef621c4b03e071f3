-- casts between vectors, halfvecs and arrays

SELECT ARRAY[1,2,3]::vector, ARRAY[1.5,2.5]::real[]::vector, ARRAY[1.25,-2]::double precision[]::vector,
       ARRAY[1.5,2]::numeric[]::vector;
SELECT '[1,2,3]'::vector::real[], '[1.5,2]'::halfvec::real[];
SELECT ARRAY[1,2,3]::halfvec, ARRAY[1.5,2.5]::real[]::halfvec, ARRAY[1.25,-2]::float8[]::halfvec,
       ARRAY[1.5,2]::numeric[]::halfvec;
SELECT '[1.5,2.25]'::vector::halfvec, '[1.5,2.25]'::halfvec::vector;
SELECT '[0.1]'::vector::halfvec::vector AS rounded_to_float16;
SELECT ARRAY[1,2,3]::vector(3), '[1,2]'::vector::halfvec(2), '[1,2]'::halfvec::vector(2);

-- assignment casts let arrays and vectors be stored in either column type
CREATE TABLE c (v vector(2), h halfvec(2));
INSERT INTO c VALUES (ARRAY[1,2], ARRAY[3,4]), ('[5,6]'::vector, '[7,8]'::vector), ('[1,1]'::halfvec, ARRAY[0.5,0.5]::real[]);
SELECT * FROM c ORDER BY v;
-- a halfvec column compares with a vector literal through the implicit vector -> halfvec cast
SELECT h <-> '[3,4]'::vector AS d FROM c ORDER BY d;

-- bad casts
SELECT ARRAY[1,NULL]::vector;
SELECT ARRAY[[1,2],[3,4]]::vector;
SELECT '{}'::int[]::vector;
SELECT ARRAY['NaN']::real[]::vector;
SELECT ARRAY['Infinity']::float8[]::vector;
SELECT ARRAY[1e300]::float8[]::vector;
SELECT ARRAY['NaN']::numeric[]::vector;
SELECT ARRAY[1e40]::numeric[]::vector;
SELECT ARRAY[1,2,3]::vector(2);
SELECT ARRAY[70000]::halfvec;
SELECT '[70000]'::vector::halfvec;
SELECT '[1,2,3]'::vector::halfvec(2);
SELECT '[1,2,3]'::halfvec::vector(2);
SELECT array_fill(1, ARRAY[16001])::vector;
SELECT ARRAY[1,2]::bigint[]::vector;
INSERT INTO c VALUES (ARRAY[1,2,3], NULL);
SELECT count(*) AS rows_unchanged FROM c;

DROP TABLE c;
