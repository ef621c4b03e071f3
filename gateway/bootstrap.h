/*
 * bootstrap.h - what `vecdb serve` does with the database before it serves
 * (blocking libpq, before any event loop runs): check or create the
 * extension, make sure a signing key, the admin client and the admin user
 * exist, and load the authentication state.
 */
#ifndef VECDB_BOOTSTRAP_H
#define VECDB_BOOTSTRAP_H

#include <stdbool.h>
#include <stddef.h>

#include "authstate.h"
#include "config.h"

/* wait up to timeout_s for the database to accept connections */
bool bootstrap_wait_for_db(const char *conninfo, int timeout_s, char *err, size_t errsize);

/* create_extension: embedded mode creates (or updates) the extension; with
 * --db it must be there already */
bool bootstrap_database(const struct config *cfg, const char *conninfo, bool create_extension,
                        struct authstate *st, char *err, size_t errsize);

/* start signing with a new key; the old ones keep verifying (vecdb keys rotate) */
bool bootstrap_rotate_key(const char *conninfo, char *kid_out, size_t kidsize, char *err,
                          size_t errsize);

#endif
