/*-------------------------------------------------------------------------
 *
 * vector.h
 *	  The vector (float4) and halfvec (float16) types, and what the two share.
 *
 * The in-memory and on-disk layout is pgvector's: a varlena header, an int16
 * dimension count, an unused int16 (always zero), then the elements.  The
 * binary send/recv format is the same, so pgvector's clients (which speak
 * binary COPY and binary parameters) work unchanged.
 *
 *-------------------------------------------------------------------------
 */
#ifndef VECDB_VECTOR_H
#define VECDB_VECTOR_H

#include "fmgr.h"
#include "utils/array.h"

#include "distance.h"

#define VECTOR_MAX_DIM 16000
#define HALFVEC_MAX_DIM 16000

typedef struct Vector
{
	int32		vl_len_;		/* varlena header (do not touch directly!) */
	int16		dim;			/* number of elements */
	int16		unused;			/* reserved for future use, always zero */
	float		x[FLEXIBLE_ARRAY_MEMBER];
} Vector;

typedef struct HalfVector
{
	int32		vl_len_;		/* varlena header (do not touch directly!) */
	int16		dim;			/* number of elements */
	int16		unused;			/* reserved for future use, always zero */
	vecdb_half	x[FLEXIBLE_ARRAY_MEMBER];
} HalfVector;

#define VECTOR_SIZE(_dim)		(offsetof(Vector, x) + sizeof(float) * (_dim))
#define HALFVEC_SIZE(_dim)		(offsetof(HalfVector, x) + sizeof(vecdb_half) * (_dim))

#define DatumGetVector(x)		((Vector *) PG_DETOAST_DATUM(x))
#define PG_GETARG_VECTOR_P(n)	DatumGetVector(PG_GETARG_DATUM(n))
#define PG_RETURN_VECTOR_P(x)	PG_RETURN_POINTER(x)
#define DatumGetHalfVector(x)	((HalfVector *) PG_DETOAST_DATUM(x))
#define PG_GETARG_HALFVEC_P(n)	DatumGetHalfVector(PG_GETARG_DATUM(n))
#define PG_RETURN_HALFVEC_P(x)	PG_RETURN_POINTER(x)

/* vecdb.c: the distance kernel table in use */
extern const DistanceKernels *vecdb_kernel;

/* vector.c: element handling shared by vector and halfvec */
extern float *vecdb_parse_elements(const char *lit, const char *typname,
								   int maxdim, int *dim);
extern char *vecdb_format_elements(const float *x, int dim);
extern float *vecdb_array_elements(ArrayType *array, const char *typname,
								   int maxdim, int *dim);
extern ArrayType *vecdb_float4_array(const float *x, int dim);
extern void vecdb_check_dims(int dim, int maxdim, const char *typname);
extern void vecdb_check_typmod(int32 typmod, int dim);
extern void vecdb_check_same_dims(int a, int b);
extern void vecdb_check_element(float value, const char *typname);
extern int32 vecdb_parse_typmod(ArrayType *ta, const char *typname, int maxdim);
extern void vecdb_subvector_range(int dim, int32 start, int32 count,
								  const char *typname, int *first, int *len);
extern double vecdb_cosine_from_sums(CosineSums s);
extern ArrayType *vecdb_accum(ArrayType *state, const float *x, int dim,
							  FunctionCallInfo fcinfo, const char *fname);
extern ArrayType *vecdb_combine(ArrayType *a, ArrayType *b,
								FunctionCallInfo fcinfo, const char *fname);
extern float *vecdb_state_result(ArrayType *state, const char *fname,
								 bool average, int *dim);
extern Datum vecdb_binary_quantize(const float *x, int dim);

/* vector.c */
extern Vector *InitVector(int dim);

/* halfvec.c */
extern HalfVector *InitHalfVector(int dim);

#endif							/* VECDB_VECTOR_H */
