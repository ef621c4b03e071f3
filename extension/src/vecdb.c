/*-------------------------------------------------------------------------
 *
 * vecdb.c
 *	  Module entry point and the settings that belong to no single type.
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "fmgr.h"
#include "utils/builtins.h"
#include "utils/guc.h"

#include "hnsw.h"
#include "vector.h"

PG_MODULE_MAGIC;

/* PostgreSQL version shims live here and nowhere else */
#if PG_VERSION_NUM < 150000
#define MarkGUCPrefixReserved(x) EmitWarningsOnPlaceholders(x)
#endif

/* The distance kernels in use; set by the vecdb.kernel assign hook */
const DistanceKernels *vecdb_kernel = &vecdb_kernels_scalar;

typedef enum KernelChoice
{
	KERNEL_AUTO,
	KERNEL_AVX512,
	KERNEL_AVX2,
	KERNEL_SCALAR
} KernelChoice;

static const struct config_enum_entry kernel_options[] = {
	{"auto", KERNEL_AUTO, false},
	{"avx512", KERNEL_AVX512, false},
	{"avx2", KERNEL_AVX2, false},
	{"scalar", KERNEL_SCALAR, false},
	{NULL, 0, false}
};

static int	kernel_choice = KERNEL_AUTO;

/* The kernel table a choice means on this machine, NULL if it cannot run */
static const DistanceKernels *
kernel_for_choice(int choice)
{
	switch (choice)
	{
		case KERNEL_AVX512:
			return vecdb_kernel_lookup("avx512");
		case KERNEL_AVX2:
			return vecdb_kernel_lookup("avx2");
		case KERNEL_SCALAR:
			return &vecdb_kernels_scalar;
		default:
			return vecdb_kernel_best();
	}
}

static bool
check_kernel(int *newval, void **extra, GucSource source)
{
	if (kernel_for_choice(*newval) == NULL)
	{
		GUC_check_errdetail("This CPU cannot run the %s distance kernels.",
							kernel_options[*newval].name);
		return false;
	}
	return true;
}

static void
assign_kernel(int newval, void *extra)
{
	vecdb_kernel = kernel_for_choice(newval);
}

void		_PG_init(void);

void
_PG_init(void)
{
	DefineCustomEnumVariable("vecdb.kernel",
							 "Selects the SIMD distance kernels.",
							 "auto picks the widest the CPU supports; the others pin a variant.",
							 &kernel_choice,
							 KERNEL_AUTO,
							 kernel_options,
							 PGC_USERSET,
							 0,
							 check_kernel,
							 assign_kernel,
							 NULL);
	MarkGUCPrefixReserved("vecdb");
	HnswInit();
}

/* The name of the distance kernels in use: what vecdb.kernel = auto chose */
PG_FUNCTION_INFO_V1(vecdb_active_kernel);
Datum
vecdb_active_kernel(PG_FUNCTION_ARGS)
{
	PG_RETURN_TEXT_P(cstring_to_text(vecdb_kernel->name));
}
