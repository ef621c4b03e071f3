// Black-box tests of the OAuth 2.1 server and the token checks of the REST
// port, over real sockets against gateways that test_gateway.sh started on a
// real PostgreSQL.  Gateway A and gateway B are two processes behind the same
// issuer and public URL (B has auth_fail_limit 3 for the rate-limit tests).
//
//   OAUTH_A REST_A OAUTH_B REST_B      the two gateways
//   ADMIN_ID ADMIN_SECRET ADMIN_USER ADMIN_PASSWORD
//   PSQL_BIN TEST_DB                    SQL on the gateway's database
//   SEEN_FILE                           where to list secrets and tokens seen
import crypto from 'node:crypto';
import fs from 'node:fs';
import {
    ok, eq, http, postForm, postJson, decodeJwt, signJwt, verifyJwt, pkce, sql, hasNull,
    remember, seen, sleep, failures, formFields, cookieOf,
} from './lib.mjs';

const A = process.env.OAUTH_A, RA = process.env.REST_A;
const B = process.env.OAUTH_B, RB = process.env.REST_B;
const ADMIN = [process.env.ADMIN_ID, process.env.ADMIN_SECRET];
const USER = [process.env.ADMIN_USER, process.env.ADMIN_PASSWORD];
const TOKEN = `${A}/oauth/token`;
remember(ADMIN[1], USER[1]);

async function adminToken(scope = 'read write admin', extra = {}) {
    const r = await postForm(TOKEN, { grant_type: 'client_credentials', scope, ...extra }, { basic: ADMIN });
    remember(r.json?.access_token, r.json?.refresh_token);
    return r;
}

const whoami = (base, token) =>
    http(`${base}/api/v1/whoami`, { headers: token ? { Authorization: `Bearer ${token}` } : {} });

// poll the REST ports of gateways until each refuses token (401): for each,
// {ms} after `since` (null if not within 3 s) and the detail it gave
async function refusedOn(bases, token, since) {
    const one = async (base) => {
        while (Date.now() - since < 3000) {
            const res = await whoami(base, token);
            if (res.status === 401) return { ms: Date.now() - since, detail: res.json?.detail };
            await sleep(20);
        }
        return { ms: null };
    };
    return Promise.all(bases.map(one));
}
const withinASecond = (x) => x.ms !== null && x.ms <= 1000 && /revoked/.test(x.detail ?? '');
const took = (x) => (x.ms === null ? 'never' : `${x.ms} ms`);

// ------------------------------------------------------------- metadata
async function testMetadata() {
    const r = await http(`${A}/.well-known/oauth-authorization-server`);
    const m = r.json ?? {};
    eq(r.status, 200, 'metadata: 200');
    eq(m.issuer, A, 'metadata: issuer is issuer_url');
    for (const k of ['authorization_endpoint', 'token_endpoint', 'registration_endpoint',
        'revocation_endpoint', 'introspection_endpoint', 'jwks_uri']) {
        ok(typeof m[k] === 'string' && m[k].startsWith(A + '/'), `metadata: ${k} under the issuer`, m[k]);
    }
    ok(m.response_types_supported?.includes('code'), 'metadata: response_types_supported has code');
    ok(JSON.stringify(m.code_challenge_methods_supported) === '["S256"]', 'metadata: PKCE S256 only');
    ok(['authorization_code', 'client_credentials', 'refresh_token'].every((g) => m.grant_types_supported?.includes(g)),
        'metadata: the three grant types');
    ok(['read', 'write', 'admin'].every((s) => m.scopes_supported?.includes(s)), 'metadata: scopes read write admin');
    ok(!hasNull(m), 'metadata: no null values');
    eq(r.headers.get('access-control-allow-origin'), '*', 'metadata: CORS for any origin');
    const pre = await http(`${A}/.well-known/oauth-authorization-server`, {
        method: 'OPTIONS', headers: { Origin: 'https://app.example', 'Access-Control-Request-Method': 'GET' },
    });
    ok(pre.status === 204 && /GET/.test(pre.headers.get('access-control-allow-methods') ?? ''),
        'metadata: CORS preflight answered 204 with the allowed methods', pre.status);

    const j = await http(`${A}/.well-known/jwks.json`);
    const keys = j.json?.keys ?? [];
    ok(j.status === 200 && keys.length >= 1, 'jwks: at least one key');
    ok(keys.every((k) => k.kty === 'EC' && k.crv === 'P-256' && k.alg === 'ES256' && k.kid && k.x && k.y && !k.d),
        'jwks: public P-256 keys with kid, no private part', keys);
    eq(j.headers.get('access-control-allow-origin'), '*', 'jwks: CORS');
    return keys;
}

// --------------------------------------------------- client_credentials
async function testClientCredentials(keys) {
    let r = await postForm(TOKEN, {
        grant_type: 'client_credentials', client_id: ADMIN[0], client_secret: ADMIN[1], scope: 'read write',
    });
    remember(r.json?.access_token, r.json?.refresh_token);
    eq(r.status, 200, 'client_credentials with the secret in the body: 200');
    ok(r.json?.token_type === 'Bearer' && r.json?.scope === 'read write' && r.json?.expires_in > 3590 &&
        r.json?.expires_in <= 3600, 'token response: Bearer, scope, expires_in of 1 h', r.json);
    ok(typeof r.json?.refresh_token === 'string', 'token response: a refresh token (the admin client may refresh)');
    eq(r.headers.get('cache-control'), 'no-store', 'token response: Cache-Control no-store');

    const { header, claims } = decodeJwt(r.json.access_token);
    ok(header.typ === 'at+jwt' && header.alg === 'ES256' && keys.some((k) => k.kid === header.kid),
        'access token: typ at+jwt, ES256, kid in the JWKS', header);
    ok(claims.iss === A && claims.sub === ADMIN[0] && claims.aud === RA && claims.client_id === ADMIN[0] &&
        claims.scope === 'read write' && claims.exp - claims.iat === 3600 && typeof claims.jti === 'string',
    'access token: RFC 9068 claims (iss, sub, aud, client_id, scope, iat, exp, jti)', claims);
    ok(verifyJwt(r.json.access_token, keys.find((k) => k.kid === header.kid)),
        'access token: the signature verifies with the published key');

    r = await adminToken('read write');
    eq(r.status, 200, 'client_credentials with HTTP Basic: 200');
    r = await postForm(TOKEN, { grant_type: 'client_credentials' }, { basic: ADMIN });
    eq(r.json?.scope, 'read write admin', 'no scope parameter: every scope of the client');
    r = await postForm(TOKEN, 'grant_type=client_credentials&client_id=' + ADMIN[0] +
        '&client_secret=' + encodeURIComponent(ADMIN[1]) + '&scope=read write');
    eq(r.status, 200, 'a literal space in scope (the product\'s curl example) is accepted');
    r = await adminToken('read');
    eq(r.json?.scope, 'read', 'admin implies read: scope read alone is granted');

    const bad = async (desc, status, error, params, opts) => {
        const res = await postForm(TOKEN, params, opts);
        ok(res.status === status && res.json?.error === error, `${desc}: ${status} ${error}`,
            { status: res.status, body: res.json ?? res.text });
        return res;
    };
    let e = await bad('wrong secret', 401, 'invalid_client', { grant_type: 'client_credentials' }, { basic: [ADMIN[0], 'wrong'] });
    ok(/Basic/.test(e.headers.get('www-authenticate') ?? ''), 'wrong secret: WWW-Authenticate');
    await bad('unknown client', 401, 'invalid_client', { grant_type: 'client_credentials', client_id: 'nobody', client_secret: 'x' });
    await bad('no client authentication', 401, 'invalid_client', { grant_type: 'client_credentials' });
    await bad('two authentication methods', 400, 'invalid_request',
        { grant_type: 'client_credentials', client_secret: ADMIN[1] }, { basic: ADMIN });
    await bad('malformed Basic header', 401, 'invalid_client', { grant_type: 'client_credentials' },
        { headers: { Authorization: 'Basic !!!' } });
    await bad('unsupported grant type', 400, 'unsupported_grant_type', { grant_type: 'password' }, { basic: ADMIN });
    await bad('no grant_type', 400, 'invalid_request', { scope: 'read' }, { basic: ADMIN });
    await bad('a repeated parameter', 400, 'invalid_request', 'grant_type=client_credentials&scope=read&scope=write', { basic: ADMIN });
    await bad('unknown scope', 400, 'invalid_scope', { grant_type: 'client_credentials', scope: 'read delete' }, { basic: ADMIN });
    await bad('a resource outside the public URL', 400, 'invalid_target',
        { grant_type: 'client_credentials', resource: 'https://evil.example/api' }, { basic: ADMIN });
    e = await http(TOKEN, { method: 'POST', headers: { 'Content-Type': 'application/json' }, body: '{"grant_type":"client_credentials"}' });
    ok(e.status === 400 && e.json?.error === 'invalid_request', 'a JSON body: 400 invalid_request', e.json);
    e = await http(TOKEN);
    ok(e.status === 405 && /POST/.test(e.headers.get('allow') ?? ''), 'GET on the token endpoint: 405 with Allow');

    r = await adminToken('read', { resource: `${RA}/mcp` });
    eq(decodeJwt(r.json.access_token).claims.aud, `${RA}/mcp`, 'resource (RFC 8707) becomes the audience');
    const w = await whoami(RA, r.json.access_token);
    eq(w.status, 200, 'a token for a resource under the public URL is accepted');
}

// --------------------------------------- roles and the REST port's checks
async function testRolesAndForgery(keys) {
    for (const [scope, role] of [['read', 'vecdb_reader'], ['read write', 'vecdb_writer'], ['admin', 'vecdb_admin']]) {
        const t = (await adminToken(scope)).json.access_token;
        const w = await whoami(RA, t);
        ok(w.status === 200 && w.json?.role === role && w.json?.sub === ADMIN[0],
            `scope '${scope}': the request runs as ${role} (current_user in PostgreSQL)`, w.json);
    }
    let w = await whoami(RA, null);
    ok(w.status === 401 && /^Bearer/.test(w.headers.get('www-authenticate') ?? ''),
        'no token: 401 with WWW-Authenticate Bearer');
    w = await whoami(RA, 'garbage');
    ok(w.status === 401 && /invalid_token/.test(w.headers.get('www-authenticate') ?? ''), 'a garbage token: 401 invalid_token');

    const good = (await adminToken('read')).json.access_token;
    const { header, claims } = decodeJwt(good);
    const b64 = (o) => Buffer.from(JSON.stringify(o)).toString('base64url');
    const pem = fs.readFileSync(process.env.KEY_PEM_FILE, 'utf8');
    const now = Math.floor(Date.now() / 1000);
    const refused = async (desc, token, reason) => {
        const res = await whoami(RA, token);
        ok(res.status === 401 && (!reason || (res.json?.detail ?? '').includes(reason)),
            `${desc}: 401${reason ? ` (${reason})` : ''}`, { status: res.status, body: res.json });
    };
    await refused('alg none', `${b64({ alg: 'none', typ: 'at+jwt' })}.${b64({ ...claims, scope: 'admin' })}.`, 'not ES256');
    const hmacKey = Buffer.from(keys[0].x, 'base64url');
    const hsInput = `${b64({ alg: 'HS256', typ: 'at+jwt', kid: header.kid })}.${b64(claims)}`;
    await refused('alg HS256 keyed with the public key', `${hsInput}.${crypto.createHmac('sha256', hmacKey).update(hsInput).digest('base64url')}`, 'not ES256');
    const stranger = crypto.generateKeyPairSync('ec', { namedCurve: 'P-256' }).privateKey;
    await refused('signed by a stranger\'s key under our kid', signJwt(header, claims, stranger), 'signature');
    const [h, , s] = good.split('.');
    await refused('claims changed (read -> admin), signature kept', `${h}.${b64({ ...claims, scope: 'admin' })}.${s}`, 'signature');
    await refused('expired (signed with the real key)', signJwt(header, { ...claims, iat: now - 7200, exp: now - 3600 }, pem), 'expired');
    await refused('another issuer (real key)', signJwt(header, { ...claims, iss: 'http://evil.example' }, pem), 'another server');
    await refused('another audience (real key)', signJwt(header, { ...claims, aud: 'https://other-service.example' }, pem), 'another audience');
    await refused('typ JWT instead of at+jwt (real key)', signJwt({ ...header, typ: 'JWT' }, claims, pem), 'not an access token');
    const minted = signJwt(header, { ...claims, jti: 'minted-' + now }, pem);
    eq((await whoami(RA, minted)).status, 200, 'control: a token the test signs with the real key is accepted');
}

// --------------------------------------------------------- registration
async function testRegistration() {
    const reg = (body, headers) => postJson(`${A}/oauth/register`, body, headers);
    let r = await reg({
        redirect_uris: ['http://127.0.0.1:9/callback'], token_endpoint_auth_method: 'none',
        grant_types: ['authorization_code', 'refresh_token'], response_types: ['code'],
        client_name: 'Test app', scope: 'read write',
    });
    const pub = r.json ?? {};
    ok(r.status === 201 && typeof pub.client_id === 'string' && !('client_secret' in pub),
        'register a public client: 201, client_id, no secret', r.json);
    ok(!hasNull(pub) && Number.isInteger(pub.client_id_issued_at) && pub.token_endpoint_auth_method === 'none' &&
        pub.client_name === 'Test app' && pub.scope === 'read write' &&
        JSON.stringify(pub.redirect_uris) === '["http://127.0.0.1:9/callback"]',
    'register: the reply echoes the metadata, with no null fields', pub);

    r = await reg({ redirect_uris: ['https://app.example/cb'], client_name: 'Confidential' });
    const conf = r.json ?? {};
    remember(conf.client_secret);
    ok(r.status === 201 && typeof conf.client_secret === 'string' && conf.client_secret_expires_at === 0 &&
        Number.isInteger(conf.client_secret_expires_at) && conf.token_endpoint_auth_method === 'client_secret_basic' &&
        JSON.stringify(conf.grant_types) === '["authorization_code"]' && !hasNull(conf),
    'register a confidential client: a secret, integer client_secret_expires_at 0, defaults', conf);

    const admin = (await adminToken('admin')).json.access_token;
    const reader = (await adminToken('read')).json.access_token;
    r = await reg({ grant_types: ['client_credentials'], scope: 'read' }, { Authorization: `Bearer ${admin}` });
    const cc = r.json ?? {};
    remember(cc.client_secret);
    ok(r.status === 201 && cc.client_secret && JSON.stringify(cc.grant_types) === '["client_credentials"]',
        'register a client_credentials client with an admin token: 201', r.json);

    const bad = async (desc, status, error, body, headers) => {
        const res = await reg(body, headers);
        ok(res.status === status && res.json?.error === error, `register ${desc}: ${status} ${error}`,
            { status: res.status, body: res.json ?? res.text });
    };
    await bad('a client_credentials client without a token', 401, 'invalid_token', { grant_types: ['client_credentials'] });
    await bad('a client_credentials client with a read token', 403, 'insufficient_scope', { grant_types: ['client_credentials'] },
        { Authorization: `Bearer ${reader}` });
    await bad('not JSON', 400, 'invalid_client_metadata', '{"redirect_uris": [');
    await bad('an array body', 400, 'invalid_client_metadata', '[]');
    await bad('an http redirect URI to a remote host', 400, 'invalid_redirect_uri', { redirect_uris: ['http://evil.example/cb'] });
    await bad('a javascript: redirect URI', 400, 'invalid_redirect_uri', { redirect_uris: ['javascript:alert(1)'] });
    await bad('a redirect URI with a fragment', 400, 'invalid_redirect_uri', { redirect_uris: ['https://a.example/cb#x'] });
    await bad('authorization_code without redirect URIs', 400, 'invalid_redirect_uri', { client_name: 'x' });
    await bad('an unknown grant type', 400, 'invalid_client_metadata', { redirect_uris: ['https://a.example/cb'], grant_types: ['password'] });
    await bad('response type token', 400, 'invalid_client_metadata', { redirect_uris: ['https://a.example/cb'], response_types: ['token'] });
    await bad('an unknown scope', 400, 'invalid_client_metadata', { redirect_uris: ['https://a.example/cb'], scope: 'root' });
    await bad('an unknown auth method', 400, 'invalid_client_metadata', { redirect_uris: ['https://a.example/cb'], token_endpoint_auth_method: 'private_key_jwt' });
    await bad('a public client_credentials client', 400, 'invalid_client_metadata',
        { grant_types: ['client_credentials'], token_endpoint_auth_method: 'none' }, { Authorization: `Bearer ${admin}` });
    // gateway B runs with registration = admin
    let rb = await postJson(`${B}/oauth/register`, { redirect_uris: ['https://a.example/cb'], token_endpoint_auth_method: 'none' });
    ok(rb.status === 401 && rb.json?.error === 'invalid_token', 'registration = admin: an anonymous registration is refused', rb.json);
    rb = await postJson(`${B}/oauth/register`, { redirect_uris: ['https://a.example/cb'], token_endpoint_auth_method: 'none' },
        { Authorization: `Bearer ${admin}` });
    eq(rb.status, 201, 'registration = admin: an admin token may register any client');
    const ct = await http(`${A}/oauth/register`, { method: 'POST', headers: { 'Content-Type': 'text/plain' }, body: '{}' });
    ok(ct.status === 400 && ct.json?.error === 'invalid_client_metadata', 'register with text/plain: 400');
    return { pub, conf, cc };
}

// ------------------------------- token_endpoint_auth_method is enforced
async function testAuthMethods(clients) {
    const admin = (await adminToken('admin')).json.access_token;
    const reg = (body) => postJson(`${A}/oauth/register`, body, { Authorization: `Bearer ${admin}` });
    let r = await reg({ grant_types: ['client_credentials'], scope: 'read', token_endpoint_auth_method: 'client_secret_post' });
    const post = r.json ?? {};
    remember(post.client_secret);
    ok(r.status === 201 && post.token_endpoint_auth_method === 'client_secret_post' && post.client_secret,
        'register a client_secret_post client', r.json);
    const basic = clients.cc; // registered without a method: client_secret_basic, the RFC 7591 default
    eq(basic.token_endpoint_auth_method, 'client_secret_basic', 'a client registered without a method gets client_secret_basic');
    const creds = (c) => [c.client_id, c.client_secret];
    const withBasic = (url, c, params) => postForm(url, params, { basic: creds(c) });
    const inBody = (url, c, params) => postForm(url, { ...params, client_id: c.client_id, client_secret: c.client_secret });
    const cc = { grant_type: 'client_credentials' };
    const refused = (desc, res, method) => ok(res.status === 401 && res.json?.error === 'invalid_client' &&
        new RegExp(`registered with token_endpoint_auth_method ${method}`).test(res.json?.error_description ?? '') &&
        /^Basic/.test(res.headers.get('www-authenticate') ?? ''),
    `${desc}: 401 invalid_client naming the registered method`, { status: res.status, body: res.json });

    eq((await inBody(TOKEN, post, cc)).status, 200, 'a client_secret_post client, secret in the body: 200');
    refused('a client_secret_post client using HTTP Basic', await withBasic(TOKEN, post, cc), 'client_secret_post');
    eq((await withBasic(TOKEN, basic, cc)).status, 200, 'a client_secret_basic client using HTTP Basic: 200');
    refused('a client_secret_basic client with its secret in the body', await inBody(TOKEN, basic, cc), 'client_secret_basic');
    r = await postForm(TOKEN, { ...cc, client_id: basic.client_id, client_secret: 'wrong' });
    ok(r.status === 401 && r.json?.error === 'invalid_client' && r.json?.error_description === 'client authentication failed',
        'the wrong method with a wrong secret: the plain invalid_client (the method is told only to who knows the secret)', r.json);

    const t = (await inBody(TOKEN, post, { ...cc, scope: 'read' })).json?.access_token;
    const intro = `${A}/oauth/introspect`, revoke = `${A}/oauth/revoke`;
    refused('introspection by a client_secret_post client using HTTP Basic', await withBasic(intro, post, { token: t }), 'client_secret_post');
    r = await inBody(intro, post, { token: t });
    ok(r.status === 200 && r.json?.active === true, 'introspection by the client_secret_post client, secret in the body: active', r.json);
    refused('revocation by a client_secret_post client using HTTP Basic', await withBasic(revoke, post, { token: t }), 'client_secret_post');
    eq((await whoami(RA, t)).status, 200, '... and the token was not revoked');
    const tb = (await withBasic(TOKEN, basic, cc)).json?.access_token;
    refused('revocation by a client_secret_basic client with its secret in the body', await inBody(revoke, basic, { token: tb }), 'client_secret_basic');
    refused('introspection by a client_secret_basic client with its secret in the body', await inBody(intro, basic, { token: tb }), 'client_secret_basic');
    eq((await withBasic(revoke, basic, { token: tb })).status, 200, 'revocation by the client_secret_basic client with HTTP Basic: 200');

    // the admin client of the first start takes both (the product's examples post the secret)
    ok((await postForm(TOKEN, { ...cc, client_id: ADMIN[0], client_secret: ADMIN[1] })).status === 200 &&
        (await postForm(TOKEN, cc, { basic: ADMIN })).status === 200,
    'the admin client (made at first start) may use client_secret_basic and client_secret_post');
    // a public client sends no secret
    r = await postForm(TOKEN, { grant_type: 'authorization_code', client_id: clients.pub.client_id, client_secret: 'x',
        code: 'c', redirect_uri: 'http://127.0.0.1:9/callback', code_verifier: pkce().verifier });
    ok(r.status === 401 && r.json?.error === 'invalid_client' && /public/.test(r.json?.error_description ?? ''),
        'a public client (none) that sends a secret: 401 invalid_client', r.json);
    r = await postForm(TOKEN, { grant_type: 'authorization_code', code: 'c', redirect_uri: 'http://127.0.0.1:9/callback',
        code_verifier: pkce().verifier }, { basic: [clients.pub.client_id, ''] });
    ok(r.status === 401 && r.json?.error === 'invalid_client', 'a public client using HTTP Basic: 401 invalid_client', r.json);
}

// -------------------------------------------- authorization code + PKCE
function authorizeUrl(clientId, p, extra = {}, base = A) {
    const q = new URLSearchParams({
        response_type: 'code', client_id: clientId, redirect_uri: 'http://127.0.0.1:9/callback',
        scope: 'read write', state: 'st-123', code_challenge: p.challenge, code_challenge_method: 'S256', ...extra,
    });
    for (const [k, v] of Object.entries(extra)) if (v === undefined) q.delete(k);
    return `${base}/oauth/authorize?${q}`;
}

// the login form's POST, as a browser sends it: the page's hidden fields
// (with the anti-forgery token) plus the user's answer, and the page's cookie
async function login(clientId, p, { user = USER, action = 'approve', extra = {}, base = A, from } = {}) {
    const page = await http(authorizeUrl(clientId, p, extra, base), { from });
    const res = await postForm(`${base}/oauth/authorize`,
        { ...formFields(page.text), username: user[0], password: user[1], action },
        { headers: { Cookie: cookieOf(page) }, from });
    return { page, res, location: res.headers.get('location') };
}

// the anti-forgery token a gateway would put in a form for the cookie nonce,
// time t and the form's parameters, made here with the signing key (csrf.h)
const CARRIED = ['response_type', 'client_id', 'redirect_uri', 'scope', 'state', 'code_challenge',
    'code_challenge_method', 'resource'];
function formToken(nonce, t, form) {
    const pem = fs.readFileSync(process.env.KEY_PEM_FILE, 'utf8').trim();
    const key = crypto.createHmac('sha256', pem).update('vecdb login form key v1').digest();
    const items = ['vecdb login form v1', nonce, String(t)];
    for (const n of CARRIED) items.push(form[n] ? '+' + form[n] : '-');
    const mac = crypto.createHmac('sha256', key).update(items.map((i) => i + '\0').join('')).digest('base64url');
    return `${t}.${mac}`;
}

async function getCode(clientId, p, opts) {
    const { location } = await login(clientId, p, opts);
    return location ? new URL(location).searchParams.get('code') : null;
}

const exchange = (clientId, code, verifier, extra = {}) => postForm(TOKEN, {
    grant_type: 'authorization_code', client_id: clientId, code, code_verifier: verifier,
    redirect_uri: 'http://127.0.0.1:9/callback', ...extra,
});

async function testAuthorizationCode(clients) {
    const id = clients.pub.client_id;
    let p = pkce();
    const { page, res, location } = await login(id, p);
    ok(page.status === 200 && /<form/.test(page.text) && page.text.includes('Test app') && page.text.includes('read write'),
        'authorize: a login page naming the client and the scopes', page.status);
    ok(page.headers.get('x-frame-options') === 'DENY' && /frame-ancestors 'none'/.test(page.headers.get('content-security-policy') ?? ''),
        'authorize: the page cannot be framed');
    const setCookie = page.headers.get('set-cookie') ?? '';
    ok(/^vecdb_csrf=[A-Za-z0-9_-]{22}; Path=\/oauth\/authorize; Max-Age=1800; HttpOnly; SameSite=Lax$/.test(setCookie),
        'authorize: the page sets the anti-forgery cookie (HttpOnly, SameSite=Lax, the endpoint\'s path only)', setCookie);
    ok(/^\d+\.[A-Za-z0-9_-]{43}$/.test(formFields(page.text).csrf_token ?? ''), 'authorize: the form carries a csrf_token');
    ok(page.headers.get('cache-control') === 'no-store' && page.headers.get('referrer-policy') === 'no-referrer',
        'authorize: the page is not cached and sends no Referer');
    const loc = location ? new URL(location) : null;
    ok(res.status === 302 && loc && loc.origin + loc.pathname === 'http://127.0.0.1:9/callback' &&
        loc.searchParams.get('state') === 'st-123' && loc.searchParams.get('iss') === A && loc.searchParams.get('code'),
    'authorize: the right password redirects with code, state and iss', { status: res.status, location });
    const code = loc?.searchParams.get('code');
    remember(code);

    let r = await exchange(id, code, p.verifier);
    remember(r.json?.access_token, r.json?.refresh_token);
    const claims = r.json?.access_token ? decodeJwt(r.json.access_token).claims : {};
    ok(r.status === 200 && claims.sub === USER[0] && claims.client_id === id && r.json.scope === 'read write' &&
        typeof r.json.refresh_token === 'string', 'code + verifier: tokens for the user', r.json);
    const w = await whoami(RA, r.json?.access_token);
    ok(w.status === 200 && w.json?.role === 'vecdb_writer' && w.json?.sub === USER[0], 'the user\'s token works on the REST port', w.json);
    eq((await whoami(RB, r.json?.access_token)).status, 200, '... and on gateway B');
    ok(typeof claims.sid === 'string' && claims.sid.length > 0, 'the access token names its refresh-token family (sid)', claims);
    const firstRefresh = r.json?.refresh_token;
    const firstAccess = r.json?.access_token;

    r = await exchange(id, code, p.verifier);
    const replayedAt = Date.now();
    ok(r.status === 400 && r.json?.error === 'invalid_grant' && /already used/.test(r.json?.error_description),
        'the same code again: invalid_grant', r.json);
    r = await postForm(TOKEN, { grant_type: 'refresh_token', client_id: id, refresh_token: firstRefresh });
    ok(r.status === 400 && r.json?.error === 'invalid_grant', 'after a replayed code its refresh token is revoked', r.json);
    const [replayA, replayB] = await refusedOn([RA, RB], firstAccess, replayedAt);
    ok(withinASecond(replayA) && withinASecond(replayB),
        `after a replayed code the access token issued for it is refused by gateways A and B within a second (${took(replayA)}, ${took(replayB)})`,
        { replayA, replayB });

    // the login form is refused unless it is this server's form for this
    // browser, unchanged and recent (anti-forgery token + cookie); nothing
    // is issued then, even with the right password
    const codes = () => sql('SELECT count(*) FROM vecdb_auth.authorization_codes');
    const forged = async (desc, want, change) => {
        const url = authorizeUrl(id, pkce());
        const pg = await http(url);
        const form = { ...formFields(pg.text), username: USER[0], password: USER[1], action: 'approve' };
        const headers = { Cookie: cookieOf(pg) };
        await change(form, headers, url);
        const before = codes();
        const res = await postForm(`${A}/oauth/authorize`, form, { headers });
        ok(res.status === 403 && !res.headers.get('location') && want.test(res.text) && codes() === before,
            `login form ${desc}: 403 with a page saying so, no code`, { status: res.status, text: res.text.slice(-400) });
    };
    await forged('without its csrf_token', /without its security token/, (f) => { delete f.csrf_token; });
    await forged('without the cookie', /came without this site&#39;s cookie/, (f, h) => { delete h.Cookie; });
    await forged('with the token of another browser\'s form', /not made by this server for this browser/, async (f, h, url) => {
        f.csrf_token = formFields((await http(url)).text).csrf_token; // same request, another cookie
    });
    await forged('with a changed token', /not made by this server for this browser/, (f) => {
        f.csrf_token = f.csrf_token.replace(/.$/, (c) => (c === 'A' ? 'B' : 'A'));
    });
    await forged('with a changed hidden parameter (state)', /or was changed/, (f) => { f.state = 'changed'; });
    await forged('for a scope other than the page showed', /or was changed/, (f) => { f.scope = 'read'; });
    await forged('made 31 minutes ago (real key)', /has expired/, (f, h) => {
        f.csrf_token = formToken(h.Cookie.split('=')[1], Math.floor(Date.now() / 1000) - 1860, f);
    });
    await forged('answered with deny but without a token', /without its security token/, (f) => {
        delete f.csrf_token;
        f.action = 'deny';
    });
    // controls: a token made with the signing key is what the gateway makes;
    // gateway B (same database) accepts a form made by gateway A
    p = pkce();
    const pg = await http(authorizeUrl(id, p));
    const fresh = { ...formFields(pg.text), username: USER[0], password: USER[1], action: 'approve' };
    fresh.csrf_token = formToken(cookieOf(pg).split('=')[1], Math.floor(Date.now() / 1000), fresh);
    let cres = await postForm(`${A}/oauth/authorize`, fresh, { headers: { Cookie: cookieOf(pg) } });
    ok(cres.status === 302 && /[?&]code=/.test(cres.headers.get('location') ?? ''),
        'control: a token made with the signing key\'s derived key is accepted', cres.status);
    const pgA = await http(authorizeUrl(id, pkce()));
    cres = await postForm(`${B}/oauth/authorize`, { ...formFields(pgA.text), username: USER[0], password: USER[1], action: 'approve' },
        { headers: { Cookie: cookieOf(pgA) } });
    ok(cres.status === 302 && /[?&]code=/.test(cres.headers.get('location') ?? ''),
        'a form from gateway A is accepted by gateway B (same database, same key)', cres.status);
    const again = await http(authorizeUrl(id, pkce()), { headers: { Cookie: cookieOf(pgA) } });
    eq(cookieOf(again), cookieOf(pgA), 'a browser that has the cookie keeps it (its forms in other tabs stay valid)');

    const bad = async (desc, res, error, match) => ok(res.status === 400 && res.json?.error === error &&
        (!match || match.test(res.json?.error_description ?? '')), `${desc}: ${error}`, res.json);
    p = pkce();
    await bad('a wrong PKCE verifier', await exchange(id, await getCode(id, p), pkce().verifier), 'invalid_grant', /PKCE/);
    p = pkce();
    await bad('no code_verifier', await exchange(id, await getCode(id, p), undefined, { code_verifier: '' }), 'invalid_request');
    p = pkce();
    await bad('a malformed code_verifier', await exchange(id, await getCode(id, p), 'short'), 'invalid_grant');
    p = pkce();
    await bad('another redirect_uri at the token endpoint', await exchange(id, await getCode(id, p), p.verifier,
        { redirect_uri: 'http://127.0.0.1:9/other' }), 'invalid_grant', /redirect_uri/);
    p = pkce();
    const c2 = await getCode(id, p);
    sql(`UPDATE vecdb_auth.authorization_codes SET expires_at = now() - interval '1 second' WHERE used_at IS NULL`);
    await bad('an expired code', await exchange(id, c2, p.verifier), 'invalid_grant', /expired/);
    p = pkce();
    const c3 = await getCode(id, p);
    const other = await postJson(`${A}/oauth/register`, { redirect_uris: ['http://127.0.0.1:9/callback'], token_endpoint_auth_method: 'none' });
    await bad('a code exchanged by another client', await exchange(other.json.client_id, c3, p.verifier), 'invalid_grant', /another client/);
    await bad('an unknown code', await exchange(id, 'no-such-code', pkce().verifier), 'invalid_grant');

    // errors shown to the user: no redirect while the client is in doubt
    let e = await http(authorizeUrl(id, pkce(), { redirect_uri: 'https://evil.example/cb' }));
    ok(e.status === 400 && !e.headers.get('location') && /not one of the client/.test(e.text),
        'authorize with an unregistered redirect_uri: an error page, no redirect', e.status);
    e = await http(authorizeUrl('no-such-client', pkce()));
    ok(e.status === 400 && !e.headers.get('location'), 'authorize for an unknown client: an error page', e.status);
    e = await http(`${A}/oauth/authorize?client_id=${id}&client_id=${id}`);
    ok(e.status === 400 && /more than once/.test(e.text), 'authorize with a repeated parameter: an error page');

    // errors sent back to the client
    const redirected = async (desc, extra, error) => {
        const res = await http(authorizeUrl(id, pkce(), extra));
        const l = res.headers.get('location') ? new URL(res.headers.get('location')) : null;
        ok(res.status === 302 && l?.searchParams.get('error') === error && l?.searchParams.get('state') === 'st-123',
            `authorize ${desc}: redirect with error=${error} and the state`, { status: res.status, location: l?.href });
    };
    await redirected('with code_challenge_method plain', { code_challenge_method: 'plain' }, 'invalid_request');
    await redirected('without code_challenge', { code_challenge: undefined, code_challenge_method: undefined }, 'invalid_request');
    await redirected('with response_type token', { response_type: 'token' }, 'unsupported_response_type');
    await redirected('asking for admin (beyond the client)', { scope: 'read admin' }, 'invalid_scope');
    await redirected('with an unknown scope', { scope: 'read root' }, 'invalid_scope');
    await redirected('with a foreign resource', { resource: 'https://evil.example' }, 'invalid_target');

    p = pkce();
    const wrong = await login(id, p, { user: [USER[0], 'not-the-password'] });
    ok(wrong.res.status === 403 && !wrong.location && /Wrong user name or password/.test(wrong.res.text),
        'login with a wrong password: the page again, no code', wrong.res.status);
    const unknown = await login(id, p, { user: ['nobody', 'x'] });
    ok(unknown.res.status === 403 && !unknown.location, 'login as an unknown user: the same answer');
    const denied = await login(id, p, { action: 'deny' });
    const dl = denied.location ? new URL(denied.location) : null;
    ok(dl?.searchParams.get('error') === 'access_denied' && dl?.searchParams.get('state') === 'st-123',
        'deny: redirect with error=access_denied', denied.location);

    // a user with the read scope only cannot grant write
    const salt = crypto.randomBytes(16);
    const hash = crypto.pbkdf2Sync('reader-pass', salt, 1000, 32, 'sha256');
    sql(`INSERT INTO vecdb_auth.users (username, password_hash, scopes) VALUES ('reader',
        'pbkdf2-sha256$1000$${salt.toString('base64url')}$${hash.toString('base64url')}', '{read}')
        ON CONFLICT DO NOTHING`);
    const ro = await login(id, pkce(), { user: ['reader', 'reader-pass'] });
    const rl = ro.location ? new URL(ro.location) : null;
    ok(rl?.searchParams.get('error') === 'access_denied', 'a read-only user asked for write: access_denied', ro.location);
    p = pkce();
    const rc = await getCode(id, p, { user: ['reader', 'reader-pass'], extra: { scope: 'read' } });
    r = await exchange(id, rc, p.verifier);
    ok(r.status === 200 && r.json?.scope === 'read', 'the read-only user grants read (hash made outside the gateway verifies)', r.json);

    // a public client revokes its own refresh token with its client_id alone;
    // the access token of that family goes with it
    const pubTokens = r.json ?? {};
    r = await postForm(`${A}/oauth/revoke`, { token: pubTokens.refresh_token, client_id: id });
    const pubRevokedAt = Date.now();
    eq(r.status, 200, 'a public client revokes its refresh token with its client_id alone (RFC 7009): 200');
    const [pubA] = await refusedOn([RA], pubTokens.access_token, pubRevokedAt);
    ok(withinASecond(pubA), `... and its access token is refused within a second (${took(pubA)})`, pubA);

    // the form with a valid token but no password: the form again, 400
    const pgNoPw = await http(authorizeUrl(id, pkce()));
    r = await postForm(`${A}/oauth/authorize`, { ...formFields(pgNoPw.text), username: USER[0], action: 'approve' },
        { headers: { Cookie: cookieOf(pgNoPw) } });
    ok(r.status === 400 && !r.headers.get('location') && /Enter a user name and a password/.test(r.text) && /name="csrf_token"/.test(r.text),
        'login without a password: 400, the form again with a new token', r.status);

    // resource (RFC 8707) through the code flow
    p = pkce();
    const rcode = await getCode(id, p, { extra: { resource: `${RA}/mcp` } });
    r = await exchange(id, rcode, p.verifier);
    ok(r.status === 200 && decodeJwt(r.json.access_token).claims.aud === `${RA}/mcp`,
        'authorize with resource: the user\'s token has it as its audience', r.json);
    p = pkce();
    r = await exchange(id, await getCode(id, p, { extra: { resource: `${RA}/mcp` } }), p.verifier, { resource: RA });
    ok(r.status === 400 && r.json?.error === 'invalid_target', 'another resource at the token endpoint: invalid_target', r.json);
    eq(sql(`SELECT count(*) FROM vecdb_auth.users WHERE username = '${USER[0]}' AND password_hash LIKE 'pbkdf2-sha256$200000$%'`), '1',
        'the admin user\'s password is stored as a salted PBKDF2 hash');
    return id;
}

// -------------------------------------------------------- refresh tokens
async function testRefresh(clients) {
    const first = (await adminToken('read write')).json;
    const refresh = (token, extra = {}, basic = ADMIN) =>
        postForm(TOKEN, { grant_type: 'refresh_token', refresh_token: token, ...extra }, { basic });
    let r = await refresh(first.refresh_token);
    remember(r.json?.access_token, r.json?.refresh_token);
    ok(r.status === 200 && r.json?.refresh_token && r.json.refresh_token !== first.refresh_token &&
        r.json.scope === 'read write', 'refresh: new access and refresh tokens (rotation)', r.json);
    const second = r.json?.refresh_token;
    const secondAccess = r.json?.access_token;
    const sid = (tok) => (tok ? decodeJwt(tok).claims.sid : undefined);
    ok(sid(first.access_token) && sid(secondAccess) === sid(first.access_token),
        'the rotated access token names the same family (sid)');
    ok((await whoami(RB, first.access_token)).status === 200 && (await whoami(RB, secondAccess)).status === 200,
        'both access tokens of the family work before the reuse');
    r = await refresh(first.refresh_token);
    const reusedAt = Date.now();
    ok(r.status === 400 && r.json?.error === 'invalid_grant' && /already used/.test(r.json?.error_description ?? ''),
        'refresh with the old token: invalid_grant (reuse detected)', r.json);
    r = await refresh(second);
    ok(r.status === 400 && r.json?.error === 'invalid_grant', 'after reuse the whole family is revoked', r.json);
    const [a1, b1, a2, b2] = [...await refusedOn([RA, RB], first.access_token, reusedAt),
        ...await refusedOn([RA, RB], secondAccess, reusedAt)];
    ok([a1, b1, a2, b2].every(withinASecond),
        `after reuse both access tokens of the family are refused by gateways A and B within a second (${[a1, b1, a2, b2].map(took).join(', ')})`,
        { a1, b1, a2, b2 });

    const t = (await adminToken('read write')).json;
    r = await refresh(t.refresh_token, { scope: 'read' });
    ok(r.status === 200 && r.json?.scope === 'read', 'refresh may narrow the scope', r.json);
    r = await refresh(r.json.refresh_token, { scope: 'read write' });
    ok(r.status === 400 && r.json?.error === 'invalid_scope', 'refresh cannot widen it again: invalid_scope', r.json);

    const cc = clients.cc;
    const ccToken = (await postForm(TOKEN, { grant_type: 'client_credentials' }, { basic: [cc.client_id, cc.client_secret] })).json;
    ok(ccToken?.access_token && !ccToken.refresh_token, 'a client without the refresh_token grant gets no refresh token', ccToken);
    ok(ccToken?.access_token && !('sid' in decodeJwt(ccToken.access_token).claims), '... and its access token names no family (sid)');
    const ccWho = await whoami(RA, ccToken?.access_token);
    ok(ccWho.json?.role === 'vecdb_reader' && ccWho.json?.sub === cc.client_id, 'the read client\'s requests run as vecdb_reader', ccWho.json);
    for (const scope of ['read write', 'admin']) {
        r = await postForm(TOKEN, { grant_type: 'client_credentials', scope }, { basic: [cc.client_id, cc.client_secret] });
        ok(r.status === 400 && r.json?.error === 'invalid_scope', `a read client asking for '${scope}': invalid_scope`, r.json);
    }
    const mine = (await adminToken('read')).json;
    r = await refresh(mine.refresh_token, {}, [cc.client_id, cc.client_secret]);
    ok(r.status === 400 && r.json?.error === 'unauthorized_client',
        'a client without the refresh_token grant presenting a refresh token: unauthorized_client', r.json);
    r = await postForm(TOKEN, { grant_type: 'refresh_token', refresh_token: mine.refresh_token, client_id: clients.pub.client_id });
    ok(r.status === 400 && r.json?.error === 'invalid_grant' && /another client/.test(r.json?.error_description ?? ''),
        'a client that may refresh, with another client\'s refresh token: invalid_grant', r.json);
    r = await refresh(mine.refresh_token);
    eq(r.status, 200, '... and the refresh token still works for its own client');
    r = await postForm(TOKEN, { grant_type: 'client_credentials' }, { basic: [clients.conf.client_id, clients.conf.client_secret] });
    ok(r.status === 400 && r.json?.error === 'unauthorized_client',
        'client_credentials by a client registered for authorization_code only: unauthorized_client', r.json);
    r = await refresh('not-a-token');
    ok(r.status === 400 && r.json?.error === 'invalid_grant', 'a malformed refresh token: invalid_grant', r.json);
    r = await refresh(mine.refresh_token.replace(/.$/, (c) => (c === 'A' ? 'B' : 'A')));
    ok(r.status === 400 && r.json?.error === 'invalid_grant', 'a refresh token with a wrong secret: invalid_grant', r.json);
    r = await postForm(TOKEN, { grant_type: 'refresh_token' }, { basic: ADMIN });
    ok(r.status === 400 && r.json?.error === 'invalid_request', 'no refresh_token: invalid_request', r.json);
    const old = (await adminToken('read')).json;
    sql(`UPDATE vecdb_auth.refresh_tokens SET expires_at = now() - interval '1 second' WHERE id = '${old.refresh_token.split('.')[0]}'`);
    r = await refresh(old.refresh_token);
    ok(r.status === 400 && r.json?.error === 'invalid_grant' && /expired/.test(r.json?.error_description ?? ''),
        'an expired refresh token: invalid_grant', r.json);
    const stored = sql(`SELECT count(*) FROM vecdb_auth.refresh_tokens WHERE secret_hash LIKE '%${mine.refresh_token.split('.')[1]}%'`);
    eq(stored, '0', 'refresh tokens are stored only as salted hashes');
    const secrets = sql(`SELECT count(*) FROM vecdb_auth.clients WHERE secret_hash NOT LIKE 'sha256$%' AND secret_hash NOT LIKE 'pbkdf2-sha256$%'`);
    eq(secrets, '0', 'client secrets are stored only as salted hashes');
}

// ------------------------------------------- introspection and revocation
async function testIntrospectRevoke(clients) {
    const intro = (token, basic = ADMIN, extra = {}) =>
        postForm(`${A}/oauth/introspect`, { token, ...extra }, { basic });
    const t = (await adminToken('read write')).json;
    let r = await intro(t.access_token);
    ok(r.status === 200 && r.json?.active === true && r.json.scope === 'read write' && r.json.client_id === ADMIN[0] &&
        r.json.sub === ADMIN[0] && r.json.iss === A && r.json.token_type === 'Bearer' && Number.isInteger(r.json.exp),
    'introspect an access token: active with its claims', r.json);
    r = await intro(t.refresh_token, ADMIN, { token_type_hint: 'refresh_token' });
    ok(r.json?.active === true && r.json.token_type === 'refresh_token', 'introspect a refresh token: active', r.json);
    r = await intro('garbage');
    ok(r.status === 200 && r.json?.active === false && Object.keys(r.json).length === 1, 'introspect garbage: {"active":false}', r.json);
    r = await postForm(`${A}/oauth/introspect`, { token: t.access_token });
    ok(r.status === 401 && r.json?.error === 'invalid_client', 'introspection needs client authentication', r.json);
    r = await postForm(`${A}/oauth/introspect`, { token: t.access_token, client_id: clients.pub.client_id });
    ok(r.status === 401, 'a public client may not introspect', r.json);
    const conf = [clients.conf.client_id, clients.conf.client_secret];
    r = await intro(t.access_token, conf);
    ok(r.json?.active === false, 'another (non-admin) client sees the admin\'s token as inactive', r.json);

    // revocation reaches the second gateway within a second
    const victim = (await adminToken('read')).json;
    ok((await whoami(RB, victim.access_token)).status === 200, 'gateway B accepts the token before revocation');
    r = await postForm(`${A}/oauth/revoke`, { token: victim.access_token, token_type_hint: 'access_token' }, { basic: ADMIN });
    const revokedAt = Date.now();
    eq(r.status, 200, 'revoke an access token: 200');
    // poll both gateways: each must refuse the token within a second
    const refusedAfter = async (base) => {
        while (Date.now() - revokedAt < 3000) {
            const res = await whoami(base, victim.access_token);
            if (res.status === 401) return { ms: Date.now() - revokedAt, detail: res.json?.detail };
            await sleep(20);
        }
        return { ms: null };
    };
    const [onB, onA] = await Promise.all([refusedAfter(RB), refusedAfter(RA)]);
    ok(onB.ms !== null && onB.ms <= 1000,
        `gateway B refuses the revoked token within a second (${onB.ms === null ? 'never' : onB.ms + ' ms'})`);
    ok(onA.ms !== null && onA.ms <= 1000 && /revoked/.test(onA.detail ?? ''),
        `gateway A refuses it within a second too: revoked (${onA.ms === null ? 'never' : onA.ms + ' ms'})`, onA);
    r = await intro(victim.access_token);
    eq(r.json?.active, false, 'introspection says a revoked token is inactive');

    r = await postForm(`${A}/oauth/revoke`, { token: victim.refresh_token }, { basic: ADMIN });
    eq(r.status, 200, 'revoke a refresh token: 200');
    r = await postForm(TOKEN, { grant_type: 'refresh_token', refresh_token: victim.refresh_token }, { basic: ADMIN });
    ok(r.status === 400 && r.json?.error === 'invalid_grant', 'a revoked refresh token cannot refresh', r.json);

    // revoking a refresh token revokes the access tokens of its family too,
    // on every gateway within a second
    const pair = (await adminToken('read')).json;
    ok((await whoami(RB, pair.access_token)).status === 200 && (await whoami(RA, pair.access_token)).status === 200,
        'gateways A and B accept an access token before its refresh token is revoked');
    r = await postForm(`${A}/oauth/revoke`, { token: pair.refresh_token, token_type_hint: 'refresh_token' }, { basic: ADMIN });
    const famAt = Date.now();
    eq(r.status, 200, 'revoke that refresh token only: 200');
    const [famA, famB] = await refusedOn([RA, RB], pair.access_token, famAt);
    ok(withinASecond(famA) && withinASecond(famB),
        `... the access token of its family is refused by gateways A and B within a second (${took(famA)}, ${took(famB)})`,
        { famA, famB });
    r = await intro(pair.access_token);
    eq(r.json?.active, false, '... and introspection says it is inactive');
    eq(sql(`SELECT count(*) FROM vecdb_auth.revoked_tokens WHERE jti = 'family:${decodeJwt(pair.access_token).claims.sid}'`), '1',
        'a family\'s revocation is one row family:ID in vecdb_auth.revoked_tokens');
    ok((await whoami(RB, t.access_token)).status === 200, 'a token of another family still works');

    r = await postForm(`${A}/oauth/revoke`, { token: t.access_token }, { basic: conf });
    ok(r.status === 400 && r.json?.error === 'unauthorized_client', 'a client cannot revoke another client\'s token', r.json);
    ok((await whoami(RA, t.access_token)).status === 200, '... and the token still works');
    r = await postForm(`${A}/oauth/revoke`, { token: 'unknown-token' }, { basic: ADMIN });
    eq(r.status, 200, 'revoking an unknown token: 200 (RFC 7009)');
    r = await postForm(`${A}/oauth/revoke`, {}, { basic: ADMIN });
    ok(r.status === 400 && r.json?.error === 'invalid_request', 'revoke without token: invalid_request');
    r = await postForm(`${A}/oauth/revoke`, { token: t.access_token }, { basic: [ADMIN[0], 'wrong'] });
    ok(r.status === 401 && r.json?.error === 'invalid_client', 'revoke with a wrong secret: 401');
    eq(sql(`SELECT count(*) FROM vecdb_auth.revoked_tokens WHERE jti = '${decodeJwt(victim.access_token).claims.jti}'`), '1',
        'the revocation is a row in vecdb_auth.revoked_tokens');

    // client_info
    r = await http(`${A}/oauth/client_info`, { headers: { Authorization: `Bearer ${t.access_token}` } });
    ok(r.status === 200 && r.json?.client_id === ADMIN[0] && r.json.scope === 'read write admin' && r.json.token?.scope === 'read write' && !hasNull(r.json),
        'client_info: the token\'s client and the token', r.json);
    r = await http(`${A}/oauth/client_info`);
    ok(r.status === 401 && r.json?.error === 'invalid_token', 'client_info without a token: 401', r.json);
}

// --------------------------------------------- failure limits (gateway B)
async function testRateLimits(clients) {
    const tokenB = `${B}/oauth/token`;
    const conf = [clients.conf.client_id, clients.conf.client_secret];
    for (let i = 0; i < 3; i++) {
        const r = await postForm(tokenB, { grant_type: 'client_credentials' }, { basic: [ADMIN[0], 'wrong-' + i] });
        eq(r.status, 401, `gateway B (limit 3): failure ${i + 1} is 401`);
    }
    let r = await postForm(tokenB, { grant_type: 'client_credentials' }, { basic: ADMIN });
    ok(r.status === 429 && Number(r.headers.get('retry-after')) > 0 && r.json?.error === 'temporarily_unavailable',
        'the right secret after 3 failures: 429 with Retry-After', { status: r.status, body: r.json });
    r = await postForm(tokenB, { grant_type: 'authorization_code', code: 'x', code_verifier: 'x', redirect_uri: 'x' }, { basic: conf });
    eq(r.status, 429, 'other clients from the same address are limited too');
    const pub = clients.pub.client_id;
    let l = await login(pub, pkce(), { base: B, extra: { scope: 'read' } });
    ok(l.res.status === 429 && !l.location && /Too many failed attempts/.test(l.res.text) && Number(l.res.headers.get('retry-after')) > 0,
        'the login page from a blocked address: 429 with Retry-After, even with the right password', l.res.status);
    r = await postForm(TOKEN, { grant_type: 'client_credentials' }, { basic: ADMIN });
    eq(r.status, 200, 'gateway A (its own counters, higher limit) still answers');

    // per client and per user whatever the address: 127.0.0.2 .. 127.0.0.4
    // are other client addresses on the loopback network
    r = await postForm(tokenB, { grant_type: 'client_credentials' }, { basic: ADMIN, from: '127.0.0.2' });
    ok(r.status === 429 && Number(r.headers.get('retry-after')) > 0 && r.json?.error === 'temporarily_unavailable',
        'the blocked client from another address, right secret: 429 (counted per client)', { status: r.status, body: r.json });
    r = await postForm(tokenB, { grant_type: 'client_credentials' }, { basic: [clients.cc.client_id, clients.cc.client_secret], from: '127.0.0.2' });
    eq(r.status, 200, 'another client from that address: 200 (that address is not blocked)');
    for (let i = 0; i < 3; i++) {
        l = await login(pub, pkce(), { user: ['reader', `wrong-${i}`], base: B, from: '127.0.0.3', extra: { scope: 'read' } });
        eq(l.res.status, 403, `gateway B: wrong password ${i + 1} for user reader: 403`);
    }
    l = await login(pub, pkce(), { user: ['reader', 'reader-pass'], base: B, from: '127.0.0.4', extra: { scope: 'read' } });
    ok(l.res.status === 429 && !l.location && /Too many failed attempts/.test(l.res.text),
        'the blocked user from another address, right password: 429 (counted per user)', l.res.status);
    l = await login(pub, pkce(), { base: B, from: '127.0.0.4', extra: { scope: 'read' } });
    ok(l.res.status === 302 && /[?&]code=/.test(l.location ?? ''), 'another user from that address signs in', l.res.status);
}

async function main() {
    const keys = await testMetadata();
    await testClientCredentials(keys);
    await testRolesAndForgery(keys);
    const clients = await testRegistration();
    await testAuthMethods(clients);
    await testAuthorizationCode(clients);
    await testRefresh(clients);
    await testIntrospectRevoke(clients);
    await testRateLimits(clients);
    if (process.env.SEEN_FILE) fs.writeFileSync(process.env.SEEN_FILE, seen.join('\n') + '\n');
}

main().then(() => process.exit(failures ? 1 : 0), (e) => {
    console.log(`not ok - the OAuth tests stopped: ${e.stack?.split('\n').slice(0, 3).join(' | ')}`);
    process.exit(1);
});
