/*
 * xorshift.h - the deterministic generator of the C test and benchmark
 * programs: xorshift64*, the same sequence on every platform.
 */
#ifndef VECDB_XORSHIFT_H
#define VECDB_XORSHIFT_H

#include <stdint.h>

#define RNG_SEED 0x9e3779b97f4a7c15ULL

static uint64_t rng_state = RNG_SEED;

/* uniform in [0, 1) */
static inline double
rng_uniform(void)
{
	rng_state ^= rng_state >> 12;
	rng_state ^= rng_state << 25;
	rng_state ^= rng_state >> 27;
	return (double) ((rng_state * 0x2545f4914f6cdd1dULL) >> 11) / 9007199254740992.0;
}

#endif
