// SPDX-License-Identifier: GPL-2.0
/*
 * RFC 9293 Figure 5 on a 100 x 41 grid of character cells: CLOSED on top,
 * LISTEN below it, SYN_RECEIVED and SYN_SENT left and right, ESTABLISHED
 * in the middle, the active close down the left, the passive close down
 * the right, TIME_WAIT and CLOSED at the bottom. Linux's request socket,
 * NEW_SYN_RECV, sits left of LISTEN, on the detour its passive opens take.
 * The SVG renderer draws the same cells scaled, so both pictures agree.
 *
 *  cols  2..17            42..57             82..97
 *  row 0                  CLOSED
 *      6  NEW_SYN_RECV    LISTEN
 *     13  SYN_RECEIVED                       SYN_SENT
 *     19                  ESTABLISHED
 *     25  FIN_WAIT_1                         CLOSE_WAIT
 *     31  FIN_WAIT_2      CLOSING            LAST_ACK
 *     37                  TIME_WAIT          CLOSED
 */
#include "output/diagram.h"

#define L 2
#define M 42
#define R 82

/* state, x, y, and where its "off the figure, to CLOSED" tag goes */
static const struct tt_dgm_box boxes[] = {
	{ TCPSTATES_CLOSE, M, 0, 0, false },
	{ TCPSTATES_LISTEN, M, 6, M + 17, false },
	{ TCPSTATES_NEW_SYN_RECV, L, 6, L + 17, false },
	{ TCPSTATES_SYN_RECV, L, 13, L + 17, false },
	{ TCPSTATES_SYN_SENT, R, 13, R - 2, true },
	{ TCPSTATES_ESTABLISHED, M, 19, M + 17, false },
	{ TCPSTATES_FIN_WAIT1, L, 25, L + 17, false },
	{ TCPSTATES_CLOSE_WAIT, R, 25, R - 2, true },
	{ TCPSTATES_FIN_WAIT2, L, 31, L + 17, false },
	{ TCPSTATES_CLOSING, M, 31, M + 17, false },
	{ TCPSTATES_LAST_ACK, R, 31, R - 2, true },
	{ TCPSTATES_TIME_WAIT, M, 37, M + 17, false },
	{ TCPSTATES_CLOSE, R, 37, 0, false }, /* the figure's second CLOSED */
};

#define P(...)              \
	{                   \
		__VA_ARGS__ \
	}
#define PATH(num, f, t, fig, ev, np, pts, x, y, right)                      \
	{                                                                   \
		.n = num, .from = TCPSTATES_##f, .to = TCPSTATES_##t,       \
		.figure = fig, .event = ev, .npts = np, .pt = pts, .lx = x, \
		.ly = y, .lright = right                                    \
	}

/* The figure's twenty edges in its order, then Linux's request socket. */
static const struct tt_dgm_path paths[] = {
	PATH(1, CLOSE, LISTEN, true, "passive OPEN", 2, P({ 46, 3 }, { 46, 5 }),
	     45, 4, true),
	PATH(2, CLOSE, SYN_SENT, true, "active OPEN / snd SYN", 3,
	     P({ 58, 1 }, { 90, 1 }, { 90, 12 }), 60, 0, false),
	PATH(3, LISTEN, CLOSE, true, "CLOSE", 2, P({ 53, 5 }, { 53, 3 }), 54, 5,
	     false),
	PATH(4, LISTEN, SYN_RECV, true, "rcv SYN / snd SYN,ACK", 4,
	     P({ 44, 9 }, { 44, 10 }, { 14, 10 }, { 14, 12 }), 24, 9, false),
	PATH(5, LISTEN, SYN_SENT, true, "SEND / snd SYN", 3,
	     P({ 58, 7 }, { 83, 7 }, { 83, 12 }), 72, 6, false),
	PATH(6, SYN_SENT, CLOSE, true, "CLOSE", 4,
	     P({ 86, 12 }, { 86, 4 }, { 56, 4 }, { 56, 3 }), 60, 3, false),
	PATH(7, SYN_SENT, SYN_RECV, true, "rcv SYN / snd SYN,ACK", 2,
	     P({ 81, 14 }, { 18, 14 }), 40, 13, false),
	PATH(8, SYN_SENT, ESTABLISHED, true, "rcv SYN,ACK / snd ACK", 4,
	     P({ 88, 16 }, { 88, 17 }, { 54, 17 }, { 54, 18 }), 60, 16, false),
	PATH(9, SYN_RECV, LISTEN, true, "rcv RST", 4,
	     P({ 16, 12 }, { 16, 11 }, { 50, 11 }, { 50, 9 }), 30, 12, false),
	PATH(10, SYN_RECV, ESTABLISHED, true, "rcv ACK of SYN", 4,
	     P({ 10, 16 }, { 10, 17 }, { 46, 17 }, { 46, 18 }), 20, 16, false),
	PATH(11, SYN_RECV, FIN_WAIT1, true, "CLOSE / snd FIN", 2,
	     P({ 4, 16 }, { 4, 24 }), 5, 20, false),
	PATH(12, ESTABLISHED, FIN_WAIT1, true, "CLOSE / snd FIN", 4,
	     P({ 44, 22 }, { 44, 23 }, { 14, 23 }, { 14, 24 }), 20, 22, false),
	PATH(13, ESTABLISHED, CLOSE_WAIT, true, "rcv FIN / snd ACK", 4,
	     P({ 54, 22 }, { 54, 23 }, { 88, 23 }, { 88, 24 }), 62, 24, false),
	PATH(14, FIN_WAIT1, FIN_WAIT2, true, "rcv ACK of FIN", 2,
	     P({ 6, 28 }, { 6, 30 }), 7, 29, false),
	PATH(15, FIN_WAIT1, CLOSING, true, "rcv FIN / snd ACK", 4,
	     P({ 12, 28 }, { 12, 29 }, { 48, 29 }, { 48, 30 }), 20, 28, false),
	PATH(16, FIN_WAIT2, TIME_WAIT, true, "rcv FIN / snd ACK", 3,
	     P({ 10, 34 }, { 10, 38 }, { 41, 38 }), 14, 37, false),
	PATH(17, CLOSING, TIME_WAIT, true, "rcv ACK of FIN", 2,
	     P({ 50, 34 }, { 50, 36 }), 51, 35, false),
	PATH(18, TIME_WAIT, CLOSE, true, "Timeout=2MSL / delete TCB", 2,
	     P({ 58, 38 }, { 81, 38 }), 62, 37, false),
	PATH(19, CLOSE_WAIT, LAST_ACK, true, "CLOSE / snd FIN", 2,
	     P({ 90, 28 }, { 90, 30 }), 89, 29, true),
	PATH(20, LAST_ACK, CLOSE, true, "rcv ACK of FIN", 2,
	     P({ 90, 34 }, { 90, 36 }), 89, 35, true),
	PATH(21, LISTEN, NEW_SYN_RECV, false, "rcv SYN / snd SYN,ACK (request)",
	     2, P({ 41, 7 }, { 18, 7 }), 20, 6, false),
	PATH(22, NEW_SYN_RECV, SYN_RECV, false, "rcv ACK: the child socket", 2,
	     P({ 6, 9 }, { 6, 12 }), 7, 11, false),
	PATH(23, NEW_SYN_RECV, CLOSE, false, "request ended, no child", 3,
	     P({ 10, 5 }, { 10, 1 }, { 41, 1 }), 12, 0, false),
};

const struct tt_dgm_box *tt_dgm_boxes(size_t *n)
{
	*n = ARRAY_SIZE(boxes);
	return boxes;
}

const struct tt_dgm_path *tt_dgm_paths(size_t *n)
{
	*n = ARRAY_SIZE(paths);
	return paths;
}

const struct tt_dgm_box *tt_dgm_box_of(unsigned int state, bool bottom)
{
	if (state == TCPSTATES_CLOSE)
		return &boxes[bottom ? ARRAY_SIZE(boxes) - 1 : 0];
	for (size_t i = 0; i < ARRAY_SIZE(boxes); i++)
		if (boxes[i].state == state)
			return &boxes[i];
	return NULL;
}

const struct tt_dgm_path *tt_dgm_path_of(unsigned int from, unsigned int to)
{
	for (size_t i = 0; i < ARRAY_SIZE(paths); i++)
		if (paths[i].from == from && paths[i].to == to)
			return &paths[i];
	return NULL;
}

const char *tt_dgm_state_name(unsigned int state)
{
	static const char *const names[TCPSTATES_NR_STATES] = {
		[TCPSTATES_CLOSE] = "CLOSED",
		[TCPSTATES_LISTEN] = "LISTEN",
		[TCPSTATES_SYN_SENT] = "SYN_SENT",
		[TCPSTATES_SYN_RECV] = "SYN_RECEIVED",
		[TCPSTATES_ESTABLISHED] = "ESTABLISHED",
		[TCPSTATES_FIN_WAIT1] = "FIN_WAIT_1",
		[TCPSTATES_FIN_WAIT2] = "FIN_WAIT_2",
		[TCPSTATES_CLOSING] = "CLOSING",
		[TCPSTATES_TIME_WAIT] = "TIME_WAIT",
		[TCPSTATES_CLOSE_WAIT] = "CLOSE_WAIT",
		[TCPSTATES_LAST_ACK] = "LAST_ACK",
		[TCPSTATES_NEW_SYN_RECV] = "NEW_SYN_RECV",
	};

	if (state < TCPSTATES_NR_STATES && names[state])
		return names[state];
	return tt_state_name(state);
}
