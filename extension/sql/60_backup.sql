-- Backups, export and import of stores (docs/backup.md).
--
-- A backup is a table vecdb_backup.<backup> made by one CREATE TABLE AS from
-- the store's table, so it is one consistent snapshot however busy the store
-- is, plus a row in vecdb.backups with what it takes to create the store
-- again (dims, metric, storage, options) and the row count and checksum of
-- the snapshot.  Restoring creates a new store through the store API's own
-- vecdb._create_store_table (50_store.sql), copies the rows, and compares the
-- checksum of what it wrote with the recorded one before it returns: a
-- damaged backup fails the transaction and leaves nothing behind.
--
-- The checksum is defined on the export format, so it can be recomputed
-- from an export: a SHA-256 chain over the export lines in byte order of id,
-- h0 = '' and h_i = sha256(h_{i-1} || line_i), and the checksum is
-- hex(sha256(h_n)).  A chain rather than one hash of the concatenation keeps
-- the state at 32 bytes, so a store of any size is hashed in constant memory;
-- byte order (COLLATE "C") makes it independent of the database's collation.
--
-- Rights, as in 50_store.sql: export, import, checksums and the list of
-- backups run with the caller's rights (reading and writing store tables
-- through the grants create_store makes, and vecdb.backups through a grant
-- to vecdb_reader); backup_store, restore_store and drop_backup make and
-- drop tables owned by the extension's owner, so they are SECURITY DEFINER,
-- for vecdb_admin only.  Nothing is executable by PUBLIC.
--
-- Backup tables, like store tables, are made at run time and are not members
-- of the extension, so pg_dump dumps them with their data; the catalog tables
-- are members whose rows pg_dump dumps because they are marked with
-- pg_extension_config_dump.  pg_dump and pg_restore thus carry stores, data,
-- indexes and backups.

CREATE SCHEMA vecdb_backup;
COMMENT ON SCHEMA vecdb_backup IS 'one table per backup of a vecdb store (see vecdb.backups)';

CREATE TABLE vecdb.backups (
	name text PRIMARY KEY CHECK (name ~ '^[a-z_][a-z0-9_]{0,62}$'),
	store text NOT NULL,
	dims integer NOT NULL CHECK (dims > 0),
	metric text NOT NULL,
	storage text NOT NULL,
	index_options jsonb NOT NULL,
	embedding_provider text,
	embedding_model text,
	options jsonb NOT NULL,
	row_count bigint NOT NULL CHECK (row_count >= 0),
	checksum text NOT NULL,
	created_at timestamptz NOT NULL DEFAULT now()
);
COMMENT ON TABLE vecdb.backups IS 'backups of vecdb stores: the store''s definition, and the row count and checksum of the snapshot in vecdb_backup.<name>';
GRANT SELECT ON vecdb.backups TO vecdb_reader;

-- pg_dump dumps every row of these extension tables
SELECT pg_catalog.pg_extension_config_dump('vecdb.stores', '');
SELECT pg_catalog.pg_extension_config_dump('vecdb.backups', '');

-- Internal helpers

-- One row of a store as a line of its JSON export.  vector and halfvec print
-- as JSON arrays already ('[1,2.5,-3e-05]'), so the embedding's text goes in
-- as it is.
CREATE FUNCTION vecdb._export_line(id text, embedding text, metadata jsonb, content text) RETURNS text
LANGUAGE sql STABLE PARALLEL SAFE
SET search_path = pg_catalog, pg_temp
AS $$
	SELECT '{"id":' || to_json(id)::text
		|| ',"vector":' || embedding
		|| ',"metadata":' || metadata::text
		|| ',"content":' || coalesce(to_json(content)::text, 'null') || '}'
$$;

CREATE FUNCTION vecdb._checksum_step(state bytea, line text) RETURNS bytea
LANGUAGE sql IMMUTABLE STRICT PARALLEL SAFE
SET search_path = pg_catalog, pg_temp
AS $$ SELECT sha256(state || convert_to(line, 'UTF8')) $$;

CREATE FUNCTION vecdb._checksum_final(state bytea) RETURNS text
LANGUAGE sql IMMUTABLE STRICT PARALLEL SAFE
SET search_path = pg_catalog, pg_temp
AS $$ SELECT encode(sha256(state), 'hex') $$;

-- the lines' order matters: _checksum_agg(line ORDER BY ...)
CREATE AGGREGATE vecdb._checksum_agg(text) (
	SFUNC = vecdb._checksum_step,
	STYPE = bytea,
	FINALFUNC = vecdb._checksum_final,
	INITCOND = ''
);

-- The checksum of a table with a store's columns (a store's or a backup's)
CREATE FUNCTION vecdb._checksum(tbl regclass) RETURNS text
LANGUAGE plpgsql STABLE
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
	sum text;
BEGIN
	-- a regclass prints as a quoted, qualified name
	EXECUTE format('SELECT vecdb._checksum_agg(vecdb._export_line(t.id, t.embedding::text, t.metadata, t.content)'
				   ' ORDER BY t.id COLLATE "C") FROM %s t', tbl)
		INTO sum;
	RETURN sum;
END
$$;

-- The row of an existing backup, locked against a concurrent drop or restore
CREATE FUNCTION vecdb._backup(name text) RETURNS vecdb.backups
LANGUAGE plpgsql VOLATILE
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
	b vecdb.backups;
BEGIN
	PERFORM vecdb._validate_name('backup', _backup.name);
	SELECT * INTO b FROM vecdb.backups bk WHERE bk.name = _backup.name FOR UPDATE;
	IF NOT FOUND THEN
		RAISE EXCEPTION 'backup "%" does not exist', _backup.name
			USING ERRCODE = 'undefined_object', HINT = 'vecdb.list_backups() lists the backups.';
	END IF;
	RETURN b;
END
$$;

-- One line of an import as the columns of a row of store s, or an error
-- saying what is wrong with it (the caller names the line).  It checks what
-- the store's table would reject too, so the first bad line can be named
-- before anything is written.
CREATE FUNCTION vecdb._import_row(s vecdb.stores, line text,
								  OUT id text, OUT embedding text, OUT metadata jsonb, OUT content text)
LANGUAGE plpgsql STABLE
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
	members CONSTANT text := 'A line is a JSON object {"id": "...", "vector": [...], "metadata": {...}, "content": "..."}; metadata and content may be left out.';
	j jsonb := line::jsonb;
	v jsonb := j -> 'vector';
	unknown text;
	-- the largest magnitude that does not round to infinity in the storage type
	limit_value numeric := CASE s.storage WHEN 'halfvec' THEN 65520 ELSE 3.4028235677973366e38 END;
BEGIN
	IF jsonb_typeof(j) <> 'object' THEN
		RAISE EXCEPTION 'expected a JSON object, got %', jsonb_typeof(j)
			USING ERRCODE = 'invalid_parameter_value', HINT = members;
	END IF;
	SELECT min(k) INTO unknown FROM jsonb_object_keys(j) k WHERE k NOT IN ('id', 'vector', 'metadata', 'content');
	IF unknown IS NOT NULL THEN
		RAISE EXCEPTION 'unknown member "%"', unknown USING ERRCODE = 'invalid_parameter_value', HINT = members;
	END IF;
	IF jsonb_typeof(j -> 'id') IS DISTINCT FROM 'string' THEN
		RAISE EXCEPTION '"id" must be a string, got %', coalesce(jsonb_typeof(j -> 'id'), 'nothing')
			USING ERRCODE = 'invalid_parameter_value', HINT = members;
	END IF;
	IF j ->> 'id' = '' THEN
		RAISE EXCEPTION '"id" must not be empty' USING ERRCODE = 'invalid_parameter_value';
	END IF;
	IF jsonb_typeof(v) IS DISTINCT FROM 'array' OR jsonb_path_exists(v, '$[*] ? (@.type() != "number")') THEN
		RAISE EXCEPTION '"vector" must be an array of numbers' USING ERRCODE = 'invalid_parameter_value', HINT = members;
	END IF;
	IF jsonb_array_length(v) <> s.dims THEN
		RAISE EXCEPTION 'store "%" expects % dimensions, got %', s.name, s.dims, jsonb_array_length(v)
			USING ERRCODE = 'data_exception';
	END IF;
	IF jsonb_path_exists(v, '$[*] ? (@ >= $max || @ <= -$max)', jsonb_build_object('max', limit_value)) THEN
		RAISE EXCEPTION '"vector" has an element out of range for %', s.storage
			USING ERRCODE = 'numeric_value_out_of_range';
	END IF;
	-- as the store will hold it: a halfvec may round small elements to 0
	embedding := CASE s.storage WHEN 'halfvec' THEN v::text::@extschema@.halfvec::text ELSE v::text::@extschema@.vector::text END;
	IF s.metric = 'cosine' AND 0 = ALL (embedding::@extschema@.vector::real[]) THEN
		RAISE EXCEPTION 'store "%" uses cosine distance, which is undefined for a zero vector', s.name
			USING ERRCODE = 'data_exception';
	END IF;
	IF jsonb_typeof(j -> 'metadata') NOT IN ('object', 'null') THEN
		RAISE EXCEPTION '"metadata" must be a JSON object, got %', jsonb_typeof(j -> 'metadata')
			USING ERRCODE = 'invalid_parameter_value', HINT = members;
	END IF;
	IF jsonb_typeof(j -> 'content') NOT IN ('string', 'null') THEN
		RAISE EXCEPTION '"content" must be a string, got %', jsonb_typeof(j -> 'content')
			USING ERRCODE = 'invalid_parameter_value', HINT = members;
	END IF;
	id := j ->> 'id';
	metadata := coalesce(nullif(j -> 'metadata', 'null'), '{}');
	content := j ->> 'content';
END
$$;

-- Backups

CREATE FUNCTION vecdb.backup_store(store text, backup_name text) RETURNS vecdb.backups
LANGUAGE plpgsql VOLATILE SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
	s vecdb.stores := vecdb._store(backup_store.store);
	b vecdb.backups;
	snapshot regclass;
BEGIN
	PERFORM vecdb._validate_name('backup', backup_name);
	-- the store cannot be dropped while it is copied
	PERFORM FROM vecdb.stores st WHERE st.name = s.name FOR SHARE;
	-- the primary key makes a concurrent backup of the same name wait, then
	-- find the name taken
	INSERT INTO vecdb.backups AS bk (name, store, dims, metric, storage, index_options,
									 embedding_provider, embedding_model, options, row_count, checksum)
	VALUES (backup_name, s.name, s.dims, s.metric, s.storage, s.index_options,
			s.embedding_provider, s.embedding_model, s.options, 0, '')
	ON CONFLICT DO NOTHING
	RETURNING * INTO b;
	IF NOT FOUND THEN
		RAISE EXCEPTION 'backup "%" already exists', backup_name
			USING ERRCODE = 'duplicate_object',
				  HINT = 'Choose another name, or drop the old backup with vecdb.drop_backup().';
	END IF;

	-- one statement: one snapshot of the store
	EXECUTE format('CREATE TABLE vecdb_backup.%I AS SELECT id, embedding, metadata, content, created_at, updated_at'
				   ' FROM vecdb_data.%I', b.name, s.name);
	GET DIAGNOSTICS b.row_count = ROW_COUNT;
	snapshot := format('vecdb_backup.%I', b.name)::regclass;
	b.checksum := vecdb._checksum(snapshot);
	UPDATE vecdb.backups bk SET row_count = b.row_count, checksum = b.checksum WHERE bk.name = b.name;
	RETURN b;
END
$$;

CREATE FUNCTION vecdb.restore_store(backup_name text, new_store text) RETURNS bigint
LANGUAGE plpgsql VOLATILE SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
	b vecdb.backups := vecdb._backup(backup_name);
	snapshot regclass := to_regclass(format('vecdb_backup.%I', b.name));
	target regclass;
	index_defs text[];
	index_names text[];
	def text;
	copied bigint;
	sum text;
BEGIN
	PERFORM vecdb._validate_name('store', new_store);
	IF snapshot IS NULL THEN
		RAISE EXCEPTION 'backup "%" is damaged: its table vecdb_backup.% is missing', b.name, b.name
			USING ERRCODE = 'data_corrupted', HINT = 'Drop the backup with vecdb.drop_backup().';
	END IF;
	INSERT INTO vecdb.stores AS st (name, dims, metric, storage, index_options,
									embedding_provider, embedding_model, options)
	VALUES (new_store, b.dims, b.metric, b.storage, b.index_options,
			b.embedding_provider, b.embedding_model, b.options)
	ON CONFLICT DO NOTHING;
	IF NOT FOUND THEN
		RAISE EXCEPTION 'store "%" already exists', new_store
			USING ERRCODE = 'duplicate_table',
				  HINT = 'Restore into a new store, or drop this one first with vecdb.drop_store().';
	END IF;
	PERFORM vecdb._create_store_table(new_store);
	target := format('vecdb_data.%I', new_store)::regclass;

	-- Building the indexes over the loaded rows is many times faster than
	-- inserting every row into the hnsw index, so the indexes that
	-- _create_store_table made are dropped and made again from their own
	-- definitions after the load (but the primary key, which the load needs)
	SELECT coalesce(array_agg(pg_get_indexdef(i.indexrelid) ORDER BY i.indexrelid), '{}'),
		   coalesce(array_agg(i.indexrelid::regclass::text), '{}')
	  INTO index_defs, index_names
	  FROM pg_index i WHERE i.indrelid = target AND NOT i.indisprimary;
	FOREACH def IN ARRAY index_names LOOP
		EXECUTE 'DROP INDEX ' || def;
	END LOOP;
	EXECUTE format('INSERT INTO %s (id, embedding, metadata, content, created_at, updated_at)'
				   ' SELECT id, embedding, metadata, content, created_at, updated_at FROM %s', target, snapshot);
	GET DIAGNOSTICS copied = ROW_COUNT;

	-- what the store holds now must be what was backed up, or nothing stays
	sum := vecdb._checksum(target);
	IF copied <> b.row_count OR sum <> b.checksum THEN
		RAISE EXCEPTION 'backup "%" is damaged: its checksum does not match', b.name
			USING ERRCODE = 'data_corrupted',
				  DETAIL = format('The backup recorded %s rows with checksum %s; its table has %s rows with checksum %s.',
								  b.row_count, b.checksum, copied, sum),
				  HINT = 'Nothing was restored.  Restore another backup of the store.';
	END IF;
	FOREACH def IN ARRAY index_defs LOOP
		EXECUTE def;
	END LOOP;
	RETURN copied;
END
$$;

CREATE FUNCTION vecdb.drop_backup(name text) RETURNS void
LANGUAGE plpgsql VOLATILE SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
	b vecdb.backups := vecdb._backup(drop_backup.name);
BEGIN
	-- a damaged backup may have lost its table: it is dropped all the same
	IF to_regclass(format('vecdb_backup.%I', b.name)) IS NOT NULL THEN
		EXECUTE format('DROP TABLE vecdb_backup.%I', b.name);
	END IF;
	DELETE FROM vecdb.backups bk WHERE bk.name = b.name;
END
$$;

CREATE FUNCTION vecdb.list_backups(of_store text DEFAULT NULL)
RETURNS TABLE (name text, store text, dims integer, metric text, storage text, row_count bigint,
			   checksum text, size_bytes bigint, created_at timestamptz)
LANGUAGE sql STABLE PARALLEL SAFE
SET search_path = pg_catalog, pg_temp
AS $$
	SELECT b.name, b.store, b.dims, b.metric, b.storage, b.row_count, b.checksum,
		   -- by name in the catalog: a reader has no right to look up names in vecdb_backup
		   coalesce((SELECT pg_total_relation_size(c.oid) FROM pg_class c
					  WHERE c.relnamespace = 'vecdb_backup'::regnamespace AND c.relname = b.name), 0),
		   b.created_at
	  FROM vecdb.backups b
	 WHERE of_store IS NULL OR b.store = of_store
	 ORDER BY b.name
$$;

-- Export and import

CREATE FUNCTION vecdb.store_checksum(store text) RETURNS text
LANGUAGE plpgsql STABLE
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
	s vecdb.stores := vecdb._store(store_checksum.store);
BEGIN
	RETURN vecdb._checksum(format('vecdb_data.%I', s.name)::regclass);
END
$$;

-- The rows go through a tuplestore, which spills to a temporary file beyond
-- work_mem: an export of any size runs in bounded memory.
CREATE FUNCTION vecdb.export_store(store text) RETURNS SETOF text
LANGUAGE plpgsql STABLE
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
	s vecdb.stores := vecdb._store(export_store.store);
BEGIN
	RETURN QUERY EXECUTE format('SELECT vecdb._export_line(t.id, t.embedding::text, t.metadata, t.content)'
								' FROM vecdb_data.%I t ORDER BY t.id COLLATE "C"', s.name);
END
$$;

-- All lines go in with one INSERT.  If it fails, nothing of it stays, and the
-- lines are gone through again one by one, only to name the first bad one.
CREATE FUNCTION vecdb.import_store(store text, jsonl text) RETURNS bigint
LANGUAGE plpgsql VOLATILE
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
	s vecdb.stores := vecdb._store(import_store.store);
	lines CONSTANT text := $l$SELECT l.n, rtrim(l.line, E'\r') AS line
								FROM string_to_table($1, E'\n') WITH ORDINALITY AS l(line, n)
							   WHERE l.line !~ '^\s*$'$l$;
	loaded bigint;
	bad record;
	first_bad bigint;
	err_state text;
	err_message text;
	err_detail text;
	err_hint text;
BEGIN
	IF jsonl IS NULL THEN
		RAISE EXCEPTION 'jsonl must not be null' USING ERRCODE = 'null_value_not_allowed';
	END IF;
	BEGIN
		EXECUTE format($q$
			INSERT INTO vecdb_data.%I AS t (id, embedding, metadata, content)
			SELECT r.id, r.embedding::@extschema@.%I, r.metadata, r.content
			  FROM (%s) l, vecdb._import_row($2, l.line) r
			 ORDER BY l.n
			ON CONFLICT (id) DO UPDATE
			   SET embedding = excluded.embedding, metadata = excluded.metadata,
				   content = excluded.content, updated_at = now()$q$,
			s.name, s.storage, lines)
		USING jsonl, s;
		GET DIAGNOSTICS loaded = ROW_COUNT;
		RETURN loaded;
	EXCEPTION WHEN OTHERS THEN
		GET STACKED DIAGNOSTICS err_state = RETURNED_SQLSTATE, err_message = MESSAGE_TEXT,
								err_detail = PG_EXCEPTION_DETAIL, err_hint = PG_EXCEPTION_HINT;
	END;

	-- the first line that is bad on its own
	FOR bad IN EXECUTE lines USING jsonl LOOP
		BEGIN
			PERFORM vecdb._import_row(s, bad.line);
		EXCEPTION WHEN OTHERS THEN
			GET STACKED DIAGNOSTICS err_state = RETURNED_SQLSTATE, err_message = MESSAGE_TEXT,
									err_detail = PG_EXCEPTION_DETAIL, err_hint = PG_EXCEPTION_HINT;
			first_bad := bad.n;
			EXIT;
		END;
	END LOOP;
	-- or a line before it that repeats an earlier line's id (those lines are
	-- all good JSON: the query cannot fail)
	EXECUTE format($q$
		SELECT d.n, d.id, d.first FROM (
			SELECT l.n, l.line::jsonb ->> 'id' AS id,
				   min(l.n) OVER (PARTITION BY l.line::jsonb ->> 'id') AS first
			  FROM (%s) l WHERE l.n < $2) d
		 WHERE d.n > d.first ORDER BY d.n LIMIT 1$q$, lines)
		INTO bad USING jsonl, coalesce(first_bad, 9223372036854775807);
	IF bad.n IS NOT NULL THEN
		RAISE EXCEPTION 'line %: id "%" was already given on line %', bad.n, bad.id, bad.first
			USING ERRCODE = 'unique_violation', HINT = 'Nothing was imported.';
	END IF;
	-- else the first bad line's error; if no line is bad, the INSERT failed
	-- for another reason (rights, locks): its own error
	IF first_bad IS NOT NULL THEN
		err_message := format('line %s: %s', first_bad, err_message);
	END IF;
	err_hint := concat_ws('  ', nullif(err_hint, ''), 'Nothing was imported.');
	IF coalesce(err_detail, '') = '' THEN
		RAISE EXCEPTION USING ERRCODE = err_state, MESSAGE = err_message, HINT = err_hint;
	END IF;
	RAISE EXCEPTION USING ERRCODE = err_state, MESSAGE = err_message, DETAIL = err_detail, HINT = err_hint;
END
$$;

COMMENT ON FUNCTION vecdb.backup_store(text, text) IS
	'a consistent snapshot of a store, recorded in vecdb.backups with its row count and checksum';
COMMENT ON FUNCTION vecdb.restore_store(text, text) IS
	'creates a new store from a backup, checking its checksum; returns the number of vectors';
COMMENT ON FUNCTION vecdb.drop_backup(text) IS 'drops a backup';
COMMENT ON FUNCTION vecdb.list_backups(text) IS 'the backups, of one store or of all, by name';
COMMENT ON FUNCTION vecdb.store_checksum(text) IS 'the checksum of a store''s vectors, as backups record it';
COMMENT ON FUNCTION vecdb.export_store(text) IS
	'a store as JSON lines {"id", "vector", "metadata", "content"}, in byte order of id';
COMMENT ON FUNCTION vecdb.import_store(text, text) IS
	'inserts or replaces the vectors of JSON lines, all or nothing; returns how many';

-- Privileges: nothing for PUBLIC
REVOKE ALL ON FUNCTION vecdb._export_line(text, text, jsonb, text), vecdb._checksum_step(bytea, text),
	vecdb._checksum_final(bytea), vecdb._checksum_agg(text), vecdb._checksum(regclass), vecdb._backup(text),
	vecdb._import_row(vecdb.stores, text),
	vecdb.backup_store(text, text), vecdb.restore_store(text, text), vecdb.drop_backup(text),
	vecdb.list_backups(text), vecdb.store_checksum(text), vecdb.export_store(text), vecdb.import_store(text, text)
	FROM PUBLIC;
GRANT EXECUTE ON FUNCTION vecdb._export_line(text, text, jsonb, text), vecdb._checksum_step(bytea, text),
	vecdb._checksum_final(bytea), vecdb._checksum_agg(text), vecdb._checksum(regclass),
	vecdb.list_backups(text), vecdb.store_checksum(text), vecdb.export_store(text)
	TO vecdb_reader;
GRANT EXECUTE ON FUNCTION vecdb._import_row(vecdb.stores, text), vecdb.import_store(text, text) TO vecdb_writer;
GRANT EXECUTE ON FUNCTION vecdb.backup_store(text, text), vecdb.restore_store(text, text), vecdb.drop_backup(text)
	TO vecdb_admin;
