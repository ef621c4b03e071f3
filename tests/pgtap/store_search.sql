-- search: nearest rows and their distances and scores for each metric and
-- storage, every filter operator against hand-picked rows, filter errors
-- naming the offending part, arguments, the plan (the hnsw index, iterative
-- when filtered), k rows whenever k rows match, and settings put back.
BEGIN;
SELECT plan(110);

-- the error a statement raises, as 'SQLSTATE: message', or 'no error'
CREATE FUNCTION pg_temp.error_of(statement text) RETURNS text
LANGUAGE plpgsql AS $$
DECLARE
	state text;
	message text;
BEGIN
	EXECUTE statement;
	RETURN 'no error';
EXCEPTION WHEN OTHERS THEN
	GET STACKED DIAGNOSTICS state = RETURNED_SQLSTATE, message = MESSAGE_TEXT;
	RETURN state || ': ' || message;
END
$$;

-- deterministic data: 3,000 rows of 8 dimensions, metadata group 0-9 and n
CREATE FUNCTION pg_temp.rows(count integer) RETURNS jsonb
LANGUAGE sql AS $$
	SELECT jsonb_agg(jsonb_build_object(
			'id', 'r' || i,
			'vector', (SELECT jsonb_agg(round(sin(i * j)::numeric, 4)) FROM generate_series(1, 8) j),
			'metadata', jsonb_build_object('group', abs(hashint4(i)) % 10, 'n', i)))
	  FROM generate_series(1, count) i
$$;

DO $$
BEGIN
	PERFORM vecdb.create_store('big', 8, 'l2');
	PERFORM vecdb.upsert_many('big', pg_temp.rows(3000));
	PERFORM vecdb.create_store('hbig', 8, 'cosine', '{"storage": "halfvec"}');
	PERFORM vecdb.upsert_many('hbig', pg_temp.rows(3000));
END
$$;
ANALYZE vecdb_data.big;
ANALYZE vecdb_data.hbig;

CREATE TEMP TABLE q AS SELECT '[0.1,0.2,0.3,0.4,0.5,0.6,0.7,0.8]'::vector AS v;

-- distances and scores, per metric: 2-d points against the query [1,0]
CREATE FUNCTION pg_temp.ranked(store text, k integer) RETURNS text
LANGUAGE sql AS $$
	SELECT string_agg(format('%s %s %s', id, round(distance::numeric, 4), round(score::numeric, 4)), ', ')
	  FROM vecdb.search(store, '[1,0]', k)
$$;
DO $$
DECLARE
	store text;
BEGIN
	FOREACH store IN ARRAY ARRAY['cos', 'l2', 'ip', 'l1'] LOOP
		PERFORM vecdb.create_store('m_' || store, 2, replace(replace(store, 'cos', 'cosine'), 'ip', 'inner_product'));
		PERFORM vecdb.create_store('mh_' || store, 2, replace(replace(store, 'cos', 'cosine'), 'ip', 'inner_product'),
								   '{"storage": "halfvec"}');
		PERFORM vecdb.upsert_many(s, '[{"id": "p1", "vector": [1, 0]}, {"id": "p2", "vector": [0, 1]},
									  {"id": "p3", "vector": [-1, 0.5]}, {"id": "p4", "vector": [3, 4]},
									  {"id": "p5", "vector": [-1, 0]}]')
		  FROM unnest(ARRAY['m_' || store, 'mh_' || store]) s;
	END LOOP;
END
$$;
SELECT is(pg_temp.ranked('m_cos', 5), 'p1 0.0000 1.0000, p4 0.4000 0.8000, p2 1.0000 0.5000, p3 1.8944 0.0528, p5 2.0000 0.0000',
	'cosine: distance is cosine distance, score 1 - d/2 (1 same direction, 0.5 orthogonal, 0 opposite)');
SELECT is(pg_temp.ranked('m_l2', 5), 'p1 0.0000 1.0000, p2 1.4142 0.4142, p5 2.0000 0.3333, p3 2.0616 0.3266, p4 4.4721 0.1827',
	'l2: distance is Euclidean, score 1 / (1 + d)');
SELECT is(pg_temp.ranked('m_ip', 5), 'p4 -3.0000 0.9526, p1 -1.0000 0.7311, p2 0.0000 0.5000, p3 1.0000 0.2689, p5 1.0000 0.2689',
	'inner_product: distance is the negative inner product, score the logistic function of the inner product');
SELECT is(pg_temp.ranked('m_l1', 5), 'p1 0.0000 1.0000, p2 2.0000 0.3333, p5 2.0000 0.3333, p3 2.5000 0.2857, p4 6.0000 0.1429',
	'l1: distance is taxicab, score 1 / (1 + d); equal distances in id order');
SELECT is(pg_temp.ranked('mh_cos', 5), pg_temp.ranked('m_cos', 5), 'halfvec cosine store: the same');
SELECT is(pg_temp.ranked('mh_l2', 5), pg_temp.ranked('m_l2', 5), 'halfvec l2 store: the same');
SELECT is(pg_temp.ranked('mh_ip', 5), pg_temp.ranked('m_ip', 5), 'halfvec inner_product store: the same');
SELECT is(pg_temp.ranked('mh_l1', 5), pg_temp.ranked('m_l1', 5), 'halfvec l1 store: the same');
SELECT is(pg_temp.ranked('m_l2', 2), 'p1 0.0000 1.0000, p2 1.4142 0.4142', 'k limits the rows');
SELECT is((SELECT round(score::numeric, 6) FROM vecdb.search('m_ip', '[1000,0]', 1)), 1.000000::numeric,
	'inner_product: a large inner product scores 1 (no overflow)');
SELECT is((SELECT round(score::numeric, 6) FROM vecdb.search('m_ip', '[-1000,0]', 1, '{"$not": {}}')), NULL::numeric,
	'$not of {} matches nothing');
SELECT is((SELECT round(score::numeric, 6) FROM vecdb.search('m_ip', '[1000,0]', 5) ORDER BY distance DESC LIMIT 1), 0.000000::numeric,
	'inner_product: a large negative inner product scores 0 (no underflow)');
SELECT ok((SELECT bool_and(score BETWEEN 0 AND 1) FROM vecdb.search('big', (SELECT v FROM q), 100)),
	'scores are in [0, 1]');
SELECT ok((SELECT bool_and(s.ok) FROM (
		SELECT distance >= lag(distance) OVER w AND score <= lag(score) OVER w AS ok
		  FROM vecdb.search('big', (SELECT v FROM q), 100) WITH ORDINALITY AS r(id, distance, score, metadata, content, n)
		WINDOW w AS (ORDER BY n)) s),
	'rows come nearest first, scores falling as distances grow');

-- the nearest rows are the nearest rows: the index's answer matches an exact scan
SELECT results_eq(
	$$SELECT id, distance FROM vecdb.search('big', (SELECT v FROM q), 10, NULL, 200)$$,
	$$SELECT id, l2_distance(embedding, (SELECT v FROM q)) FROM vecdb_data.big ORDER BY 2, 1 LIMIT 10$$,
	'search returns the 10 nearest rows and their distances, as an exact scan does');
SELECT results_eq(
	$$SELECT id, round(distance::numeric, 3), metadata, content FROM vecdb.search('hbig', (SELECT v FROM q), 10, NULL, 200)$$,
	$$SELECT id, round(cosine_distance(embedding, (SELECT v FROM q)::halfvec)::numeric, 3), metadata, content
		FROM vecdb_data.hbig ORDER BY cosine_distance(embedding, (SELECT v FROM q)::halfvec), id LIMIT 10$$,
	'and so does a halfvec cosine store (with metadata and content)');

-- the plan: the hnsw index, and the exact branch left unexecuted
SELECT ok(EXISTS (SELECT FROM vecdb.explain_search('big', (SELECT v FROM q), 5) l
				   WHERE l LIKE '%Index Scan using big_embedding_idx on big %(actual rows=5 loops=1)'),
	'explain_search: search reads its 5 rows from the hnsw index');
SELECT ok(EXISTS (SELECT FROM vecdb.explain_search('big', (SELECT v FROM q), 5) l
				   WHERE l LIKE '%Seq Scan on big t (never executed)'),
	'explain_search: the exact scan is not executed when the index gives k rows');
SELECT ok(EXISTS (SELECT FROM vecdb.explain_search('hbig', (SELECT v FROM q), 5) l
				   WHERE l LIKE '%Index Scan using hbig_embedding_idx on hbig %(actual rows=5 loops=1)'),
	'explain_search: a halfvec store''s search uses its hnsw index');

-- a filter: the scan goes on until k rows pass
SET LOCAL hnsw.ef_search = 10;
SELECT is(
	(SELECT count(*) FROM (SELECT id FROM vecdb_data.big
							WHERE (metadata ->> 'group')::int < 1
							ORDER BY embedding <-> (SELECT v FROM q) LIMIT 5) plain),
	1::bigint,
	'(a plain index scan with ef_search 10 finds 1 row of group 0 among its 10)');
SELECT is(
	(SELECT count(*) || ' ' || bool_and((metadata ->> 'group')::int = 0)
	   FROM vecdb.search('big', (SELECT v FROM q), 5, '{"group": {"$lt": 1}}')),
	'5 true',
	'search with that filter returns 5 rows, all of group 0');
SELECT ok(EXISTS (SELECT FROM vecdb.explain_search('big', (SELECT v FROM q), 5, '{"group": {"$lt": 1}}') l
				   WHERE l LIKE '%Index Scan using big_embedding_idx on big %(actual rows=5 loops=1)'),
	'explain_search: those 5 rows come from the hnsw index (an iterative scan)');
SELECT ok(EXISTS (SELECT FROM vecdb.explain_search('big', (SELECT v FROM q), 5, '{"group": {"$lt": 1}}') l
				   WHERE l LIKE '%Rows Removed by Filter: %'),
	'explain_search: and the filter removed rows along the way');
SELECT is(
	(SELECT count(*) FROM vecdb.search('big', (SELECT v FROM q), 50)),
	50::bigint,
	'without a filter, k above ef_search still gives k rows');
SELECT ok(EXISTS (SELECT FROM vecdb.explain_search('big', (SELECT v FROM q), 50) l
				   WHERE l LIKE '%Index Scan using big_embedding_idx on big %(actual rows=50 loops=1)'),
	'explain_search: all 50 from the index');
SELECT is(current_setting('hnsw.ef_search'), '10', 'search leaves hnsw.ef_search as it found it');
SELECT is(current_setting('hnsw.iterative_scan'), 'off', 'search leaves hnsw.iterative_scan as it found it');

-- when the iterative scan gives up, the matching rows are ordered exactly
SET LOCAL hnsw.max_scan_tuples = 20;
SELECT results_eq(
	$$SELECT id, distance FROM vecdb.search('big', (SELECT v FROM q), 5, '{"group": 0}')$$,
	$$SELECT id, l2_distance(embedding, (SELECT v FROM q)) FROM vecdb_data.big
	   WHERE metadata @> '{"group": 0}' ORDER BY 2, 1 LIMIT 5$$,
	'an iterative scan stopped by max_scan_tuples still gives the k nearest matching rows');
SELECT ok(EXISTS (SELECT FROM vecdb.explain_search('big', (SELECT v FROM q), 5, '{"group": {"$lt": 1}}') l
				   WHERE l LIKE '%Seq Scan on big t (actual rows=%'),
	'explain_search: then the exact scan runs');
SELECT is((SELECT count(*) FROM vecdb.search('big', (SELECT v FROM q), 5, '{"n": {"$lte": 3}}')), 3::bigint,
	'when only 3 rows match, search returns those 3');
RESET hnsw.max_scan_tuples;
RESET hnsw.ef_search;

-- settings: what the caller set is what the caller has afterwards
SET LOCAL hnsw.iterative_scan = strict_order;
SET LOCAL hnsw.ef_search = 33;
SELECT is((SELECT count(*) FROM vecdb.search('big', (SELECT v FROM q), 5, '{"group": 3}', 200)), 5::bigint,
	'search with a filter and ef_search');
SELECT is(current_setting('hnsw.iterative_scan') || ' ' || current_setting('hnsw.ef_search'), 'strict_order 33',
	'search put back the caller''s iterative_scan and ef_search');
SELECT is((SELECT count(*) FROM vecdb.explain_search('big', (SELECT v FROM q), 5, '{"group": 3}', 200)) > 0, true,
	'explain_search with a filter and ef_search');
SELECT is(current_setting('hnsw.iterative_scan') || ' ' || current_setting('hnsw.ef_search'), 'strict_order 33',
	'explain_search put them back too');
RESET hnsw.iterative_scan;
RESET hnsw.ef_search;

-- filters, against hand-picked rows (k 1000: every matching row)
DO $$
BEGIN
	PERFORM vecdb.create_store('items', 2, 'l2');
	PERFORM vecdb.upsert_many('items', $items$[
		{"id": "a", "vector": [1, 0], "metadata": {"color": "red", "price": 10, "tags": ["x", "y"], "in_stock": true, "size": {"w": 1, "h": 2}}},
		{"id": "b", "vector": [0, 1], "metadata": {"color": "blue", "price": 20, "tags": ["y"], "in_stock": false}},
		{"id": "c", "vector": [1, 1], "metadata": {"color": "red", "price": 30.5}},
		{"id": "d", "vector": [2, 1], "metadata": {"color": "green", "price": "40"}},
		{"id": "e", "vector": [1, 2], "metadata": {"color": null}},
		{"id": "f", "vector": [2, 2], "metadata": {}},
		{"id": "g", "vector": [3, 1], "metadata": {"color": "red", "price": -5, "tags": []}},
		{"id": "h", "vector": [1, 3], "metadata": {"Color": "red"}},
		{"id": "i", "vector": [3, 3], "metadata": {"we'ird \"key": 1, "color": "red'); DROP TABLE y; --"}}
	]$items$);
END
$$;
CREATE TABLE public.y (x int);
CREATE FUNCTION pg_temp.ids(filter jsonb) RETURNS text
LANGUAGE sql AS $$
	SELECT coalesce(string_agg(id, ',' ORDER BY id), '')
	  FROM vecdb.search('items', '[0,0]', 1000, filter)
$$;
SELECT is(pg_temp.ids(NULL), 'a,b,c,d,e,f,g,h,i', 'no filter: every row');
SELECT is(pg_temp.ids('{}'), 'a,b,c,d,e,f,g,h,i', '{}: every row');
SELECT is(pg_temp.ids('{"color": "red"}'), 'a,c,g', 'equality on a string (keys are case sensitive)');
SELECT is(pg_temp.ids('{"price": 10}'), 'a', 'equality on a number');
SELECT is(pg_temp.ids('{"price": 10.00}'), 'a', 'numbers are equal by value');
SELECT is(pg_temp.ids('{"price": "40"}'), 'd', 'a string is not a number');
SELECT is(pg_temp.ids('{"in_stock": false}'), 'b', 'equality on a boolean');
SELECT is(pg_temp.ids('{"color": null}'), 'e', 'equality on null: a key holding null, not a missing key');
SELECT is(pg_temp.ids('{"tags": ["y"]}'), 'a,b', 'an array value: the row''s array contains it');
SELECT is(pg_temp.ids('{"tags": "y"}'), '', 'a scalar does not match an array holding it');
SELECT is(pg_temp.ids('{"size": {"w": 1}}'), 'a', 'an object value: the row''s object contains it');
SELECT is(pg_temp.ids('{"color": "red", "price": 10}'), 'a', 'several keys: all must match');
SELECT is(pg_temp.ids('{"color": {"$eq": "blue"}}'), 'b', '$eq');
SELECT is(pg_temp.ids('{"color": {"$ne": "red"}}'), 'b,d,e,f,h,i', '$ne (rows without the key match)');
SELECT is(pg_temp.ids('{"color": {"$in": ["blue", "green", "purple"]}}'), 'b,d', '$in');
SELECT is(pg_temp.ids('{"color": {"$in": []}}'), '', '$in of nothing matches nothing');
SELECT is(pg_temp.ids('{"color": {"$nin": ["red", "blue"]}}'), 'd,e,f,h,i', '$nin');
SELECT is(pg_temp.ids('{"color": {"$nin": []}}'), 'a,b,c,d,e,f,g,h,i', '$nin of nothing matches everything');
SELECT is(pg_temp.ids('{"price": {"$gt": 10}}'), 'b,c', '$gt (a string "40" is not a number)');
SELECT is(pg_temp.ids('{"price": {"$gte": 10}}'), 'a,b,c', '$gte');
SELECT is(pg_temp.ids('{"price": {"$lt": 10}}'), 'g', '$lt');
SELECT is(pg_temp.ids('{"price": {"$lte": 10}}'), 'a,g', '$lte');
SELECT is(pg_temp.ids('{"price": {"$gt": 0, "$lt": 25}}'), 'a,b', 'a range: two operators on one key');
SELECT is(pg_temp.ids('{"price": {"$gt": 30.49}}'), 'c', 'fractions compare exactly');
SELECT is(pg_temp.ids('{"tags": {"$exists": true}}'), 'a,b,g', '$exists true');
SELECT is(pg_temp.ids('{"tags": {"$exists": false}}'), 'c,d,e,f,h,i', '$exists false');
SELECT is(pg_temp.ids('{"$and": [{"color": "red"}, {"price": {"$gt": 0}}]}'), 'a,c', '$and');
SELECT is(pg_temp.ids('{"$or": [{"color": "blue"}, {"price": {"$lt": 0}}]}'), 'b,g', '$or');
SELECT is(pg_temp.ids('{"$not": {"color": "red"}}'), 'b,d,e,f,h,i', '$not');
SELECT is(pg_temp.ids('{"$or": [{"$and": [{"color": "red"}, {"tags": {"$exists": true}}]}, {"in_stock": false}]}'), 'a,b,g',
	'operators nest');
SELECT is(pg_temp.ids('{"$not": {"$or": [{"color": "red"}, {"color": "blue"}]}, "price": {"$exists": true}}'), 'd',
	'$not of an $or, beside a key');
SELECT is(pg_temp.ids($f${"we'ird \"key": 1}$f$), 'i', 'keys with quotes are matched as data');
SELECT is(pg_temp.ids($f${"color": "red'); DROP TABLE y; --"}$f$), 'i', 'values with quotes are matched as data');
SELECT is(pg_temp.ids($f${"x') OR true; --": {"$gt": 0}}$f$), '', 'a key under an operator is data too');
SELECT has_table('public', 'y', 'table y survived the filters');

-- bad filters: 22023 naming the offending part, with a hint
SELECT is(pg_temp.error_of($$SELECT pg_temp.ids('[]')$$),
	'22023: invalid filter at filter: expected an object, got array', 'a filter that is an array');
SELECT is(pg_temp.error_of($$SELECT pg_temp.ids('"red"')$$),
	'22023: invalid filter at filter: expected an object, got string', 'a filter that is a string');
SELECT is(pg_temp.error_of($$SELECT pg_temp.ids('null')$$),
	'22023: invalid filter at filter: expected an object, got null', 'a filter that is JSON null');
SELECT is(pg_temp.error_of($$SELECT pg_temp.ids('{"color": {"$regex": "^r"}}')$$),
	'22023: invalid filter at filter.color: unknown operator "$regex"', 'an unknown operator on a key');
SELECT is(pg_temp.error_of($$SELECT pg_temp.ids('{"$where": "1"}')$$),
	'22023: invalid filter at filter: unknown operator "$where" (operators other than $and, $or and $not apply to a key, as in {"price": {"$gt": 10}})',
	'an unknown operator at the top');
SELECT is(pg_temp.error_of($$SELECT pg_temp.ids('{"$gt": 10}')$$),
	'22023: invalid filter at filter: unknown operator "$gt" (operators other than $and, $or and $not apply to a key, as in {"price": {"$gt": 10}})',
	'a comparison without a key');
SELECT is(pg_temp.error_of($$SELECT pg_temp.ids('{"price": {"$gt": "10"}}')$$),
	'22023: invalid filter at filter.price.$gt: expected a number, got string', '$gt with a string');
SELECT is(pg_temp.error_of($$SELECT pg_temp.ids('{"price": {"$lte": true}}')$$),
	'22023: invalid filter at filter.price.$lte: expected a number, got boolean', '$lte with a boolean');
SELECT is(pg_temp.error_of($$SELECT pg_temp.ids('{"color": {"$in": "red"}}')$$),
	'22023: invalid filter at filter.color.$in: expected an array of values, got string', '$in with a string');
SELECT is(pg_temp.error_of($$SELECT pg_temp.ids('{"color": {"$nin": {"a": 1}}}')$$),
	'22023: invalid filter at filter.color.$nin: expected an array of values, got object', '$nin with an object');
SELECT is(pg_temp.error_of($$SELECT pg_temp.ids('{"tags": {"$exists": 1}}')$$),
	'22023: invalid filter at filter.tags.$exists: expected true or false, got number', '$exists with a number');
SELECT is(pg_temp.error_of($$SELECT pg_temp.ids('{"$and": {"color": "red"}}')$$),
	'22023: invalid filter at filter.$and: expected a non-empty array of filters', '$and with an object');
SELECT is(pg_temp.error_of($$SELECT pg_temp.ids('{"$or": []}')$$),
	'22023: invalid filter at filter.$or: expected a non-empty array of filters', '$or with an empty array');
SELECT is(pg_temp.error_of($$SELECT pg_temp.ids('{"$and": [{"color": "red"}, [1]]}')$$),
	'22023: invalid filter at filter.$and[1]: expected an object, got array', 'a bad element of $and is named by its index');
SELECT is(pg_temp.error_of($$SELECT pg_temp.ids('{"$not": ["x"]}')$$),
	'22023: invalid filter at filter.$not: expected an object, got array', '$not with an array');
SELECT is(pg_temp.error_of($$SELECT pg_temp.ids('{"color": {"$eq": "red", "shade": "dark"}}')$$),
	'22023: invalid filter at filter.color: an object of operators cannot also hold keys', 'operators mixed with keys');
SELECT is(pg_temp.error_of($$SELECT pg_temp.ids('{"$or": [{"a": 1}, {"$not": {"b": {"$lt": "x"}}}]}')$$),
	'22023: invalid filter at filter.$or[1].$not.b.$lt: expected a number, got string', 'a deep error names its whole path');
CREATE FUNCTION pg_temp.hint_of(statement text) RETURNS text
LANGUAGE plpgsql AS $$
DECLARE
	hint text;
BEGIN
	EXECUTE statement;
	RETURN NULL;
EXCEPTION WHEN OTHERS THEN
	GET STACKED DIAGNOSTICS hint = PG_EXCEPTION_HINT;
	RETURN hint;
END
$$;
SELECT is(pg_temp.hint_of($$SELECT pg_temp.ids('{"color": {"$regex": "^r"}}')$$),
	'A filter is a JSON object of conditions on metadata keys: {"key": value} for equality (containment for arrays and objects), or {"key": {"$op": value}} with $eq, $ne, $in, $nin, $gt, $gte, $lt, $lte or $exists; conditions combine with $and and $or (arrays of filters) and $not (a filter).',
	'filter errors carry a hint listing what filters can say');

-- bad arguments
SELECT is(pg_temp.error_of($$SELECT * FROM vecdb.search('big', '[1,2,3]')$$),
	'22000: store "big" expects 8 dimensions, got 3', 'a query of the wrong dimensions: 22000');
SELECT is(pg_temp.error_of($$SELECT * FROM vecdb.search('big', NULL)$$),
	'22004: query must not be null', 'a null query: 22004');
SELECT is(pg_temp.error_of($$SELECT * FROM vecdb.search('big', '[NaN,0,0,0,0,0,0,0]')$$),
	'22000: NaN not allowed in vector', 'a NaN in the query: 22000');
SELECT is(pg_temp.error_of($$SELECT * FROM vecdb.search('m_cos', '[0,0]')$$),
	'22000: store "m_cos" uses cosine distance, which is undefined for a zero query', 'a zero query under cosine: 22000');
SELECT is(pg_temp.error_of($$SELECT * FROM vecdb.search('big', (SELECT v FROM q), 0)$$),
	'22023: k must be between 1 and 1000, got 0', 'k 0: 22023');
SELECT is(pg_temp.error_of($$SELECT * FROM vecdb.search('big', (SELECT v FROM q), 1001)$$),
	'22023: k must be between 1 and 1000, got 1001', 'k 1001: 22023');
SELECT is(pg_temp.error_of($$SELECT * FROM vecdb.search('big', (SELECT v FROM q), NULL)$$),
	'22023: k must be between 1 and 1000, got null', 'k null: 22023');
SELECT is(pg_temp.error_of($$SELECT * FROM vecdb.search('big', (SELECT v FROM q), 5, NULL, 0)$$),
	'22023: ef_search must be between 1 and 1000, got 0', 'ef_search 0: 22023');
SELECT is(pg_temp.error_of($$SELECT * FROM vecdb.search('big', (SELECT v FROM q), 5, NULL, 1001)$$),
	'22023: ef_search must be between 1 and 1000, got 1001', 'ef_search 1001: 22023');
SELECT is(pg_temp.error_of($$SELECT * FROM vecdb.search('nowhere', (SELECT v FROM q))$$),
	'42704: store "nowhere" does not exist', 'an unknown store: 42704');
SELECT is(pg_temp.error_of($$SELECT * FROM vecdb.explain_search('big', (SELECT v FROM q), 0)$$),
	'22023: k must be between 1 and 1000, got 0', 'explain_search checks its arguments as search does');
SELECT is(current_setting('hnsw.iterative_scan') || ' ' || current_setting('hnsw.ef_search'), 'off 40',
	'failed searches changed no setting');
SELECT lives_ok($$SELECT * FROM vecdb.search('big', (SELECT v FROM q), 1000, NULL, 1000)$$, 'k 1000 and ef_search 1000 are fine');
SELECT lives_ok($$SELECT * FROM vecdb.search('big', (SELECT v FROM q), 1, NULL, 1)$$, 'k 1 and ef_search 1 are fine');
SELECT is((SELECT count(*) FROM vecdb.search('big', (SELECT v FROM q))), 10::bigint, 'k defaults to 10');

-- empty stores and stores smaller than k
SELECT is_empty($$SELECT * FROM vecdb.search('m_cos', '[1,0]', 5, '{"color": "none"}')$$, 'no row matches: no row');
DO $$ BEGIN PERFORM vecdb.create_store('empty', 2, 'l2'); END $$;
SELECT is_empty($$SELECT * FROM vecdb.search('empty', '[1,0]')$$, 'an empty store gives no row');
SELECT is((SELECT count(*) FROM vecdb.search('m_l2', '[1,0]', 100)), 5::bigint, 'k above the row count gives every row');

-- ties are broken by id, so equal distances come back in a stable order
DO $$ BEGIN PERFORM vecdb.upsert_many('empty', '[{"id": "t3", "vector": [1, 1]}, {"id": "t1", "vector": [1, 1]}, {"id": "t2", "vector": [1, 1]}]'); END $$;
SELECT is((SELECT string_agg(id, ',') FROM vecdb.search('empty', '[0,0]', 3)), 't1,t2,t3', 'equal distances come in id order');

-- content comes back
DO $$ BEGIN PERFORM vecdb.upsert('empty', 'doc', '[5,5]', '{"k": "v"}', 'some text'); END $$;
SELECT is((SELECT (id, metadata, content) FROM vecdb.search('empty', '[5,5]', 1)), ('doc'::text, '{"k": "v"}'::jsonb, 'some text'::text),
	'search returns metadata and content');

-- the internal pieces
SELECT is((SELECT predicate FROM vecdb._filter_predicate('{"color": "red", "price": {"$gt": 1}}')),
	'(t.metadata @> $3[1]) AND (CASE WHEN jsonb_typeof(t.metadata -> $4[1]) = ''number'' THEN (t.metadata -> $4[1])::numeric > $5[1] ELSE false END)',
	'_filter_predicate: the SQL text holds parameters only');
SELECT is((SELECT (objs, keys, nums) FROM vecdb._filter_predicate('{"color": "red", "price": {"$gt": 1}}')),
	(ARRAY['{"color": "red"}'::jsonb], ARRAY['price'], ARRAY[1::numeric]),
	'_filter_predicate: the values travel as parameters');
SELECT is((SELECT predicate FROM vecdb._filter_predicate($f${"x'); DROP TABLE y; --": {"$in": ["'", "\""]}}$f$)),
	'(t.metadata @> ANY ($3[1:2]))', '_filter_predicate: no key or value reaches the SQL text');

SELECT * FROM finish();
ROLLBACK;
