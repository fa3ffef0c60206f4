/* Checker mode (see tdxsim.h): placeholder until the checker lands. */
#include "sim/sim_int.h"

void sim_checker_page(tdxsim *s, uint64_t pa, uint64_t len, int protect)
{
	(void)s; (void)pa; (void)len; (void)protect;
}
