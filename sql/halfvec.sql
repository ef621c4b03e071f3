-- halfvec: float16 vectors

SELECT '[1,2,3]'::halfvec;
SELECT ' [ 1.5 , -2e2, 0.1 ] '::halfvec;       -- 0.1 is the nearest float16
SELECT '[65504,-65504,6e-8,1e-9]'::halfvec;     -- limits; tiny values round to zero
SELECT '[1,2,3]'::halfvec(3);
SELECT vector_dims(array_fill(1, ARRAY[16000])::halfvec);

-- bad input
SELECT '[65520]'::halfvec;
SELECT '[1e39]'::halfvec;
SELECT '[NaN]'::halfvec;
SELECT '[Infinity]'::halfvec;
SELECT '[]'::halfvec;
SELECT '[1,2'::halfvec;
SELECT '[1,2]'::halfvec(3);
SELECT ('[' || array_to_string(array_fill(1, ARRAY[16001]), ',') || ']')::halfvec;
CREATE TABLE bad (h halfvec(0));
CREATE TABLE bad (h halfvec(16001));

CREATE TABLE h3 (h halfvec(3));
INSERT INTO h3 VALUES ('[1,2,3]'), (NULL);
INSERT INTO h3 VALUES ('[1,2]');
INSERT INTO h3 VALUES ('[1,2,70000]');
SELECT * FROM h3;

-- binary send
SELECT halfvec_send('[1,-2,0.5]');

-- distances
SELECT '[1,2,3]'::halfvec <-> '[4,6,3]' AS l2, '[1,2,3]'::halfvec <#> '[4,5,6]' AS neg_ip,
       '[1,0]'::halfvec <=> '[0,1]' AS cos, '[1,2,3]'::halfvec <+> '[4,0,3]' AS l1;
SELECT l2_distance('[1,2,3]'::halfvec, '[4,6,3]'), inner_product('[1,2,3]'::halfvec, '[4,5,6]'),
       cosine_distance('[1,1]'::halfvec, '[2,2]'), l1_distance('[1,2,3]'::halfvec, '[4,0,3]'),
       halfvec_l2_squared_distance('[1,2,3]', '[4,6,3]'), halfvec_negative_inner_product('[1,2]', '[3,4]');
SELECT cosine_distance('[0,0]'::halfvec, '[1,1]') AS zero_is_nan;
SELECT l2_distance(array_fill(1, ARRAY[1537])::halfvec, array_fill(2, ARRAY[1537])::halfvec) = sqrt(1537) AS l2_1537,
       inner_product(array_fill(2, ARRAY[777])::halfvec, array_fill(3, ARRAY[777])::halfvec) AS ip_777,
       l1_distance(array_fill(1, ARRAY[33])::halfvec, array_fill(-1, ARRAY[33])::halfvec) AS l1_33;
SELECT '[1,2]'::halfvec <-> '[1,2,3]';
SELECT '[1,2]'::halfvec <#> '[1,2,3]';
SELECT '[1,2]'::halfvec <=> '[1,2,3]';
SELECT '[1,2]'::halfvec <+> '[1,2,3]';

-- functions
SELECT vector_dims('[1,2,3]'::halfvec), l2_norm('[3,4]'::halfvec), l2_normalize('[3,4]'::halfvec),
       l2_normalize('[0,0]'::halfvec);
SELECT subvector('[1,2,3,4,5]'::halfvec, 2, 3), subvector('[1,2,3]'::halfvec, 3, 5);
SELECT subvector('[1,2,3]'::halfvec, 4, 1);
SELECT binary_quantize('[1,-1,0,2]'::halfvec);

-- arithmetic: results must fit float16
SELECT '[1,2,3]'::halfvec + '[4,5,6]' AS add, '[1,2,3]'::halfvec - '[4,5,6]' AS sub,
       '[1,2,3]'::halfvec * '[4,5,6]' AS mul, '[1,2]'::halfvec || '[3]' AS concat;
SELECT '[60000]'::halfvec + '[60000]';
SELECT '[-60000]'::halfvec - '[60000]';
SELECT '[300]'::halfvec * '[300]';
SELECT '[0.0001]'::halfvec * '[0.0001]';
SELECT '[1,2]'::halfvec + '[1]';
SELECT array_fill(1, ARRAY[16000])::halfvec || '[1]'::halfvec;

-- comparison
SELECT '[1,2]'::halfvec < '[1,3]' AS lt, '[1,2]'::halfvec <= '[1,2]' AS le, '[1,2]'::halfvec = '[1,2]' AS eq,
       '[1,2]'::halfvec <> '[1,2]' AS ne, '[2]'::halfvec >= '[1,9]' AS ge, '[1,2,3]'::halfvec > '[1,2]' AS gt;
SELECT halfvec_cmp('[1,2]', '[1,2]'), halfvec_cmp('[-1]', '[1]'), halfvec_cmp('[1,2]', '[1]');

DROP TABLE h3;
