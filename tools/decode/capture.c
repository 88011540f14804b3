// SPDX-License-Identifier: GPL-2.0
/*
 * The capture file written by `tcptimeline -w FILE` and read by `-r FILE`.
 *
 *   offset  size  field
 *        0     8  magic "TCPTLCAP"
 *        8     4  format_version      1
 *       12     4  header_size         64 (readers skip what they don't know)
 *       16     4  abi_version         TCPSTATES_ABI_VERSION of the records
 *       20     4  record_size         bytes per record that follows
 *       24     8  realtime_offset_ns  CLOCK_REALTIME - CLOCK_MONOTONIC, signed
 *       32     8  capacity            ring capacity of the source (0 unknown)
 *       40    16  boot_id             the recording host's
 *                                     /proc/sys/kernel/random/boot_id, as
 *                                     16 bytes (0s: unknown, older writers):
 *                                     files with one boot id (or none) are
 *                                     one host's
 *       56     8  reserved, zero
 *   since header_size 160 (older writers wrote 64 and stop here):
 *       64    64  host                the recording host's label, UTF-8,
 *                                     NUL-padded, at most 63 bytes (its
 *                                     hostname, or --hostname; empty:
 *                                     unknown, e.g. made from /proc text)
 *      128     8  run_id              random, one per recorder run (0: none)
 *      136     8  run_seq             the ring sequence number the run had
 *                                     reached when it opened this file: the
 *                                     one after its previous file's last
 *                                     record (valid with flag 1)
 *      144     4  file_index          this file's place in the run, from 0
 *      148     4  flags               1: run_seq is valid
 *      152     8  reserved, zero
 *  header_size     -  records, record_size bytes each, back to back
 *
 * A reader tells the versions apart by header_size alone: 64, no host and
 * no run; 160 or more, both. format_version stays 1, so a reader that
 * predates the host label skips the longer header as it was designed to
 * and reads the records.
 *
 * All integers are little-endian (the host order of every machine the module
 * runs on; a big-endian reader sees a bad header and says so). Records are
 * struct tcpstates_record exactly as /dev/tcpstates returned them, LOST
 * markers included; a record_size larger than this tool's struct means a
 * newer ABI that appended fields, which the decoder ignores. A file cut short
 * ends in a partial record, which the decoder reports with its offset.
 */
#include <string.h>

#include "decode/decode.h"

static const char cap_magic[8] = { 'T', 'C', 'P', 'T', 'L', 'C', 'A', 'P' };

#define TT_CAP_FORMAT 1
#define TT_CAP_MAX_RECORD 4096

static uint32_t get32(const unsigned char *p)
{
	return p[0] | p[1] << 8 | p[2] << 16 | (uint32_t)p[3] << 24;
}

static uint64_t get64(const unsigned char *p)
{
	return get32(p) | (uint64_t)get32(p + 4) << 32;
}

static void put32(unsigned char *p, uint32_t v)
{
	for (int i = 0; i < 4; i++)
		p[i] = v >> (8 * i);
}

static void put64(unsigned char *p, uint64_t v)
{
	put32(p, (uint32_t)v);
	put32(p + 4, v >> 32);
}

bool tt_cap_is_capture(const void *buf, size_t len)
{
	return len >= sizeof(cap_magic) &&
	       !memcmp(buf, cap_magic, sizeof(cap_magic));
}

int tt_cap_parse_header(const void *buf, size_t len, struct tt_cap_info *ci,
			char *why, size_t whylen)
{
	const unsigned char *p = buf;
	uint32_t fmt, min;

	if (len < TT_CAP_HEADER_V1) {
		snprintf(why, whylen, "truncated header: %zu of %d bytes", len,
			 TT_CAP_HEADER_V1);
		return -1;
	}
	if (!tt_cap_is_capture(buf, len)) {
		snprintf(why, whylen, "not a tcptimeline capture (bad magic)");
		return -1;
	}
	fmt = get32(p + 8);
	ci->header_size = get32(p + 12);
	ci->abi_version = get32(p + 16);
	ci->record_size = get32(p + 20);
	ci->realtime_offset_ns = get64(p + 24);
	ci->capacity = get64(p + 32);
	memcpy(ci->boot_id, p + 40, sizeof(ci->boot_id));
	memset(ci->host, 0, sizeof(ci->host));
	ci->run_id = ci->run_seq = 0;
	ci->file_index = ci->run_flags = 0;
	if (fmt != TT_CAP_FORMAT) {
		snprintf(why, whylen, "unsupported capture format version %u",
			 fmt);
		return -1;
	}
	if (ci->header_size < TT_CAP_HEADER_V1 ||
	    ci->header_size > TT_CAP_MAX_HEADER) {
		snprintf(why, whylen, "bad header size %u", ci->header_size);
		return -1;
	}
	if (ci->header_size >= TT_CAP_HEADER_SIZE) {
		if (len < TT_CAP_HEADER_SIZE) {
			snprintf(why, whylen,
				 "truncated header: %zu of %u bytes", len,
				 ci->header_size);
			return -1;
		}
		memcpy(ci->host, p + 64, sizeof(ci->host) - 1);
		ci->run_id = get64(p + 128);
		ci->run_seq = get64(p + 136);
		ci->file_index = get32(p + 144);
		ci->run_flags = get32(p + 148);
	}
	/* ABI 1 records are ABI 2's without netns_cookie, which reads as 0. */
	if (ci->abi_version < 1 || ci->abi_version > TCPSTATES_ABI_VERSION) {
		snprintf(why, whylen,
			 "unsupported ABI version %u (this tool reads 1 to %d)",
			 ci->abi_version, TCPSTATES_ABI_VERSION);
		return -1;
	}
	min = ci->abi_version == 1 ? TCPSTATES_RECORD_SIZE_V1 :
				     TCPSTATES_RECORD_SIZE;
	if (ci->record_size < min || ci->record_size > TT_CAP_MAX_RECORD) {
		snprintf(why, whylen, "bad record size %u (need %u..%d)",
			 ci->record_size, min, TT_CAP_MAX_RECORD);
		return -1;
	}
	return 0;
}

void tt_cap_header(unsigned char h[TT_CAP_HEADER_SIZE],
		   const struct tt_cap_info *ci)
{
	memset(h, 0, TT_CAP_HEADER_SIZE);
	memcpy(h, cap_magic, sizeof(cap_magic));
	put32(h + 8, TT_CAP_FORMAT);
	put32(h + 12, TT_CAP_HEADER_SIZE);
	put32(h + 16, TCPSTATES_ABI_VERSION);
	put32(h + 20, sizeof(struct tcpstates_record));
	put64(h + 24, ci->realtime_offset_ns);
	put64(h + 32, ci->capacity);
	memcpy(h + 40, ci->boot_id, sizeof(ci->boot_id));
	memcpy(h + 64, ci->host, strnlen(ci->host, 63));
	put64(h + 128, ci->run_id);
	put64(h + 136, ci->run_seq);
	put32(h + 144, ci->file_index);
	put32(h + 148, ci->run_flags);
}
