/*
 * Snapshots of the whole simulator (sim/snapshot.c; API in tdxsim.h, file
 * format in docs/snapshots.md). Internal constants shared with the tests.
 */
#ifndef SIM_SNAPSHOT_H
#define SIM_SNAPSHOT_H

#define SNAP_MAGIC          "TDXSNAP"   /* 8 bytes with the NUL */
#define SNAP_FORMAT_VERSION 1u
#define SNAP_HDR_BYTES      96u         /* file header */
#define SNAP_SEC_HDR_BYTES  48u         /* section header */

/* Sections, in file order (4-character tags). */
#define SNAP_SECTIONS(X) \
	X(CONF, "CONF")  /* configuration and build layout */ \
	X(MACH, "MACH")  /* machine: LPs, keys, sequence counter, fault plan */ \
	X(MODU, "MODU")  /* module global state, KOT, WBT */ \
	X(TDS,  "TDS ")  /* TDR/TDCS state per TD */ \
	X(VCPU, "VCPU")  /* TDVPS state and runner image per vCPU */ \
	X(RAM,  "RAM ")  /* non-zero pages of simulated memory */ \
	X(META, "META")  /* per-page / per-line TD-owner and poison state */ \
	X(END,  "END ")  /* empty: the last section */

#endif
