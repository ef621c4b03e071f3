/*-------------------------------------------------------------------------
 *
 * bitvec.c
 *	  Hamming and Jaccard distances on PostgreSQL's bit type.
 *
 * binary_quantize (vector.c, halfvec.c) turns a vector into bit(n); these
 * distances compare such codes.  Bits past the declared length are zero in
 * a varbit, so whole bytes can be counted.
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "utils/varbit.h"

#include "vector.h"

/* b, once checked to have a's length */
static inline VarBit *
same_length(VarBit *a, VarBit *b)
{
	if (VARBITLEN(a) != VARBITLEN(b))
		ereport(ERROR,
				(errcode(ERRCODE_DATA_EXCEPTION),
				 errmsg("different bit lengths %u and %u", VARBITLEN(a), VARBITLEN(b))));
	return b;
}

PG_FUNCTION_INFO_V1(hamming_distance);
Datum
hamming_distance(PG_FUNCTION_ARGS)
{
	VarBit	   *a = PG_GETARG_VARBIT_P(0);
	VarBit	   *b = same_length(a, PG_GETARG_VARBIT_P(1));

	PG_RETURN_FLOAT8((double) vecdb_kernel->hamming(VARBITS(a), VARBITS(b), VARBITBYTES(a)));
}

/* 1 - |a & b| / |a | b|; two empty sets are identical, distance 0 */
PG_FUNCTION_INFO_V1(jaccard_distance);
Datum
jaccard_distance(PG_FUNCTION_ARGS)
{
	VarBit	   *a = PG_GETARG_VARBIT_P(0);
	VarBit	   *b = same_length(a, PG_GETARG_VARBIT_P(1));
	uint64		and_count;
	uint64		or_count;

	vecdb_kernel->and_or_count(VARBITS(a), VARBITS(b), VARBITBYTES(a), &and_count, &or_count);
	if (or_count == 0)
		PG_RETURN_FLOAT8(0.0);
	PG_RETURN_FLOAT8(1.0 - (double) and_count / (double) or_count);
}
