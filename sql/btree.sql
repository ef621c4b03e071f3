-- btree: ORDER BY, DISTINCT, UNIQUE, GROUP BY and index scans on vectors

CREATE TABLE b (id int, v vector(2), h halfvec(2));
INSERT INTO b VALUES (1, '[1,2]', '[1,2]'), (2, '[1,1]', '[1,1]'), (3, '[0,5]', '[0,5]'),
                     (4, '[1,2]', '[1,2]'), (5, NULL, NULL);
SELECT id, v FROM b ORDER BY v, id;
SELECT id, h FROM b ORDER BY h DESC NULLS LAST, id;
SELECT DISTINCT v FROM b ORDER BY v;
SELECT v, count(*) FROM b GROUP BY v ORDER BY v;
SELECT count(DISTINCT h) FROM b;

CREATE INDEX b_v ON b (v);
CREATE INDEX b_h ON b (h);
SET enable_seqscan = off;
EXPLAIN (COSTS OFF) SELECT id FROM b WHERE v = '[1,2]';
SELECT id FROM b WHERE v = '[1,2]' ORDER BY id;
SELECT id FROM b WHERE h > '[1,1]' ORDER BY id;
RESET enable_seqscan;

CREATE TABLE u (v vector UNIQUE);
INSERT INTO u VALUES ('[1,2]'), ('[1,2,3]');
INSERT INTO u VALUES ('[1,2]');
SELECT count(*) FROM u;

DROP TABLE b, u;
