// An unmodified third-party OAuth client library (oauth4webapi, from npm,
// pinned in package-lock.json) against the gateway: discovery, client
// credentials (Basic and post), RFC 9068 access-token validation through the
// JWKS, introspection, revocation, refresh, dynamic registration (open, and
// with an initial access token for a client_secret_post client, which is then
// held to that method) and the authorization-code flow with PKCE.  Prints "ok - ..." lines.
//
//   OAUTH_A REST_A ADMIN_ID ADMIN_SECRET ADMIN_USER ADMIN_PASSWORD
import * as oauth from 'oauth4webapi';

const ISSUER = new URL(process.env.OAUTH_A);
const REST = process.env.REST_A;
const insecure = { [oauth.allowInsecureRequests]: true }; // the test runs over loopback http
let failures = 0;

function ok(cond, desc, diag) {
    console.log(`${cond ? 'ok' : 'not ok'} - oauth4webapi: ${desc}`);
    if (!cond) {
        failures++;
        if (diag !== undefined) console.log(`#   ${String(diag?.stack ?? JSON.stringify(diag)).slice(0, 800).replace(/\n/g, '\n#   ')}`);
    }
}

// run fn; ok if it returns without throwing, the result or undefined
async function step(desc, fn) {
    try {
        const v = await fn();
        ok(true, desc);
        return v;
    } catch (e) {
        ok(false, desc, e);
        return undefined;
    }
}

async function main() {
    const as = await step('discovery (RFC 8414) of the issuer', async () =>
        oauth.processDiscoveryResponse(ISSUER, await oauth.discoveryRequest(ISSUER, { ...insecure, algorithm: 'oauth2' })));
    if (!as) return;
    ok(as.code_challenge_methods_supported?.includes('S256'), 'the metadata lists S256');

    const admin = { client_id: process.env.ADMIN_ID };
    const basic = oauth.ClientSecretBasic(process.env.ADMIN_SECRET);
    const cc = await step('client_credentials with client_secret_basic', async () =>
        oauth.processClientCredentialsResponse(as, admin,
            await oauth.clientCredentialsGrantRequest(as, admin, basic, new URLSearchParams({ scope: 'read write' }), insecure)));
    ok(cc?.token_type === 'bearer' && cc?.scope === 'read write', 'the token response is a bearer token with the scope', cc);

    const post = await step('client_credentials with client_secret_post', async () =>
        oauth.processClientCredentialsResponse(as, admin,
            await oauth.clientCredentialsGrantRequest(as, admin, oauth.ClientSecretPost(process.env.ADMIN_SECRET),
                new URLSearchParams({ scope: 'read' }), insecure)));
    ok(post?.scope === 'read', 'client_secret_post gets scope read');

    let error;
    try {
        await oauth.processClientCredentialsResponse(as, admin,
            await oauth.clientCredentialsGrantRequest(as, admin, oauth.ClientSecretBasic('wrong'), new URLSearchParams(), insecure));
    } catch (e) {
        error = e;
    }
    // a 401 with WWW-Authenticate surfaces as the library's challenge error
    const challenge = error instanceof oauth.WWWAuthenticateChallengeError ? error.cause?.[0] : undefined;
    ok((error instanceof oauth.ResponseBodyError && error.error === 'invalid_client' && error.status === 401) ||
        (error?.status === 401 && challenge?.scheme === 'basic' && challenge?.parameters?.error === 'invalid_client'),
    'a wrong secret is a 401 invalid_client the library understands', error);

    const claims = await step('validateJwtAccessToken (RFC 9068: typ, signature via jwks_uri, iss, aud, exp)', async () =>
        oauth.validateJwtAccessToken(as, new Request(REST, { headers: { Authorization: `Bearer ${cc.access_token}` } }), REST, insecure));
    ok(claims?.client_id === process.env.ADMIN_ID && claims?.scope === 'read write', 'the validated claims', claims);
    let audError;
    try {
        await oauth.validateJwtAccessToken(as, new Request(REST, { headers: { Authorization: `Bearer ${cc.access_token}` } }),
            'https://another-service.example', insecure);
    } catch (e) {
        audError = e;
    }
    ok(audError !== undefined, 'validateJwtAccessToken refuses the token for another audience');

    const intro = await step('introspection (RFC 7662)', async () =>
        oauth.processIntrospectionResponse(as, admin, await oauth.introspectionRequest(as, admin, basic, cc.access_token, insecure)));
    ok(intro?.active === true && intro?.client_id === process.env.ADMIN_ID, 'introspection: active, client_id', intro);

    const refreshed = await step('refresh_token grant', async () =>
        oauth.processRefreshTokenResponse(as, admin, await oauth.refreshTokenGrantRequest(as, admin, basic, cc.refresh_token, insecure)));
    ok(refreshed?.refresh_token && refreshed.refresh_token !== cc.refresh_token, 'refresh rotates the refresh token');

    await step('revocation (RFC 7009)', async () =>
        oauth.processRevocationResponse(await oauth.revocationRequest(as, admin, basic, cc.access_token, insecure)));
    const after = await step('introspection after revocation', async () =>
        oauth.processIntrospectionResponse(as, admin, await oauth.introspectionRequest(as, admin, basic, cc.access_token, insecure)));
    ok(after?.active === false, 'the revoked token is inactive', after);

    // a confidential client registered with an initial access token (the
    // admin scope) and token_endpoint_auth_method client_secret_post is held
    // to that method
    const adminTok = await step('client_credentials with scope admin', async () =>
        oauth.processClientCredentialsResponse(as, admin,
            await oauth.clientCredentialsGrantRequest(as, admin, basic, new URLSearchParams({ scope: 'admin' }), insecure)));
    const postClient = await step('registration of a client_secret_post client with an initial access token', async () =>
        oauth.processDynamicClientRegistrationResponse(await oauth.dynamicClientRegistrationRequest(as, {
            grant_types: ['client_credentials'], token_endpoint_auth_method: 'client_secret_post', scope: 'read',
            client_name: 'oauth4webapi post client',
        }, { ...insecure, initialAccessToken: adminTok?.access_token })));
    if (postClient) {
        const pc = { client_id: postClient.client_id };
        const viaPost = await step('client_credentials of that client with client_secret_post', async () =>
            oauth.processClientCredentialsResponse(as, pc, await oauth.clientCredentialsGrantRequest(as, pc,
                oauth.ClientSecretPost(postClient.client_secret), new URLSearchParams(), insecure)));
        ok(viaPost?.scope === 'read', 'the client_secret_post client gets its scope', viaPost);
        let viaBasic;
        try {
            await oauth.processClientCredentialsResponse(as, pc, await oauth.clientCredentialsGrantRequest(as, pc,
                oauth.ClientSecretBasic(postClient.client_secret), new URLSearchParams(), insecure));
        } catch (e) {
            viaBasic = e;
        }
        const ch = viaBasic instanceof oauth.WWWAuthenticateChallengeError ? viaBasic.cause?.[0] : undefined;
        ok(viaBasic?.status === 401 && (viaBasic?.error === 'invalid_client' || ch?.parameters?.error === 'invalid_client'),
            'the same client with client_secret_basic: 401 invalid_client', viaBasic);
    }

    // a public client registers itself and goes through the code flow
    const redirect = 'http://127.0.0.1:9/callback';
    const registered = await step('dynamic client registration (RFC 7591)', async () =>
        oauth.processDynamicClientRegistrationResponse(await oauth.dynamicClientRegistrationRequest(as, {
            redirect_uris: [redirect], token_endpoint_auth_method: 'none',
            grant_types: ['authorization_code', 'refresh_token'], client_name: 'oauth4webapi test',
        }, insecure)));
    if (!registered) return;
    const client = { client_id: registered.client_id, token_endpoint_auth_method: 'none' };
    const verifier = oauth.generateRandomCodeVerifier();
    const state = oauth.generateRandomState();
    const url = new URL(as.authorization_endpoint);
    url.search = new URLSearchParams({
        response_type: 'code', client_id: client.client_id, redirect_uri: redirect, scope: 'read',
        state, code_challenge: await oauth.calculatePKCECodeChallenge(verifier), code_challenge_method: 'S256',
    });
    // the browser's part: the login form (with its anti-forgery cookie),
    // posted with the user's answer
    const pageRes = await fetch(url);
    const page = await pageRes.text();
    const cookie = (pageRes.headers.get('set-cookie') ?? '').split(';')[0];
    const form = new URLSearchParams();
    for (const m of page.matchAll(/<input type="hidden" name="([^"]+)" value="([^"]*)">/g)) form.set(m[1], m[2].replace(/&amp;/g, '&'));
    form.set('username', process.env.ADMIN_USER);
    form.set('password', process.env.ADMIN_PASSWORD);
    form.set('action', 'approve');
    const answer = await fetch(as.authorization_endpoint, { method: 'POST', body: form, redirect: 'manual', headers: { Cookie: cookie } });
    const callback = new URL(answer.headers.get('location') ?? 'http://invalid/');
    const params = await step('validateAuthResponse (state, iss of RFC 9207)', async () =>
        oauth.validateAuthResponse(as, client, callback, state));
    if (!params) return;
    const tokens = await step('authorization_code grant with the PKCE verifier', async () =>
        oauth.processAuthorizationCodeResponse(as, client,
            await oauth.authorizationCodeGrantRequest(as, client, oauth.None(), params, redirect, verifier, insecure)));
    ok(tokens?.access_token && tokens?.scope === 'read', 'the user\'s tokens with scope read', tokens);
}

main().then(() => process.exit(failures ? 1 : 0), (e) => {
    console.log(`not ok - oauth4webapi tests stopped: ${e.stack?.split('\n').slice(0, 3).join(' | ')}`);
    process.exit(1);
});
