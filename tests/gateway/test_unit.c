/*
 * test_unit.c - unit tests of the gateway's pure parts, linked with the
 * gateway's own objects (gateway/Makefile: make test_unit).  Prints TAP.
 *
 * Covered: the settings table and its sources (precedence, every kind of bad
 * value, the file syntax), form and Basic parsing helpers, Base64url, secret
 * hashing, JWT signing and every reason authstate_verify refuses a token
 * (revoked families too), scopes, the login form's anti-forgery token, and
 * the rate limiter (failures and registration quotas).  Everything that talks to PostgreSQL
 * or sockets is tested black-box by test_gateway.sh.
 */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <json-c/json.h>
#include <libpq-fe.h>

#include "authstate.h"
#include "config.h"
#include "csrf.h"
#include "http.h"
#include "jwt.h"
#include "log.h"
#include "ratelimit.h"
#include "secret.h"

static int tests_run, tests_failed;

static void ok(int cond, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

static void ok(int cond, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    printf("%sok %d - ", cond ? "" : "not ", ++tests_run);
    vprintf(fmt, ap);
    printf("\n");
    va_end(ap);
    if (!cond)
        tests_failed++;
}

/* string equality that a NULL (a failed load) makes false instead of a crash */
static bool streq(const char *a, const char *b)
{
    return a && b && strcmp(a, b) == 0;
}

static void diag(const char *s)
{
    printf("#   %s\n", s);
}

/* ------------------------------------------------------------- config */

static const char *const env_names[] = {
    "VECDB_CONFIG",         "VECDB_DB",        "VECDB_REST_PORT",
    "VECDB_POOL_SIZE",      "VECDB_LOG_LEVEL", "VECDB_WORKERS",
    "VECDB_TOKEN_LIFETIME", "VECDB_BIND",      NULL};

static void clear_env(void)
{
    for (int i = 0; env_names[i]; i++)
        unsetenv(env_names[i]);
}

static char tmpdir[256];

static const char *write_file(const char *name, const char *text)
{
    static char path[512];
    snprintf(path, sizeof(path), "%s/%s", tmpdir, name);
    FILE *f = fopen(path, "w");
    fputs(text, f);
    fclose(f);
    return path;
}

/* load with argv; returns success, err filled */
static bool load(struct config *cfg, char *err, size_t n, int argc, ...)
{
    char *argv[32];
    va_list ap;
    va_start(ap, argc);
    for (int i = 0; i < argc; i++)
        argv[i] = va_arg(ap, char *);
    va_end(ap);
    err[0] = '\0';
    return config_load(cfg, argc, argv, err, n);
}

static const char *describe(const struct config *cfg, const char *name, enum config_source *src)
{
    static char buf[512];
    return config_describe(cfg, name, buf, sizeof(buf), src);
}

static void test_config(void)
{
    struct config c;
    char err[1024];
    enum config_source src;
    clear_env();

    ok(load(&c, err, sizeof(err), 0), "config: defaults load");
    ok(c.db == NULL && streq(c.data_dir, "./vecdb-data") && streq(c.bind, "127.0.0.1"),
       "config: default db (embedded), data_dir, bind");
    ok(c.mcp_port == 8080 && c.oauth_port == 8081 && c.rest_port == 8082,
       "config: default ports 8080/8081/8082");
    ok(c.token_lifetime == 3600 && c.refresh_token_lifetime == 30 * 86400,
       "config: default token lifetimes 1h and 30d");
    ok(streq(c.public_url, "http://127.0.0.1:8082") && streq(c.issuer_url, "http://127.0.0.1:8081"),
       "config: public_url and issuer_url derive from bind and ports");
    describe(&c, "public_url", &src);
    ok(src == SRC_DERIVED, "config: a derived value says so");
    ok(c.workers >= 1, "config: workers 0 becomes the CPU count (%d)", c.workers);
    config_free(&c);

    /* precedence: flag > env > file > default */
    const char *file = write_file("prec.conf", "# comment\n"
                                               "; another comment\n"
                                               "pool_size = 3\n"
                                               "rest_port = 9001\n"
                                               "log_level = 'debug'\n"
                                               "token_lifetime = 15m   # inline comment\n"
                                               "db = \"host=/tmp dbname=x # not a comment\"\n");
    setenv("VECDB_POOL_SIZE", "5", 1);
    setenv("VECDB_REST_PORT", "9002", 1);
    ok(load(&c, err, sizeof(err), 5, "--config", (char *)file, "--rest-port=9003", "--workers",
            "2"),
       "config: file, environment and flags load together");
    ok(c.rest_port == 9003, "config: a flag beats the environment and the file (rest_port %d)",
       c.rest_port);
    ok(c.pool_size == 5, "config: the environment beats the file (pool_size %d)", c.pool_size);
    ok(c.log_level == LOG_DEBUG, "config: the file beats the default (log_level, quoted)");
    ok(c.token_lifetime == 900, "config: 15m is 900 seconds, inline comment ignored");
    ok(c.db && streq(c.db, "host=/tmp dbname=x # not a comment"),
       "config: a quoted value keeps its #");
    describe(&c, "rest_port", &src);
    ok(src == SRC_FLAG, "config: rest_port's source is the flag");
    describe(&c, "pool_size", &src);
    ok(src == SRC_ENV, "config: pool_size's source is the environment");
    describe(&c, "log_level", &src);
    ok(src == SRC_FILE, "config: log_level's source is the file");
    ok(streq(describe(&c, "db", &src), "(set, not shown)"), "config: db is never shown");
    ok(streq(c.public_url, "http://127.0.0.1:9003"),
       "config: public_url follows the effective rest_port");
    config_free(&c);
    clear_env();

    setenv("VECDB_CONFIG", file, 1);
    ok(load(&c, err, sizeof(err), 0) && c.pool_size == 3, "config: VECDB_CONFIG names the file");
    config_free(&c);
    clear_env();

    ok(load(&c, err, sizeof(err), 2, "--data_dir", "/x") && streq(c.data_dir, "/x"),
       "config: --data_dir is --data-dir");
    config_free(&c);

    ok(load(&c, err, sizeof(err), 2, "--public-url", "https://db.example.com/base/") &&
           streq(c.public_url, "https://db.example.com/base"),
       "config: a URL loses its trailing slash");
    config_free(&c);

    ok(load(&c, err, sizeof(err), 4, "--max-body-size", "64kB", "--queue-timeout", "2s") &&
           c.max_body_size == 65536 && c.queue_timeout == 2000,
       "config: sizes and millisecond durations take units");
    config_free(&c);

    ok(load(&c, err, sizeof(err), 2, "--db", "") && c.db == NULL,
       "config: an empty value unsets a setting that may be unset");
    config_free(&c);

    /* every kind of bad input stops with a message naming setting and source */
    struct {
        const char *desc;
        int argc;
        const char *argv[4];
        const char *env_name, *env_value;
        const char *want;
    } bad[] = {
        {"unknown flag", 1, {"--bogus=1"}, NULL, NULL, "unknown option '--bogus'"},
        {"flag without value", 1, {"--rest-port"}, NULL, NULL, "needs a value"},
        {"not a number",
         2,
         {"--rest-port", "abc"},
         NULL,
         NULL,
         "invalid setting rest_port (--rest-port): 'abc' is not a whole number"},
        {"port out of range",
         2,
         {"--oauth-port", "70000"},
         NULL,
         NULL,
         "out of range (0 to 65535)"},
        {"negative", 2, {"--pool-size", "-1"}, NULL, NULL, "not a whole number"},
        {"zero pool", 2, {"--pool-size", "0"}, NULL, NULL, "out of range (1 to 1000)"},
        {"bad duration", 2, {"--token-lifetime", "1y"}, NULL, NULL, "is not a duration"},
        {"duration too short", 2, {"--token-lifetime", "5s"}, NULL, NULL, "out of range"},
        {"bad enum", 2, {"--log-format", "xml"}, NULL, NULL, "'xml' is not one of text, json"},
        {"bad url",
         2,
         {"--issuer-url", "ftp://x"},
         NULL,
         NULL,
         "must start with http:// or https://"},
        {"url with query",
         2,
         {"--public-url", "http://x/?a=b"},
         NULL,
         NULL,
         "must not have a query"},
        {"empty required", 2, {"--bind", ""}, NULL, NULL, "bind (--bind): must not be empty"},
        {"positional", 1, {"serve"}, NULL, NULL, "unexpected argument 'serve'"},
        {"bad env value",
         0,
         {NULL},
         "VECDB_WORKERS",
         "many",
         "invalid setting workers (VECDB_WORKERS)"},
        {"same ports",
         4,
         {"--rest-port", "9000", "--oauth-port", "9000"},
         NULL,
         NULL,
         "oauth_port and rest_port are both 9000"},
    };
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        clear_env();
        if (bad[i].env_name)
            setenv(bad[i].env_name, bad[i].env_value, 1);
        char *argv[4];
        for (int k = 0; k < bad[i].argc; k++)
            argv[k] = (char *)bad[i].argv[k];
        err[0] = '\0';
        bool loaded = config_load(&c, bad[i].argc, argv, err, sizeof(err));
        if (loaded)
            config_free(&c);
        else
            config_free(&c);
        ok(!loaded && strstr(err, bad[i].want) != NULL, "config: %s is refused: %s", bad[i].desc,
           err);
        if (loaded || !strstr(err, bad[i].want))
            diag(bad[i].want);
    }
    clear_env();

    struct {
        const char *desc, *text, *want;
    } badfiles[] = {
        {"unknown key", "pool_size = 2\nbogus = 1\n", "line 2: unknown setting 'bogus'"},
        {"no equals sign", "pool_size 2\n", "line 1: expected 'name = value'"},
        {"unterminated quote", "db = 'host=x\n", "unterminated quote"},
        {"bad value", "\n\nworkers = lots\n", "invalid setting workers"},
        {"config inside config", "config = /etc/x\n", "unknown setting 'config'"},
    };
    for (size_t i = 0; i < sizeof(badfiles) / sizeof(badfiles[0]); i++) {
        const char *path = write_file("bad.conf", badfiles[i].text);
        bool loaded = load(&c, err, sizeof(err), 2, "--config", (char *)path);
        config_free(&c);
        ok(!loaded && strstr(err, badfiles[i].want) != NULL, "config file: %s is refused: %s",
           badfiles[i].desc, err);
    }
    bool loaded = load(&c, err, sizeof(err), 2, "--config", "/nonexistent/vecdb.conf");
    config_free(&c);
    ok(!loaded && strstr(err, "cannot read config file /nonexistent/vecdb.conf"),
       "config file: a missing file is refused: %s", err);

    /* reload copies reloadable settings only */
    struct config cur, next;
    load(&cur, err, sizeof(err), 2, "--token-lifetime", "1h");
    load(&next, err, sizeof(err), 4, "--token-lifetime", "2h", "--rest-port", "9999");
    config_apply_reload(&cur, &next);
    ok(cur.token_lifetime == 7200 && cur.rest_port == 8082,
       "config: reload changes token_lifetime, not rest_port (restart needed)");
    config_free(&cur);
    config_free(&next);
}

/* -------------------------------------------------------------- forms */

static void test_forms(void)
{
    struct form f;
    const char *dup;
    ok(form_parse("grant_type=client_credentials&scope=read write&x=a%2Bb+c", &f, &dup) &&
           streq(form_get(&f, "scope"), "read write") && streq(form_get(&f, "x"), "a+b c"),
       "form: literal space, %%2B and + decode");
    ok(form_get(&f, "missing") == NULL, "form: an absent parameter is NULL");
    form_free(&f);
    ok(form_parse("a=&b=1", &f, &dup) && form_get(&f, "a") == NULL,
       "form: an empty value counts as absent (RFC 6749 3.1)");
    form_free(&f);
    ok(!form_parse("scope=read&scope=write", &f, &dup) && dup && strcmp(dup, "scope") == 0,
       "form: a repeated parameter is refused and named");
    ok(!form_parse("a=%zz", &f, &dup), "form: a bad escape is refused");
    ok(!form_parse("a=%", &f, &dup), "form: a truncated escape is refused");
    ok(!form_parse("a=b%00c", &f, &dup), "form: an encoded NUL is refused");
    char *e = url_encode("a b&c=d/é");
    ok(streq(e, "a%20b%26c%3Dd%2F%C3%A9"), "url_encode escapes reserved bytes: %s", e);
    free(e);
}

/* --------------------------------------------------- base64url, secrets */

static void test_secrets(void)
{
    unsigned char data[256], back[256];
    for (int i = 0; i < 256; i++)
        data[i] = (unsigned char)(i * 37 + 11);
    bool all = true;
    for (size_t n = 0; n <= 70; n++) {
        char *s = b64url_encode(data, n);
        long m = b64url_decode(s, strlen(s), back, sizeof(back));
        all = all && m == (long)n && memcmp(back, data, n) == 0 && !strpbrk(s, "+/=");
        free(s);
    }
    ok(all, "base64url: round trip of 0..70 bytes, no + / =");
    ok(b64url_decode("ab+c", 4, back, sizeof(back)) < 0, "base64url: '+' is refused");
    ok(b64url_decode("abcde", 5, back, sizeof(back)) < 0, "base64url: impossible length refused");
    ok(b64url_decode("QR", 2, back, sizeof(back)) < 0, "base64url: stray bits refused");

    char *a = secret_random(32), *b = secret_random(32);
    ok(strlen(a) == 43 && strcmp(a, b) != 0, "secret_random: 32 bytes are 43 characters, distinct");

    char *fast = secret_hash("s3cret", false);
    char *fast2 = secret_hash("s3cret", false);
    ok(strncmp(fast, "sha256$", 7) == 0 && strcmp(fast, fast2) != 0,
       "secret_hash: salted (two hashes of one secret differ)");
    ok(secret_verify("s3cret", fast) && !secret_verify("s3cret ", fast) && !secret_verify("", fast),
       "secret_verify: sha256 hash accepts only the secret");
    char *slow = secret_hash("admin_secret_2024", true);
    ok(secret_is_slow(slow) && strncmp(slow, "pbkdf2-sha256$200000$", 21) == 0,
       "secret_hash: slow hashes are PBKDF2 with 200000 iterations");
    ok(secret_verify("admin_secret_2024", slow) && !secret_verify("admin_secret_2023", slow),
       "secret_verify: PBKDF2 hash accepts only the secret");
    char tampered[256];
    snprintf(tampered, sizeof(tampered), "%s", fast);
    tampered[strlen(tampered) - 2] ^= 1;
    ok(!secret_verify("s3cret", tampered), "secret_verify: a changed hash fails");
    ok(!secret_verify("s3cret", "plain") && !secret_verify("s3cret", "sha256$$") &&
           !secret_verify("s3cret", "pbkdf2-sha256$0$aa$bb") && !secret_verify("s3cret", NULL),
       "secret_verify: malformed stored values fail");
    ok(const_time_streq("abc", "abc") && !const_time_streq("abc", "abd") &&
           !const_time_streq("abc", "abcd"),
       "const_time_streq");
    char hex[65];
    sha256_hex("abc", hex);
    ok(streq(hex, "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"),
       "sha256_hex of 'abc'");
    free(a);
    free(b);
    free(fast);
    free(fast2);
    free(slow);
}

/* --------------------------------------------------------------- JWTs */

#define ISS "http://127.0.0.1:8081"
#define AUD "http://127.0.0.1:8082"

/* a one-row result (kid, private_key, retired) as the key query returns */
static PGresult *key_rows(const char *kid, const char *pem, const char *kid2, const char *pem2)
{
    PGresult *r = PQmakeEmptyPGresult(NULL, PGRES_TUPLES_OK);
    PGresAttDesc cols[3] = {{.name = "kid", .format = 0, .typid = 25},
                            {.name = "private_key", .format = 0, .typid = 25},
                            {.name = "retired", .format = 0, .typid = 16}};
    PQsetResultAttrs(r, 3, cols);
    PQsetvalue(r, 0, 0, (char *)kid, (int)strlen(kid));
    PQsetvalue(r, 0, 1, (char *)pem, (int)strlen(pem));
    PQsetvalue(r, 0, 2, "f", 1);
    if (kid2) {
        PQsetvalue(r, 1, 0, (char *)kid2, (int)strlen(kid2));
        PQsetvalue(r, 1, 1, (char *)pem2, (int)strlen(pem2));
        PQsetvalue(r, 1, 2, "t", 1);
    }
    return r;
}

static json_object *claims(long iat, long exp, const char *iss, const char *aud, const char *jti)
{
    json_object *c = json_object_new_object();
    json_object_object_add(c, "iss", json_object_new_string(iss));
    json_object_object_add(c, "sub", json_object_new_string("alice"));
    json_object_object_add(c, "aud", json_object_new_string(aud));
    json_object_object_add(c, "client_id", json_object_new_string("app"));
    json_object_object_add(c, "scope", json_object_new_string("read write"));
    json_object_object_add(c, "iat", json_object_new_int64(iat));
    json_object_object_add(c, "exp", json_object_new_int64(exp));
    json_object_object_add(c, "jti", json_object_new_string(jti));
    return c;
}

static char *b64_text(const char *s)
{
    return b64url_encode((const unsigned char *)s, strlen(s));
}

/* header.payload.signature from raw JSON texts, with the signature of real */
static char *assemble(const char *header, const char *payload, const char *sig_from)
{
    char *h = b64_text(header), *p = b64_text(payload);
    const char *sig = strrchr(sig_from, '.') + 1;
    char *out = malloc(strlen(h) + strlen(p) + strlen(sig) + 3);
    sprintf(out, "%s.%s.%s", h, p, sig);
    free(h);
    free(p);
    return out;
}

static void expect_refused(struct authstate *st, const char *token, const char *want,
                           const char *desc)
{
    struct token_info info;
    const char *why = "";
    bool accepted = authstate_verify(st, token, &info, &why);
    ok(!accepted && strstr(why, want) != NULL, "token refused: %s (%s)", desc, why);
}

static void test_jwt(void)
{
    EVP_PKEY *k = jwt_generate_key(), *old = jwt_generate_key(), *other = jwt_generate_key();
    char *pem = jwt_private_pem(k), *oldpem = jwt_private_pem(old);
    char *kid = jwt_thumbprint(k), *oldkid = jwt_thumbprint(old);
    ok(pem && strstr(pem, "BEGIN PRIVATE KEY") && kid && strlen(kid) == 43,
       "keys: PEM and a 43-character RFC 7638 thumbprint as kid");
    EVP_PKEY *back = jwt_key_from_pem(pem);
    char *kid_back = jwt_thumbprint(back);
    ok(strcmp(kid, kid_back) == 0, "keys: PEM round trip keeps the key");

    struct authstate *st = authstate_new(ISS, AUD);
    PGresult *rows = key_rows(kid, pem, oldkid, oldpem);
    ok(authstate_load_keys(st, rows), "authstate: keys load, one signs");
    PQclear(rows);

    long now = time(NULL);
    json_object *c = claims(now, now + 600, ISS, AUD, "jti-1");
    char *token = authstate_sign(st, c);
    struct token_info info;
    const char *why = NULL;
    ok(token && authstate_verify(st, token, &info, &why), "a signed token verifies");
    ok(streq(info.sub, "alice") && streq(info.client_id, "app") &&
           info.scopes == (SCOPE_READ | SCOPE_WRITE) && info.exp == now + 600,
       "its claims are read back");
    struct jwt_parts parts;
    jwt_split(token, &parts, &why);
    ok(streq(jwt_claim_str(parts.header, "typ"), "at+jwt") &&
           streq(jwt_claim_str(parts.header, "alg"), "ES256") &&
           streq(jwt_claim_str(parts.header, "kid"), kid),
       "header: typ at+jwt, alg ES256, kid of the signing key");
    jwt_parts_free(&parts);

    /* a token of the retired key still verifies */
    char *old_token = jwt_sign(old, oldkid, c);
    ok(authstate_verify(st, old_token, &info, &why), "a token signed by a retired key verifies");

    json_object *jwks = authstate_jwks(st);
    json_object *keys = json_object_object_get(jwks, "keys");
    ok(json_object_array_length(keys) == 2 &&
           streq(json_object_get_string(
                     json_object_object_get(json_object_array_get_idx(keys, 0), "kty")),
                 "EC") &&
           !json_object_object_get(json_object_array_get_idx(keys, 0), "d"),
       "JWKS: both public keys, no private part");
    json_object_put(jwks);

    /* forged and bad tokens */
    char payload[512];
    snprintf(payload, sizeof(payload),
             "{\"iss\":\"%s\",\"sub\":\"alice\",\"aud\":\"%s\",\"client_id\":\"app\","
             "\"scope\":\"read write admin\",\"iat\":%ld,\"exp\":%ld,\"jti\":\"x\"}",
             ISS, AUD, now, now + 600);
    char header[256];
    snprintf(header, sizeof(header), "{\"alg\":\"ES256\",\"typ\":\"at+jwt\",\"kid\":\"%s\"}", kid);
    char *forged = assemble(header, payload, token);
    expect_refused(st, forged, "signature is not valid", "changed claims (scope escalation)");
    free(forged);

    char *none = assemble("{\"alg\":\"none\",\"typ\":\"at+jwt\"}", payload, "x.y.");
    expect_refused(st, none, "algorithm is not ES256", "alg none with no signature");
    free(none);
    snprintf(header, sizeof(header), "{\"alg\":\"HS256\",\"typ\":\"at+jwt\",\"kid\":\"%s\"}", kid);
    char *hs = assemble(header, payload, token);
    expect_refused(st, hs, "algorithm is not ES256", "alg HS256");
    free(hs);
    snprintf(header, sizeof(header), "{\"alg\":\"ES256\",\"typ\":\"JWT\",\"kid\":\"%s\"}", kid);
    char *typ = assemble(header, payload, token);
    expect_refused(st, typ, "not an access token", "typ JWT (an ID token, say)");
    free(typ);

    char *otherkid = jwt_thumbprint(other);
    char *by_other = jwt_sign(other, otherkid, c);
    expect_refused(st, by_other, "not signed by a key of this server", "signed by an unknown key");
    char *by_other_our_kid = jwt_sign(other, kid, c);
    expect_refused(st, by_other_our_kid, "signature is not valid", "another key under our kid");
    json_object_put(c);

    struct {
        long iat, exp;
        const char *iss, *aud, *want, *desc;
    } cases[] = {
        {now - 700, now - 100, ISS, AUD, "expired", "expired"},
        {now + 600, now + 1200, ISS, AUD, "issued in the future", "iat in the future"},
        {now, now + 600, "http://evil.example", AUD, "issued by another server", "foreign issuer"},
        {now, now + 600, ISS, "http://127.0.0.1:9999", "another audience", "wrong audience"},
        {now, now + 600, ISS, AUD "x", "another audience", "audience that only starts alike"},
    };
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        json_object *cc = claims(cases[i].iat, cases[i].exp, cases[i].iss, cases[i].aud, "j");
        char *t = authstate_sign(st, cc);
        expect_refused(st, t, cases[i].want, cases[i].desc);
        free(t);
        json_object_put(cc);
    }
    json_object *sub = claims(now, now + 600, ISS, AUD "/mcp", "j2");
    char *t = authstate_sign(st, sub);
    ok(authstate_verify(st, t, &info, &why), "an audience under the public URL (/mcp) verifies");
    free(t);
    json_object_put(sub);
    ok(authstate_resource_ok(st, AUD) && authstate_resource_ok(st, AUD "/mcp") &&
           !authstate_resource_ok(st, "http://other") && !authstate_resource_ok(st, AUD "#f"),
       "resource indicators: the public URL and paths under it only");

    json_object *nojti = claims(now, now + 600, ISS, AUD, "j");
    json_object_object_del(nojti, "jti");
    t = authstate_sign(st, nojti);
    expect_refused(st, t, "lacks a required claim", "no jti");
    free(t);
    json_object_put(nojti);

    json_object *badscope = claims(now, now + 600, ISS, AUD, "j3");
    json_object_object_add(badscope, "scope", json_object_new_string("read root"));
    t = authstate_sign(st, badscope);
    expect_refused(st, t, "unknown scope", "unknown scope");
    free(t);
    json_object_put(badscope);

    char payload_rev[64];
    snprintf(payload_rev, sizeof(payload_rev), "jti-1 %ld", now + 600);
    authstate_add_revocation(st, payload_rev);
    expect_refused(st, token, "revoked", "revoked (jti in the set)");
    ok(authstate_verify_any_audience(st, token, &info, &why) == false,
       "a revoked token is refused for any audience too");

    /* a revoked refresh-token family revokes the access tokens that name it */
    json_object *fam = claims(now, now + 600, ISS, AUD, "jti-fam-1");
    json_object_object_add(fam, "sid", json_object_new_string("fam1"));
    char *fam_token = authstate_sign(st, fam);
    json_object_object_add(fam, "jti", json_object_new_string("jti-fam-2"));
    json_object_object_add(fam, "sid", json_object_new_string("fam2"));
    char *fam2_token = authstate_sign(st, fam);
    json_object_put(fam);
    ok(authstate_verify(st, fam_token, &info, &why) && streq(info.sid, "fam1"),
       "a token's sid (its refresh-token family) is read back");
    snprintf(payload_rev, sizeof(payload_rev), "family:fam1 %ld", now + 600);
    authstate_add_revocation(st, payload_rev);
    expect_refused(st, fam_token, "revoked", "its family revoked (family:ID in the set)");
    ok(authstate_verify(st, fam2_token, &info, &why), "a token of another family still verifies");
    snprintf(payload_rev, sizeof(payload_rev), "fam2 %ld", now + 600);
    authstate_add_revocation(st, payload_rev);
    ok(authstate_verify(st, fam2_token, &info, &why),
       "a revoked jti equal to a family id does not revoke the family");
    free(fam_token);
    free(fam2_token);

    expect_refused(st, "abc", "not a JWT", "not a JWT");
    expect_refused(st, "a.b.c.d", "not a JWT", "four parts");
    expect_refused(st, "e30.!!!.x", "not Base64url-encoded JSON", "claims not Base64url");
    char *arr = assemble("[1]", payload, token);
    expect_refused(st, arr, "not Base64url-encoded JSON objects", "header not an object");
    free(arr);

    free(token);
    free(old_token);
    free(by_other);
    free(by_other_our_kid);
    free(otherkid);
    free(pem);
    free(oldpem);
    free(kid);
    free(oldkid);
    free(kid_back);
    EVP_PKEY_free(k);
    EVP_PKEY_free(old);
    EVP_PKEY_free(other);
    EVP_PKEY_free(back);
    authstate_free(st);
}

/* ------------------------------------------------------------- scopes */

static void test_scopes(void)
{
    unsigned s;
    char bad[64];
    ok(scope_parse("read write", &s, bad, sizeof(bad)) && s == (SCOPE_READ | SCOPE_WRITE),
       "scope: 'read write'");
    ok(scope_parse("  admin  ", &s, bad, sizeof(bad)) && s == SCOPE_ADMIN, "scope: spaces");
    ok(!scope_parse("read delete", &s, bad, sizeof(bad)) && strcmp(bad, "delete") == 0,
       "scope: an unknown scope is refused and named");
    ok(!scope_parse("readwrite", &s, bad, sizeof(bad)), "scope: no prefix matches");
    ok(scope_expand(SCOPE_ADMIN) == SCOPE_ALL && scope_expand(SCOPE_WRITE) == SCOPE_WRITE,
       "scope: admin implies the others, write does not imply read");
    ok(streq(scope_role(SCOPE_ALL), "vecdb_admin") &&
           streq(scope_role(SCOPE_READ | SCOPE_WRITE), "vecdb_writer") &&
           streq(scope_role(SCOPE_READ), "vecdb_reader") && scope_role(0) == NULL,
       "scope: roles admin/writer/reader");
    ok(scope_from_array("{read,admin}") == (SCOPE_READ | SCOPE_ADMIN) &&
           scope_from_array("{readonly}") == 0,
       "scope: from a text[] literal");
    ok(streq(scope_format(SCOPE_ALL), "read write admin"), "scope: formatted in order");
}

/* ------------------------------------------- the login form's token */

static void test_csrf(void)
{
    char *n1 = csrf_new_nonce(), *n2 = csrf_new_nonce();
    ok(csrf_nonce_ok(n1) && strcmp(n1, n2) != 0,
       "csrf: nonces are 22 Base64url characters, distinct");
    ok(!csrf_nonce_ok("short") && !csrf_nonce_ok(NULL) && !csrf_nonce_ok("!!!!!!!!!!!!!!!!!!!!!!"),
       "csrf: malformed nonces are refused");
    char hdr[200];
    snprintf(hdr, sizeof(hdr), "a=b; " CSRF_COOKIE "=%s; c=d", n1);
    char *got = csrf_cookie_nonce(hdr);
    ok(streq(got, n1), "csrf: the nonce is found among other cookies");
    free(got);
    ok(csrf_cookie_nonce(NULL) == NULL && csrf_cookie_nonce("a=b") == NULL &&
           csrf_cookie_nonce(CSRF_COOKIE "=bad<value>") == NULL &&
           csrf_cookie_nonce("x" CSRF_COOKIE "=AAAAAAAAAAAAAAAAAAAAAA") == NULL,
       "csrf: no cookie, another cookie, a malformed value, a longer name: no nonce");

    unsigned char keys[2][CSRF_KEY_BYTES];
    memset(keys[0], 1, CSRF_KEY_BYTES);
    memset(keys[1], 2, CSRF_KEY_BYTES);
    static const char *const names[] = {"client_id", "scope", "state", NULL};
    const char *values[] = {"app", "read write", NULL, NULL};
    struct csrf_fields f = {names, values};
    long now = time(NULL);
    char *t = csrf_token(keys[0], n1, now, &f);
    const unsigned char(*k)[CSRF_KEY_BYTES] = (const unsigned char(*)[CSRF_KEY_BYTES])keys;
    ok(csrf_check(k, 1, n1, t, now, &f) == CSRF_OK, "csrf: the form's own token passes (%s)", t);
    ok(csrf_check(k, 1, n2, t, now, &f) == CSRF_INVALID,
       "csrf: with another browser's nonce: invalid");
    const char *changed[] = {"app", "read write admin", NULL, NULL};
    struct csrf_fields fc = {names, changed};
    ok(csrf_check(k, 1, n1, t, now, &fc) == CSRF_INVALID, "csrf: a changed parameter: invalid");
    const char *empty[] = {"app", "read write", "", NULL};
    struct csrf_fields fe = {names, empty};
    ok(csrf_check(k, 1, n1, t, now, &fe) == CSRF_INVALID,
       "csrf: an empty parameter differs from an absent one");
    ok(csrf_check(k, 1, n1, t, now + CSRF_LIFETIME, &f) == CSRF_OK &&
           csrf_check(k, 1, n1, t, now + CSRF_LIFETIME + 1, &f) == CSRF_EXPIRED,
       "csrf: valid for CSRF_LIFETIME (%d s), then expired", CSRF_LIFETIME);
    ok(csrf_check(k, 1, n1, t, now - 60, &f) == CSRF_OK &&
           csrf_check(k, 1, n1, t, now - 61, &f) == CSRF_EXPIRED,
       "csrf: a token from more than 60 s in the future is refused");
    ok(csrf_check(k + 1, 1, n1, t, now, &f) == CSRF_INVALID &&
           csrf_check(k, 2, n1, t, now, &f) == CSRF_OK,
       "csrf: another key refuses it; a key list that has the key accepts it (rotation)");
    char bad[200];
    snprintf(bad, sizeof(bad), "%s", t);
    bad[strlen(bad) - 1] = bad[strlen(bad) - 1] == 'A' ? 'B' : 'A';
    ok(csrf_check(k, 1, n1, bad, now, &f) == CSRF_INVALID, "csrf: a changed MAC: invalid");
    snprintf(bad, sizeof(bad), "%ld.%s", now + 5, strchr(t, '.') + 1);
    ok(csrf_check(k, 1, n1, bad, now, &f) == CSRF_INVALID, "csrf: a changed time: invalid");
    ok(csrf_check(k, 1, n1, "garbage", now, &f) == CSRF_INVALID &&
           csrf_check(k, 1, n1, "1.x", now, &f) == CSRF_INVALID,
       "csrf: malformed tokens: invalid");
    ok(csrf_check(k, 1, n1, NULL, now, &f) == CSRF_MISSING &&
           csrf_check(k, 1, n1, "", now, &f) == CSRF_MISSING &&
           csrf_check(k, 1, NULL, t, now, &f) == CSRF_MISSING,
       "csrf: no token or no cookie: missing");
    free(t);

    /* the keys come from the signing keys: equal in every gateway */
    EVP_PKEY *key = jwt_generate_key(), *old = jwt_generate_key();
    char *pem = jwt_private_pem(key), *oldpem = jwt_private_pem(old);
    char *kid = jwt_thumbprint(key), *oldkid = jwt_thumbprint(old);
    char trimmed[4096];
    snprintf(trimmed, sizeof(trimmed), "%s", pem);
    while (trimmed[strlen(trimmed) - 1] == '\n')
        trimmed[strlen(trimmed) - 1] = '\0';
    struct authstate *a = authstate_new(ISS, AUD), *b = authstate_new(ISS, AUD);
    unsigned char ka[AUTHSTATE_MAX_KEYS][CSRF_KEY_BYTES], kb[AUTHSTATE_MAX_KEYS][CSRF_KEY_BYTES];
    ok(authstate_form_keys(a, ka, AUTHSTATE_MAX_KEYS) == 0, "csrf: no signing key, no form key");
    PGresult *rows = key_rows(kid, pem, oldkid, oldpem);
    authstate_load_keys(a, rows);
    PQclear(rows);
    rows = key_rows(oldkid, oldpem, NULL, NULL);
    authstate_load_keys(b, rows);
    PQclear(rows);
    int na = authstate_form_keys(a, ka, AUTHSTATE_MAX_KEYS);
    ok(na == 2 && authstate_form_keys(b, kb, AUTHSTATE_MAX_KEYS) == 1 &&
           memcmp(ka[1], kb[0], CSRF_KEY_BYTES) == 0 && memcmp(ka[0], kb[0], CSRF_KEY_BYTES) != 0,
       "csrf: form keys derive from the signing keys (the signer's first, the same in two "
       "gateways)");
    rows = key_rows(kid, trimmed, NULL, NULL);
    authstate_load_keys(b, rows);
    PQclear(rows);
    authstate_form_keys(b, kb, AUTHSTATE_MAX_KEYS);
    ok(memcmp(ka[0], kb[0], CSRF_KEY_BYTES) == 0,
       "csrf: white space around the PEM does not change the form key");
    authstate_free(a);
    authstate_free(b);
    free(pem);
    free(oldpem);
    free(kid);
    free(oldkid);
    EVP_PKEY_free(key);
    EVP_PKEY_free(old);
    free(n1);
    free(n2);
}

static void test_ratelimit(void)
{
    int retry = 0;
    for (int i = 0; i < 3; i++)
        ratelimit_fail("client:unit", 60);
    ok(!ratelimit_blocked("client:unit", 4, 60, &retry), "rate limit: 3 failures of 4 allowed");
    ratelimit_fail("client:unit", 60);
    ok(ratelimit_blocked("client:unit", 4, 60, &retry) && retry > 0 && retry <= 60,
       "rate limit: the 4th failure blocks, Retry-After %d s", retry);
    ok(!ratelimit_blocked("client:other", 4, 60, &retry), "rate limit: other keys are not blocked");
    /* thousands of distinct keys never grow memory or crash */
    char key[64];
    for (int i = 0; i < 20000; i++) {
        snprintf(key, sizeof(key), "client:spray%d", i);
        ratelimit_fail(key, 60);
    }
    ok(true, "rate limit: 20000 distinct keys fit the bounded table");

    bool taken = true;
    for (int i = 0; i < 3; i++)
        taken = taken && ratelimit_take("register:10.0.0.1", 3, 3600, &retry);
    retry = 0;
    ok(taken && !ratelimit_take("register:10.0.0.1", 3, 3600, &retry) && retry > 60 &&
           retry <= 3600,
       "rate limit: 3 registrations of 3 are taken, the 4th is refused for the window's rest "
       "(%d s)",
       retry);
    ok(ratelimit_take("register:10.0.0.2", 3, 3600, &retry), "rate limit: quotas are per key");
}

int main(void)
{
    snprintf(tmpdir, sizeof(tmpdir), "/tmp/vecdb-unit.XXXXXX");
    if (!mkdtemp(tmpdir)) {
        perror("mkdtemp");
        return 1;
    }
    log_configure(LOG_ERROR, LOG_TEXT);
    test_config();
    test_forms();
    test_secrets();
    test_jwt();
    test_scopes();
    test_csrf();
    test_ratelimit();
    printf("1..%d\n", tests_run);
    char cmd[300];
    snprintf(cmd, sizeof(cmd), "rm -rf %s", tmpdir);
    if (system(cmd) != 0)
        return 1;
    return tests_failed ? 1 : 0;
}
