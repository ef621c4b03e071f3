// Helpers of the gateway's node tests: TAP output, HTTP calls, JWTs.
// The tests print "ok - ..." / "not ok - ..." lines; test_gateway.sh numbers
// them into one TAP stream.
import crypto from 'node:crypto';
import nodeHttp from 'node:http';
import { execFileSync } from 'node:child_process';

export let failures = 0;

export function ok(cond, desc, diag) {
    console.log(`${cond ? 'ok' : 'not ok'} - ${desc}`);
    if (!cond) {
        failures++;
        if (diag !== undefined) {
            const text = typeof diag === 'string' ? diag : JSON.stringify(diag);
            for (const line of text.slice(0, 1500).split('\n')) console.log(`#   ${line}`);
        }
    }
    return cond;
}

export function eq(got, want, desc) {
    return ok(got === want, desc, { got, want });
}

// a request; returns {status, headers, text, json}.  `from`: the local
// address to connect from (127.0.0.2, ...: another client address on the
// loopback network, for the per-address limits); redirects are never followed
export async function http(url, { method = 'GET', headers = {}, body, redirect = 'manual', from } = {}) {
    if (from) return httpFrom(from, url, { method, headers, body });
    const res = await fetch(url, { method, headers, body, redirect });
    const text = await res.text();
    let json;
    try { json = JSON.parse(text); } catch { json = undefined; }
    return { status: res.status, headers: res.headers, text, json };
}

function httpFrom(localAddress, url, { method, headers, body }) {
    const u = new URL(url);
    const h = { ...headers };
    if (body !== undefined) h['Content-Length'] = Buffer.byteLength(body);
    return new Promise((resolve, reject) => {
        const req = nodeHttp.request({
            host: u.hostname, port: u.port, path: u.pathname + u.search, method, headers: h, localAddress,
        }, (res) => {
            let text = '';
            res.setEncoding('utf8');
            res.on('data', (c) => { text += c; });
            res.on('end', () => {
                let json;
                try { json = JSON.parse(text); } catch { json = undefined; }
                const hs = new Headers();
                for (const [k, v] of Object.entries(res.headers)) hs.set(k, Array.isArray(v) ? v.join(', ') : v);
                resolve({ status: res.statusCode, headers: hs, text, json });
            });
        });
        req.on('error', reject);
        if (body !== undefined) req.write(body);
        req.end();
    });
}

// POST an application/x-www-form-urlencoded body, optionally with HTTP Basic
export function postForm(url, params, { basic, headers = {}, from } = {}) {
    const h = { 'Content-Type': 'application/x-www-form-urlencoded', ...headers };
    if (basic) {
        const enc = (s) => encodeURIComponent(s);
        h.Authorization = 'Basic ' + Buffer.from(`${enc(basic[0])}:${enc(basic[1])}`).toString('base64');
    }
    const body = typeof params === 'string' ? params : new URLSearchParams(params).toString();
    return http(url, { method: 'POST', headers: h, body, from });
}

// the hidden fields of a page's form, decoded
export function formFields(html) {
    const fields = {};
    for (const m of html.matchAll(/<input type="hidden" name="([^"]+)" value="([^"]*)">/g)) {
        fields[m[1]] = m[2].replace(/&quot;/g, '"').replace(/&lt;/g, '<').replace(/&gt;/g, '>')
            .replace(/&#39;/g, "'").replace(/&amp;/g, '&');
    }
    return fields;
}

// "name=value" of a response's Set-Cookie (what a browser sends back), or ''
export function cookieOf(res) {
    return (res.headers.get('set-cookie') ?? '').split(';')[0];
}

export function postJson(url, obj, headers = {}) {
    return http(url, {
        method: 'POST',
        headers: { 'Content-Type': 'application/json', ...headers },
        body: typeof obj === 'string' ? obj : JSON.stringify(obj),
    });
}

export const b64url = (buf) => Buffer.from(buf).toString('base64url');

export function decodeJwt(token) {
    const [h, p, s] = token.split('.');
    return {
        header: JSON.parse(Buffer.from(h, 'base64url').toString()),
        claims: JSON.parse(Buffer.from(p, 'base64url').toString()),
        signingInput: `${h}.${p}`,
        signature: Buffer.from(s, 'base64url'),
    };
}

// an ES256 JWS of header and claims with a private key (PEM or KeyObject)
export function signJwt(header, claims, key) {
    const input = `${b64url(JSON.stringify(header))}.${b64url(JSON.stringify(claims))}`;
    const sig = crypto.sign('sha256', Buffer.from(input), { key, dsaEncoding: 'ieee-p1363' });
    return `${input}.${b64url(sig)}`;
}

export function verifyJwt(token, jwk) {
    const { signingInput, signature } = decodeJwt(token);
    const key = crypto.createPublicKey({ key: jwk, format: 'jwk' });
    return crypto.verify('sha256', Buffer.from(signingInput), { key, dsaEncoding: 'ieee-p1363' }, signature);
}

// PKCE: a verifier and its S256 challenge
export function pkce() {
    const verifier = b64url(crypto.randomBytes(32));
    const challenge = b64url(crypto.createHash('sha256').update(verifier).digest());
    return { verifier, challenge };
}

// SQL in the test database (psql from the throwaway cluster)
export function sql(query) {
    return execFileSync(process.env.PSQL_BIN, ['-X', '-qAt', '-v', 'ON_ERROR_STOP=1', '-d', process.env.TEST_DB, '-c', query],
        { encoding: 'utf8' }).trim();
}

// every value of a JSON document, to find nulls
export function hasNull(v) {
    if (v === null) return true;
    if (Array.isArray(v)) return v.some(hasNull);
    if (typeof v === 'object') return Object.values(v).some(hasNull);
    return false;
}

// secrets and tokens the tests saw, for the harness to look for in the logs
export const seen = [];
export function remember(...values) {
    for (const v of values) if (typeof v === 'string' && v.length >= 16) seen.push(v);
}

export const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
