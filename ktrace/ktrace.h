/* SPDX-License-Identifier: GPL-2.0 */
/*
 * ktrace: the 2009 ktrace design (one probe per event, packed payload with a
 * 16-bit event id, flight-recorder ring buffer, debugfs control) rebuilt as
 * an out-of-tree module that attaches to mainline tracepoints.
 * The user-visible ABI is documented in ABI.md next to this file.
 */
#ifndef KTRACE_H
#define KTRACE_H

#include <linux/types.h>
#include <linux/compiler.h>
#include <linux/percpu.h>
#include <linux/ring_buffer.h>
#include <linux/string.h>

#define KT_VERSION "2.0.0"

/* event ids: the order of kt_events[] in events.c; part of the ABI */
enum kt_event_id {
	KT_ID_sched_switch,
	KT_ID_sched_waking,
	KT_ID_timer_start,
	KT_ID_hrtimer_start,
	KT_ID_softirq_entry,
	KT_ID_softirq_exit,
	KT_ID_softirq_raise,
	KT_ID_mm_page_alloc,
	KT_ID_mm_page_free,
	KT_ID_sys_enter,
	KT_ID_sys_exit,
	KT_ID_net_dev_xmit,
	KT_ID_netif_receive_skb,
	KT_ID_napi_poll,
	KT_ID_block_rq_issue,
	KT_ID_block_rq_complete,
	KT_NR_EVENTS
};

/* id of the marker record the reader inserts when the ring buffer overwrote events */
#define KT_ID_LOST 0xffff
/* a payload never holds more fields than this (checked at load) */
#define KT_MAX_FIELDS 16

struct tracepoint;

struct kt_event {
	const char *name;	/* ktrace name == mainline tracepoint name */
	const char *format;	/* printf-style description of the packed payload */
	void *probe;		/* passed to tracepoint_probe_register() */
	unsigned int fixed_size; /* sizeof the payload's non-string fields */
	unsigned int nstrings;	/* inline NUL-terminated strings after them */
	/* filled at load */
	struct tracepoint *tp;
	bool registered;
	unsigned int nfields;
	s8 field_size[KT_MAX_FIELDS]; /* 0 = inline string */
};

extern struct kt_event kt_events[KT_NR_EVENTS];

/*
 * Per-CPU counters, written only by the probes of that CPU (kt_write). A
 * probe can be interrupted by another probe on the same CPU, so a plain
 * seqcount (odd = writing) would not do: every writer increments `seq_begin`
 * before and `seq_end` after its updates, and a reader retries until it saw
 * the two equal before and `seq_begin` unchanged after (core.c, kt_stats_snap).
 */
struct kt_cpu_stats {
	u64 seq_begin;
	u64 seq_end;
	u64 events;		/* records committed */
	u64 bytes;		/* ring-buffer bytes of those records, 4-byte rb header included */
	u64 payload_bytes;	/* id + payload bytes of those records */
	u64 dropped;		/* reserve failed (non-overwrite buffer full, recording off) */
	u64 per_event[KT_NR_EVENTS];
};

DECLARE_PER_CPU(struct kt_cpu_stats, kt_stats);
/* the global switch (debugfs `enabled`): a plain flag, so toggling it patches no kernel text */
extern bool kt_enabled;
extern bool kt_ev_on[KT_NR_EVENTS];
extern struct trace_buffer *kt_buffer;

/*
 * Size a record of `len` data bytes takes in the ring buffer: a copy of
 * rb_calculate_event_length() (kernel/trace/ring_buffer.c, 6.12) for
 * architectures without RB_FORCE_8BYTE_ALIGNMENT such as x86_64. Data up to
 * 112 bytes (RB_MAX_SMALL_DATA) has its length in the 4-byte header; longer
 * data needs one more 4-byte length word; 12 is bumped to 16 because the ring
 * buffer cannot pad that size. Time-extend records and page headers are not
 * counted: they are not ktrace records.
 */
static __always_inline unsigned int kt_rb_len(unsigned int len)
{
	if (len > 112)
		len += 4;
	len = ALIGN(len + 4, 4);
	if (len == 12)
		len = 16;
	return len;
}

/*
 * What a hit costs. Attaching an event's probe (events/<name> = 1, done once
 * at setup) registers it with the tracepoint, which turns the tracepoint's
 * static key on: that is the only kernel text ktrace changes, and it stays
 * on until the probe is detached or the module unloaded. From then on every
 * hit of the tracepoint, whether tracing is on or off, runs the tracepoint's
 * probe loop and calls kt_probe_*, which loads `kt_enabled` and returns when
 * it is 0. So "loaded but off" is not free: it is a call and a load per hit
 * (the `ktrace-off` configuration measures it). The seed used a static key
 * for `enabled`; it is a plain flag here so that turning tracing on and off
 * between iterations never patches text (live patching races multi-threaded
 * TCG, and it would add text-patching IPIs to what is measured).
 */
static __always_inline bool kt_should_trace(enum kt_event_id id)
{
	return READ_ONCE(kt_enabled) && READ_ONCE(kt_ev_on[id]);
}

/* Copy one record (16-bit id, then the packed payload) into this CPU's buffer. */
static __always_inline void kt_write(enum kt_event_id id, const void *payload, unsigned int len)
{
	struct ring_buffer_event *rbe;
	u16 id16 = id;
	u8 *p;

	rbe = ring_buffer_lock_reserve(kt_buffer, sizeof(id16) + len);
	if (unlikely(!rbe)) {
		this_cpu_inc(kt_stats.seq_begin);
		smp_wmb();
		this_cpu_inc(kt_stats.dropped);
		smp_wmb();
		this_cpu_inc(kt_stats.seq_end);
		return;
	}
	p = ring_buffer_event_data(rbe);
	memcpy(p, &id16, sizeof(id16));
	memcpy(p + sizeof(id16), payload, len);
	ring_buffer_unlock_commit(kt_buffer);
	/* see struct kt_cpu_stats: begin/end bracket the updates for stats readers */
	this_cpu_inc(kt_stats.seq_begin);
	smp_wmb();
	this_cpu_inc(kt_stats.events);
	this_cpu_add(kt_stats.bytes, kt_rb_len(sizeof(id16) + len));
	this_cpu_add(kt_stats.payload_bytes, sizeof(id16) + len);
	this_cpu_inc(kt_stats.per_event[id]);
	smp_wmb();
	this_cpu_inc(kt_stats.seq_end);
}

/* Store a string inline, NUL included; returns the bytes used (at most max). */
static __always_inline unsigned int kt_put_str(char *dst, const char *src, unsigned int max)
{
	unsigned int n = strnlen(src, max - 1);

	memcpy(dst, src, n);
	dst[n] = '\0';
	return n + 1;
}

#endif
