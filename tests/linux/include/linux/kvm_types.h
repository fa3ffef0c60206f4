/* tdxsim Linux shim: <linux/kvm_types.h> is served by the shim's compat header. */
#ifndef KSHIM_LINUX_KVM_TYPES_H
#define KSHIM_LINUX_KVM_TYPES_H
#include "shim/kcompat.h"
#endif
