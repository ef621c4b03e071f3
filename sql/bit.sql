-- Hamming and Jaccard distances on bit strings

SELECT B'1100' <~> B'1010' AS hamming, hamming_distance(B'1111', B'0000');
SELECT B'1100' <%> B'1010' AS jaccard, jaccard_distance(B'1111', B'1111'),
       jaccard_distance(B'1000', B'0001'), jaccard_distance(B'0000', B'0000') AS empty_sets;
-- more than 64 bits, and a length that is not a multiple of 8
SELECT repeat('1', 131)::bit(131) <~> repeat('0', 131)::bit(131) AS hamming_131,
       (repeat('10', 50))::bit(100) <%> (repeat('11', 50))::bit(100) AS jaccard_100;
SELECT binary_quantize('[1,-2,3]'::vector) <~> binary_quantize('[-1,2,3]'::vector);

-- lengths must match
SELECT B'110' <~> B'11';
SELECT B'110' <%> B'1100';
