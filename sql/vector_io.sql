-- vector: text input and output, typmods, binary I/O, bad input

-- text form: whitespace and exponents accepted, shortest exact output
SELECT '[1,2,3]'::vector;
SELECT ' [ 1 , -2.5 ,3e2 ] '::vector;
SELECT '[1.5e-3,-0,1E+10]'::vector;
SELECT '[0.1,0.2,0.30000001]'::vector;
SELECT '[3.4028235e38,-3.4028235e38,1e-45]'::vector;
SELECT '[1e-50]'::vector;   -- underflow rounds to zero, as float4 does
SELECT '[1,2,3]'::vector(3);
SELECT vector_dims(array_fill(1, ARRAY[16000])::vector);

-- malformed text: 22P02
SELECT '1,2,3'::vector;
SELECT '[1,2,3'::vector;
SELECT '[1,,2]'::vector;
SELECT '[1,2,]'::vector;
SELECT '[1 2]'::vector;
SELECT '[a]'::vector;
SELECT '[1,2] x'::vector;
SELECT '[[1]]'::vector;
SELECT ''::vector;

-- bad elements and sizes
SELECT '[]'::vector;
SELECT '[ ]'::vector;
SELECT '[NaN]'::vector;
SELECT '[1,Infinity]'::vector;
SELECT '[-inf]'::vector;
SELECT '[1e39]'::vector;
SELECT ('[' || array_to_string(array_fill(1, ARRAY[16001]), ',') || ']')::vector;

-- typmods
CREATE TABLE t3 (v vector(3));
INSERT INTO t3 VALUES ('[1,2,3]');
INSERT INTO t3 VALUES ('[1,2]');
INSERT INTO t3 VALUES ('[1,2,3,4]'::vector);
UPDATE t3 SET v = '[1,2]'::vector;
SELECT * FROM t3;
SELECT '[1,2]'::vector(3);
CREATE TABLE bad (v vector(0));
CREATE TABLE bad (v vector(16001));
CREATE TABLE bad (v vector(2, 3));
SELECT format_type(atttypid, atttypmod) FROM pg_attribute WHERE attrelid = 't3'::regclass AND attname = 'v';

-- NULL passes through every strict function
SELECT NULL::vector, vector_dims(NULL::vector), l2_distance(NULL, '[1]'::vector);

-- binary send/recv: the pgvector wire format (int16 dim, int16 0, float4s)
SELECT vector_send('[1,-2,0.5]');
-- (files are written by the server, in its data directory)
CREATE TABLE src (v vector);
INSERT INTO src VALUES ('[1,2,3]'), ('[-0.25,1e-30,3.4028235e38]'), (NULL);
DO $$ BEGIN
  EXECUTE format('COPY src TO %L WITH (FORMAT binary)', current_setting('data_directory') || '/vector_io.bin');
END $$;
CREATE TABLE dst (v vector(3));
COPY dst FROM 'vector_io.bin' WITH (FORMAT binary);
SELECT (SELECT array_agg(v ORDER BY v) FROM src) IS NOT DISTINCT FROM (SELECT array_agg(v ORDER BY v) FROM dst) AS same;
TRUNCATE dst;
CREATE TABLE anydim (v vector);

-- bad binary input: a COPY BINARY file with one tuple holding the given field
CREATE FUNCTION bad_copy_file(field bytea) RETURNS void LANGUAGE plpgsql AS $$
BEGIN
  PERFORM lo_from_bytea(4242, '\x5047434f50590aff0d0a00'::bytea || '\x0000000000000000'::bytea
      || '\x0001'::bytea || int4send(length(field)) || field || '\xffff'::bytea);
  PERFORM lo_export(4242, 'vector_io_bad.bin');
  PERFORM lo_unlink(4242);
END
$$;
SELECT bad_copy_file('\x000100007fc00000');          -- NaN
COPY anydim FROM 'vector_io_bad.bin' WITH (FORMAT binary);
SELECT bad_copy_file('\x000100007f800000');          -- infinity
COPY anydim FROM 'vector_io_bad.bin' WITH (FORMAT binary);
SELECT bad_copy_file('\x00000000');                  -- no dimensions
COPY anydim FROM 'vector_io_bad.bin' WITH (FORMAT binary);
SELECT bad_copy_file('\x3e810000');                  -- 16001 dimensions
COPY anydim FROM 'vector_io_bad.bin' WITH (FORMAT binary);
SELECT bad_copy_file('\x000100013f800000');          -- unused field not zero
COPY anydim FROM 'vector_io_bad.bin' WITH (FORMAT binary);
SELECT bad_copy_file('\x000200003f800000');          -- fewer elements than dim
COPY anydim FROM 'vector_io_bad.bin' WITH (FORMAT binary);
SELECT bad_copy_file('\x000200003f8000003f800000');  -- 2 dimensions for a vector(3)
COPY dst FROM 'vector_io_bad.bin' WITH (FORMAT binary);
SELECT (SELECT count(*) FROM dst) + (SELECT count(*) FROM anydim) AS rows_after_bad_input;

-- the SQLSTATEs programs rely on
\set VERBOSITY sqlstate
SELECT '[1,2'::vector;
SELECT '[NaN]'::vector;
SELECT '[1,2]'::vector <-> '[1,2,3]';
SELECT '[1e39]'::vector;
SELECT ('[' || array_to_string(array_fill(1, ARRAY[16001]), ',') || ']')::vector;
\set VERBOSITY default

DROP TABLE t3, src, dst, anydim;
DROP FUNCTION bad_copy_file(bytea);
