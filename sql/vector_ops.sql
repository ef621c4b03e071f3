-- vector: operators and functions

-- distances
SELECT '[1,2,3]'::vector <-> '[4,6,3]' AS l2, l2_distance('[1,2,3]', '[4,6,3]'::vector);
SELECT '[1,2,3]'::vector <#> '[4,5,6]' AS neg_ip, inner_product('[1,2,3]', '[4,5,6]'::vector);
SELECT '[1,0]'::vector <=> '[0,1]' AS orthogonal, '[1,1]'::vector <=> '[2,2]' AS parallel,
       '[1,1]'::vector <=> '[-1,-1]' AS opposite;
SELECT cosine_distance('[1,2]', '[2,4]'::vector), cosine_distance('[0,0]', '[1,1]'::vector) AS zero_is_nan;
-- float sums of squares would overflow or vanish here; the distance must not
SELECT '[1e20,1e20]'::vector <=> '[1e20,1e20]' AS huge, '[1e-30,1e-30]'::vector <=> '[1e-30,1e-30]' AS tiny,
       '[1e20,0]'::vector <=> '[0,1e-30]' AS orthogonal_extremes;
SELECT '[1,2,3]'::vector <+> '[4,0,3]' AS l1, l1_distance('[1,2,3]', '[4,0,3]'::vector);
SELECT vector_l2_squared_distance('[1,2,3]', '[4,6,3]'), vector_negative_inner_product('[1,2]', '[3,4]');
-- long vectors exercise the SIMD loops and their tails
SELECT l2_distance(array_fill(1, ARRAY[1537])::vector, array_fill(2, ARRAY[1537])::vector) = sqrt(1537) AS l2_1537,
       inner_product(array_fill(2, ARRAY[777])::vector, array_fill(3, ARRAY[777])::vector) AS ip_777,
       l1_distance(array_fill(1, ARRAY[33])::vector, array_fill(-1, ARRAY[33])::vector) AS l1_33;
SELECT round(cosine_distance(array_fill(1, ARRAY[100])::vector, array_fill(1, ARRAY[100])::vector)::numeric, 6) AS same_direction;

-- dimension mismatch: 22000
SELECT '[1,2]'::vector <-> '[1,2,3]';
SELECT '[1,2]'::vector <#> '[1,2,3]';
SELECT '[1,2]'::vector <=> '[1,2,3]';
SELECT '[1,2]'::vector <+> '[1,2,3]';
SELECT '[1,2]'::vector + '[1,2,3]';

-- dims, norm, normalize
SELECT vector_dims('[1,2,3]'::vector), vector_norm('[3,4]'), vector_norm('[0,0]');
SELECT l2_normalize('[3,4]'::vector), l2_normalize('[0,0]'::vector), l2_normalize('[-5]'::vector);
SELECT vector_norm(l2_normalize('[1,2,3,4,5]'::vector)) BETWEEN 0.999999 AND 1.000001 AS unit;

-- subvector: 1-based start, clipped to the vector
SELECT subvector('[1,2,3,4,5]'::vector, 2, 3), subvector('[1,2,3,4,5]'::vector, 4, 10),
       subvector('[1,2,3,4,5]'::vector, -1, 3), subvector('[1,2,3]'::vector, 1, 2147483647);
SELECT subvector('[1,2,3]'::vector, 4, 1);
SELECT subvector('[1,2,3]'::vector, 1, 0);
SELECT subvector('[1,2,3]'::vector, -5, 3);

-- arithmetic
SELECT '[1,2,3]'::vector + '[4,5,6]' AS add, '[1,2,3]'::vector - '[4,5,6]' AS sub,
       '[1,2,3]'::vector * '[4,5,6]' AS mul, '[1,2]'::vector || '[3]' AS concat;
SELECT '[3e38]'::vector + '[3e38]';
SELECT '[-3e38]'::vector - '[3e38]';
SELECT '[1e30]'::vector * '[1e30]';
SELECT '[1e-30]'::vector * '[1e-30]';
SELECT array_fill(1, ARRAY[10000])::vector || array_fill(1, ARRAY[6001])::vector;
SELECT vector_dims(array_fill(1, ARRAY[10000])::vector || array_fill(1, ARRAY[6000])::vector);

-- comparison
SELECT '[1,2]'::vector < '[1,3]' AS lt, '[1,2]'::vector <= '[1,2]' AS le, '[1,2]'::vector = '[1,2]' AS eq,
       '[1,2]'::vector <> '[1,2]' AS ne, '[2]'::vector >= '[1,9]' AS ge, '[1,2,3]'::vector > '[1,2]' AS gt;
SELECT vector_cmp('[1,2]', '[1,2]'), vector_cmp('[1]', '[1,0]'), vector_cmp('[2]', '[1,5]');
SELECT '[0]'::vector = '[-0]' AS zero_equals_negative_zero;

-- binary quantization and the bit distances
SELECT binary_quantize('[1,0,-1,0.5,-0.5,3,0,0,1]'::vector);
SELECT binary_quantize('[1,-1]'::vector) <~> binary_quantize('[1,1]'::vector) AS hamming;

-- the SIMD kernel setting: every supported variant returns the same answers
SHOW vecdb.kernel;
SELECT vecdb.active_kernel() IN ('scalar', 'avx2', 'avx512') AS known_kernel;
SET vecdb.kernel = 'scalar';
SELECT vecdb.active_kernel();
SELECT '[1,2,3]'::vector <-> '[4,6,3]' AS l2, '[1,2,3]'::vector <#> '[4,5,6]' AS neg_ip,
       '[1,0]'::vector <=> '[0,1]' AS cos, '[1,2,3]'::vector <+> '[4,0,3]' AS l1;
SET vecdb.kernel = 'sse9';
RESET vecdb.kernel;
DO $$
DECLARE
  k text;
  a vector := (SELECT array_agg(sin(i))::real[]::vector FROM generate_series(1, 1001) i);
  b vector := (SELECT array_agg(cos(i * 0.7))::real[]::vector FROM generate_series(1, 1001) i);
  ref float8[];
  got float8[];
  checked int := 0;
BEGIN
  SET LOCAL vecdb.kernel = 'scalar';
  ref := ARRAY[a <-> b, a <#> b, a <=> b, a <+> b, a::halfvec <-> b::halfvec, a::halfvec <#> b::halfvec,
               a::halfvec <=> b::halfvec, a::halfvec <+> b::halfvec];
  FOREACH k IN ARRAY ARRAY['avx2', 'avx512', 'auto'] LOOP
    BEGIN
      PERFORM set_config('vecdb.kernel', k, true);
    EXCEPTION WHEN invalid_parameter_value THEN
      CONTINUE;  -- this CPU cannot run it
    END;
    got := ARRAY[a <-> b, a <#> b, a <=> b, a <+> b, a::halfvec <-> b::halfvec, a::halfvec <#> b::halfvec,
                 a::halfvec <=> b::halfvec, a::halfvec <+> b::halfvec];
    FOR i IN 1 .. array_length(ref, 1) LOOP
      IF abs(got[i] - ref[i]) > 1e-4 * greatest(1, abs(ref[i])) THEN
        RAISE EXCEPTION 'kernel % disagrees on distance %: % vs %', k, i, got[i], ref[i];
      END IF;
    END LOOP;
    checked := checked + 1;
  END LOOP;
  IF checked = 0 THEN
    RAISE EXCEPTION 'auto must always be accepted';
  END IF;
  RAISE NOTICE 'every supported kernel agrees with scalar';
END
$$;
