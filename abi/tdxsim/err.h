/*
 * tdxsim API errors: misuse of the C API by the embedder. They are never TDX
 * status codes; those are data returned by the simulated module.
 */
#ifndef TDXSIM_ERR_H
#define TDXSIM_ERR_H

/* X(name, message) */
#define TDXSIM_ERR_MAP(X) \
	X(TDXSIM_OK,          "success") \
	X(TDXSIM_ERR_NOMEM,   "out of host memory") \
	X(TDXSIM_ERR_ARG,     "invalid argument") \
	X(TDXSIM_ERR_HANDLE,  "invalid or closed simulator handle") \
	X(TDXSIM_ERR_VERSION, "structure version or size not supported") \
	X(TDXSIM_ERR_STATE,   "operation not allowed in the current state") \
	X(TDXSIM_ERR_RANGE,   "address outside simulated physical memory") \
	X(TDXSIM_ERR_NOENT,   "no such object") \
	X(TDXSIM_ERR_IO,      "input/output error") \
	X(TDXSIM_ERR_BACKEND, "backend (host OS or emulator) failure")

typedef enum tdxsim_err {
#define TDXSIM_ERR_ENUM(name, msg) name,
	TDXSIM_ERR_MAP(TDXSIM_ERR_ENUM)
#undef TDXSIM_ERR_ENUM
	TDXSIM_ERR_COUNT_
} tdxsim_err;

#endif
