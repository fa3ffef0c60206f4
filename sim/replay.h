/*
 * SEAMCALL trace replay (docs/trace-format.md, "Replay"): the public entry
 * point is tdxsim_replay() in abi/tdxsim/tdxsim.h; the `tdxsim replay`
 * subcommand is a thin wrapper around it. Internal helpers shared with tests.
 */
#ifndef SIM_REPLAY_H
#define SIM_REPLAY_H

#include <stdio.h>

#include "tdxsim/tdxsim.h"

/* Dump the module state (module state, TDs with their vCPUs, PAMT page
 * counts per type) on f, as text or (json) as a JSON object value. Call it
 * while no SEAMCALL is in flight. */
void sim_replay_dump_state(tdxsim *s, FILE *f, int json);

#endif
