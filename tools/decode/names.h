/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Names for the numbers in the ABI. Every table is generated from the
 * X-macro lists in module/uapi/tcpstates.h, the same lists the module's
 * /proc text comes from, so a name exists once. Lookups check the index:
 * it comes from the kernel or from a file.
 */
#ifndef TT_DECODE_NAMES_H
#define TT_DECODE_NAMES_H

#include <stddef.h>
#include <stdint.h>

#include "../module/uapi/tcpstates.h"

#define TT_NAME "tcptimeline"

/* Exit codes (also in --help and the man page). */
enum {
	TT_EXIT_OK = 0,
	TT_EXIT_USAGE = 1, /* bad option or argument */
	TT_EXIT_IO = 2, /* cannot open/read/write a file or device */
	TT_EXIT_DATA = 3, /* input had corrupt or truncated records */
};

#define ARRAY_SIZE(a) (sizeof(a) / sizeof((a)[0]))

const char *tt_state_name(unsigned int state); /* "-" for NONE, "?" if bad */
int tt_state_parse(const char *s); /* exact kernel name or "-"; -1 */
/* Any spelling: close_wait, CLOSE-WAIT, "Close Wait", closewait; -1. */
int tt_state_lookup(const char *s);
const char *tt_event_name(unsigned int kind); /* "?" if bad */
int tt_event_parse(const char *s);
const char *tt_ctx_name(unsigned int ctx); /* "?" if bad */
int tt_ctx_parse(const char *s);
const char *tt_option_name(unsigned int bit); /* NULL if no such bit */
/* "sack,ts,wscale", or "none"; returns @buf. */
const char *tt_options_format(uint8_t options, char *buf, size_t len);

/* reset_sent's aux: "tcp_abort_on_close"; NULL for a number it lacks. */
const char *tt_rst_reason_name(unsigned int reason);
/* listen_drop's cause (TCPSTATES_DROP_*): "accept_queue"; NULL if none. */
const char *tt_drop_name(unsigned int cause);

/* "ECONNRESET" for sk_err 104; "-" for 0, "E123" if glibc has no name. */
const char *tt_errno_name(unsigned int err, char *buf, size_t len);

void tt_format_addr(unsigned int family, const uint8_t *addr, char *buf,
		    size_t len);

#endif /* TT_DECODE_NAMES_H */
