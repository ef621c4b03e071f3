-- vecdb extension install script, assembled from extension/sql/*.sql by make.

-- complain if script is sourced in psql, rather than via CREATE EXTENSION
\echo Use "CREATE EXTENSION vecdb" to load this file. \quit

-- Our own functions live in schema vecdb; the pgvector-compatible types,
-- functions and operators go into the extension's schema (public by default),
-- where programs written for pgvector look for them.
CREATE SCHEMA vecdb;
COMMENT ON SCHEMA vecdb IS 'vecdb functions that are not part of the pgvector-compatible surface';

CREATE FUNCTION vecdb.active_kernel() RETURNS text
	AS 'MODULE_PATHNAME', 'vecdb_active_kernel' LANGUAGE C STABLE STRICT PARALLEL SAFE;
COMMENT ON FUNCTION vecdb.active_kernel() IS 'the SIMD distance kernels in use (see vecdb.kernel)';
