/*
 * rest.h - the REST port's shared request path (rest.c): token checks and
 * the mapping of database failures to HTTP statuses.
 */
#ifndef VECDB_REST_H
#define VECDB_REST_H

#include <stdbool.h>

#include "authstate.h"
#include "http.h"
#include "pool.h"

/* check the bearer token; on failure the request has been answered (401) */
bool rest_authenticate(struct request *r, struct token_info *info);

/* answer a failed db_exec: 503 when unavailable, 403 for 42501, else 500 */
void rest_reply_db_error(struct request *r, const struct db_result *res);

#endif
