/* SPDX-License-Identifier: GPL-2.0 */
/*
 * The command line: options, filters, input and output files. The top
 * layer; it may include every other.
 */
#ifndef TT_CLI_CLI_H
#define TT_CLI_CLI_H

#include "decode/decode.h"
#include "reconstruct/recon.h"
#include "output/output.h"

/* Exit codes (also in --help and the man page). */
enum {
	TT_EXIT_OK = 0,
	TT_EXIT_USAGE = 1,	/* bad option or argument */
	TT_EXIT_IO = 2,		/* cannot open/read/write a file or device */
	TT_EXIT_DATA = 3,	/* input had corrupt or truncated records */
};

#endif /* TT_CLI_CLI_H */
