/* tdxsim Linux shim: <linux/acpi.h> is served by the shim's compat header. */
#ifndef KSHIM_LINUX_ACPI_H
#define KSHIM_LINUX_ACPI_H
#include "shim/kcompat.h"
#endif
