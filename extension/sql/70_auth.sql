-- vecdb_auth: the state of the gateway's OAuth 2.1 authorization server.
--
-- Every gateway process reads and writes these tables; nothing about clients,
-- users, keys or tokens lives only in a gateway's memory, so any number of
-- gateways serve the same tokens and a pg_dump carries them (the tables are
-- marked with pg_extension_config_dump).  Secrets are stored only as salted
-- hashes (text of the form 'sha256$SALT$HASH' or 'pbkdf2-sha256$N$SALT$HASH',
-- made and checked by the gateway); authorization codes by their SHA-256.
-- The schema is closed to PUBLIC: only the extension's owner (the role the
-- gateway connects as) reads it, never the vecdb_reader/writer/admin roles
-- that requests run under.

CREATE SCHEMA vecdb_auth;
REVOKE ALL ON SCHEMA vecdb_auth FROM PUBLIC;
COMMENT ON SCHEMA vecdb_auth IS 'OAuth 2.1 state of the vecdb gateway: clients, users, signing keys, tokens';

-- JWT signing keys.  The newest key that is not retired signs; retired keys
-- still verify the tokens they signed until those expire.
CREATE TABLE vecdb_auth.signing_keys (
	kid text PRIMARY KEY,
	alg text NOT NULL DEFAULT 'ES256' CHECK (alg = 'ES256'),
	private_key text NOT NULL,
	created_at timestamptz NOT NULL DEFAULT now(),
	retired_at timestamptz
);

CREATE TABLE vecdb_auth.clients (
	client_id text PRIMARY KEY CHECK (client_id ~ '^[A-Za-z0-9._~-]{1,128}$'),
	secret_hash text,	-- NULL: a public client, which authenticates by PKCE alone
	client_name text,
	scopes text[] NOT NULL CHECK (scopes <@ ARRAY['read', 'write', 'admin']),
	grant_types text[] NOT NULL
		CHECK (grant_types <@ ARRAY['client_credentials', 'authorization_code', 'refresh_token']),
	redirect_uris text[] NOT NULL DEFAULT '{}',
	token_endpoint_auth_method text NOT NULL DEFAULT 'client_secret_basic'
		CHECK (token_endpoint_auth_method IN ('none', 'client_secret_basic', 'client_secret_post')),
	created_by text NOT NULL CHECK (created_by IN ('bootstrap', 'registration', 'admin')),
	created_at timestamptz NOT NULL DEFAULT now(),
	CHECK ((secret_hash IS NULL) = (token_endpoint_auth_method = 'none'))
);

CREATE TABLE vecdb_auth.users (
	username text PRIMARY KEY CHECK (username ~ '^[A-Za-z0-9._@-]{1,128}$'),
	password_hash text NOT NULL,
	scopes text[] NOT NULL CHECK (scopes <@ ARRAY['read', 'write', 'admin']),
	created_at timestamptz NOT NULL DEFAULT now()
);

CREATE TABLE vecdb_auth.authorization_codes (
	code_hash text PRIMARY KEY,
	client_id text NOT NULL REFERENCES vecdb_auth.clients ON DELETE CASCADE,
	username text NOT NULL REFERENCES vecdb_auth.users ON DELETE CASCADE,
	redirect_uri text NOT NULL,
	code_challenge text NOT NULL,
	scope text NOT NULL,
	resource text,
	expires_at timestamptz NOT NULL,
	used_at timestamptz,
	family text		-- the refresh-token family issued for it: revoked if the code is replayed
);

-- A refresh token is "ID.SECRET"; the row is found by ID and the secret
-- checked against its hash.  Rotation marks the presented token used and
-- adds its successor to the same family; presenting a used token again
-- revokes the whole family (RFC 9700 §4.14.2).
CREATE TABLE vecdb_auth.refresh_tokens (
	id text PRIMARY KEY,
	family text NOT NULL,
	secret_hash text NOT NULL,
	client_id text NOT NULL REFERENCES vecdb_auth.clients ON DELETE CASCADE,
	subject text NOT NULL,
	scope text NOT NULL,
	resource text,
	created_at timestamptz NOT NULL DEFAULT now(),
	expires_at timestamptz NOT NULL,
	used_at timestamptz,
	revoked_at timestamptz
);
CREATE INDEX refresh_tokens_family ON vecdb_auth.refresh_tokens (family);

-- Access tokens (JWTs, by jti) revoked before they expire.  Every gateway
-- keeps this set in memory and hears each new row through NOTIFY.  A row
-- whose jti is 'family:' and a refresh-token family id revokes every access
-- token issued in that family at once: such tokens carry the family as their
-- `sid` claim (see revoke_family).
CREATE TABLE vecdb_auth.revoked_tokens (
	jti text PRIMARY KEY,
	expires_at timestamptz NOT NULL,
	revoked_at timestamptz NOT NULL DEFAULT now()
);

SELECT pg_catalog.pg_extension_config_dump('vecdb_auth.signing_keys', '');
SELECT pg_catalog.pg_extension_config_dump('vecdb_auth.clients', '');
SELECT pg_catalog.pg_extension_config_dump('vecdb_auth.users', '');
SELECT pg_catalog.pg_extension_config_dump('vecdb_auth.authorization_codes', '');
SELECT pg_catalog.pg_extension_config_dump('vecdb_auth.refresh_tokens', '');
SELECT pg_catalog.pg_extension_config_dump('vecdb_auth.revoked_tokens', '');

-- NOTIFY every gateway of a revoked access token ("JTI EXPIRY-EPOCH") and of
-- a change of signing keys
CREATE FUNCTION vecdb_auth.notify_revoked() RETURNS trigger
	LANGUAGE plpgsql SET search_path = pg_catalog, pg_temp AS $$
BEGIN
	PERFORM pg_notify('vecdb_auth_revoked',
		NEW.jti || ' ' || floor(extract(epoch FROM NEW.expires_at))::bigint);
	RETURN NULL;
END
$$;
CREATE TRIGGER revoked_tokens_notify AFTER INSERT ON vecdb_auth.revoked_tokens
	FOR EACH ROW EXECUTE FUNCTION vecdb_auth.notify_revoked();

CREATE FUNCTION vecdb_auth.notify_keys() RETURNS trigger
	LANGUAGE plpgsql SET search_path = pg_catalog, pg_temp AS $$
BEGIN
	PERFORM pg_notify('vecdb_auth_keys', '');
	RETURN NULL;
END
$$;
CREATE TRIGGER signing_keys_notify AFTER INSERT OR UPDATE OR DELETE ON vecdb_auth.signing_keys
	FOR EACH STATEMENT EXECUTE FUNCTION vecdb_auth.notify_keys();

-- Revoke refresh-token family P_FAMILY: its refresh tokens, and with one
-- 'family:ID' row in revoked_tokens (whose trigger NOTIFYs every gateway)
-- every access token issued in it.  That row lives 7 days, the longest
-- token_lifetime a gateway accepts, so it outlives every such token.
CREATE FUNCTION vecdb_auth.revoke_family(p_family text) RETURNS void
	LANGUAGE plpgsql SET search_path = pg_catalog, pg_temp AS $$
BEGIN
	UPDATE vecdb_auth.refresh_tokens SET revoked_at = now()
		WHERE family = p_family AND revoked_at IS NULL;
	INSERT INTO vecdb_auth.revoked_tokens (jti, expires_at)
		VALUES ('family:' || p_family, now() + interval '7 days')
		ON CONFLICT (jti) DO NOTHING;
END
$$;

-- Rotate refresh token P_ID (whose secret the gateway has checked): mark it
-- used and add its successor.  Returns 'rotated', 'reused' (it was used
-- before: the family, with its access tokens, is now revoked) or 'invalid'
-- (revoked or expired).
-- The UPDATE ... WHERE used_at IS NULL makes two concurrent uses of one token
-- end as one rotation and one reuse.
CREATE FUNCTION vecdb_auth.rotate_refresh_token(p_id text, p_new_id text, p_new_hash text,
		p_scope text, p_expires_at timestamptz) RETURNS text
	LANGUAGE plpgsql SET search_path = pg_catalog, pg_temp AS $$
DECLARE
	t vecdb_auth.refresh_tokens;
BEGIN
	UPDATE vecdb_auth.refresh_tokens SET used_at = now()
		WHERE id = p_id AND used_at IS NULL AND revoked_at IS NULL AND expires_at > now()
		RETURNING * INTO t;
	IF NOT FOUND THEN
		SELECT * INTO t FROM vecdb_auth.refresh_tokens WHERE id = p_id;
		IF FOUND AND t.used_at IS NOT NULL THEN
			PERFORM vecdb_auth.revoke_family(t.family);
			RETURN 'reused';
		END IF;
		RETURN 'invalid';
	END IF;
	INSERT INTO vecdb_auth.refresh_tokens
			(id, family, secret_hash, client_id, subject, scope, resource, expires_at)
		VALUES (p_new_id, t.family, p_new_hash, t.client_id, t.subject, p_scope, t.resource,
			p_expires_at);
	RETURN 'rotated';
END
$$;

-- Use authorization code P_CODE_HASH once, recording the refresh-token family
-- P_FAMILY that will be issued for it (the refresh tokens and the `sid` of
-- the access tokens).  A second use revokes that family, access tokens
-- included (RFC 6749 §4.1.2), and returns outcome 'replayed'; an unknown or
-- expired code returns 'invalid'.
CREATE FUNCTION vecdb_auth.use_authorization_code(p_code_hash text, p_family text)
	RETURNS TABLE (outcome text, client_id text, username text, redirect_uri text,
		code_challenge text, scope text, resource text)
	LANGUAGE plpgsql SET search_path = pg_catalog, pg_temp AS $$
DECLARE
	c vecdb_auth.authorization_codes;
BEGIN
	UPDATE vecdb_auth.authorization_codes a SET used_at = now(), family = p_family
		WHERE a.code_hash = p_code_hash AND a.used_at IS NULL AND a.expires_at > now()
		RETURNING * INTO c;
	IF FOUND THEN
		RETURN QUERY SELECT 'ok'::text, c.client_id, c.username, c.redirect_uri,
			c.code_challenge, c.scope, c.resource;
		RETURN;
	END IF;
	SELECT * INTO c FROM vecdb_auth.authorization_codes a WHERE a.code_hash = p_code_hash;
	IF FOUND AND c.used_at IS NOT NULL THEN
		IF c.family IS NOT NULL THEN
			PERFORM vecdb_auth.revoke_family(c.family);
		END IF;
		RETURN QUERY SELECT 'replayed'::text, c.client_id, NULL::text, NULL::text, NULL::text,
			NULL::text, NULL::text;
		RETURN;
	END IF;
	RETURN QUERY SELECT 'invalid'::text, NULL::text, NULL::text, NULL::text, NULL::text,
		NULL::text, NULL::text;
END
$$;

-- Delete what can no longer be used: expired codes, refresh tokens and
-- revocations (a revoked token past its expiry fails on expiry alone), and
-- keys retired longer ago than any token they signed can live.
CREATE FUNCTION vecdb_auth.prune(p_key_grace interval DEFAULT '8 days') RETURNS bigint
	LANGUAGE sql SET search_path = pg_catalog, pg_temp AS $$
	WITH c AS (DELETE FROM vecdb_auth.authorization_codes WHERE expires_at < now() - interval '1 day' RETURNING 1),
	     r AS (DELETE FROM vecdb_auth.refresh_tokens WHERE expires_at < now() RETURNING 1),
	     v AS (DELETE FROM vecdb_auth.revoked_tokens WHERE expires_at < now() RETURNING 1),
	     k AS (DELETE FROM vecdb_auth.signing_keys WHERE retired_at < now() - p_key_grace RETURNING 1)
	SELECT (SELECT count(*) FROM c) + (SELECT count(*) FROM r) + (SELECT count(*) FROM v)
		+ (SELECT count(*) FROM k);
$$;

REVOKE ALL ON FUNCTION vecdb_auth.revoke_family(text) FROM PUBLIC;
REVOKE ALL ON FUNCTION vecdb_auth.rotate_refresh_token(text, text, text, text, timestamptz) FROM PUBLIC;
REVOKE ALL ON FUNCTION vecdb_auth.use_authorization_code(text, text) FROM PUBLIC;
REVOKE ALL ON FUNCTION vecdb_auth.prune(interval) FROM PUBLIC;
REVOKE ALL ON FUNCTION vecdb_auth.notify_revoked() FROM PUBLIC;
REVOKE ALL ON FUNCTION vecdb_auth.notify_keys() FROM PUBLIC;
