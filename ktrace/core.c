// SPDX-License-Identifier: GPL-2.0
/*
 * ktrace core: the ring buffer, attaching probes to tracepoints, statistics
 * and the debugfs files. ABI.md documents every file.
 */
#define pr_fmt(fmt) "ktrace: " fmt

#include <linux/cpumask.h>
#include <linux/ctype.h>
#include <linux/debugfs.h>
#include <linux/fs.h>
#include <linux/kernel.h>
#include <linux/module.h>
#include <linux/mutex.h>
#include <linux/poll.h>
#include <linux/seq_file.h>
#include <linux/slab.h>
#include <linux/timer.h>
#include <linux/tracepoint.h>
#include <linux/uaccess.h>
#include <linux/unaligned.h>
#include <linux/wait.h>

#include "ktrace.h"

/* 1408 KiB is ftrace's default per-CPU buffer, so the two are comparable by default */
static unsigned int buffer_kib = 1408;
module_param(buffer_kib, uint, 0444);
MODULE_PARM_DESC(buffer_kib, "ring buffer size per CPU in KiB (default 1408)");

static bool overwrite = true;
module_param(overwrite, bool, 0444);
MODULE_PARM_DESC(overwrite, "flight recorder: overwrite the oldest records when full (default 1)");

DEFINE_PER_CPU(struct kt_cpu_stats, kt_stats);
bool kt_enabled;
bool kt_ev_on[KT_NR_EVENTS];
struct trace_buffer *kt_buffer;

/* serialises enable/disable, event (un)registration, reset, stats and readers' drains */
static DEFINE_MUTEX(kt_mutex);
static struct dentry *kt_dir;

/*
 * Readers cannot be woken from the probes: a probe may run under the
 * runqueue lock (sched_switch), where wake_up() deadlocks, and the ring
 * buffer's own waiters are not exported to modules. A timer wakes them
 * instead, like the seed's reader timer; 100 ms bounds a poller's latency.
 */
#define KT_WAKE_INTERVAL (HZ / 10)
static DECLARE_WAIT_QUEUE_HEAD(kt_wait);
static struct timer_list kt_wake_timer;

static void kt_wake_fn(struct timer_list *t)
{
	if (wq_has_sleeper(&kt_wait))
		wake_up_interruptible(&kt_wait);
	if (READ_ONCE(kt_enabled))
		mod_timer(&kt_wake_timer, jiffies + KT_WAKE_INTERVAL);
}

/* ---- format layout --------------------------------------------------- */

/*
 * Turn a payload format into field sizes with the seed's conventions
 * (x86_64): %c 1, %h.. 2, %d %i %o %u %x %X 4, %l.. %ll.. %p 8, %s inline
 * string (size 0 here). Run once per event at load, and the result checked
 * against the payload struct, so a format that lies about its payload never
 * reaches a reader.
 */
static int kt_parse_layout(struct kt_event *e)
{
	const char *f = e->format;
	unsigned int fixed = 0, strings = 0, n = 0;
	int size;

	for (; *f; f++) {
		int qual = 0;

		if (*f != '%')
			continue;
		f++;
		if (*f == '%')
			continue;
		while (*f == '-' || *f == '+' || *f == ' ' || *f == '#' || *f == '0')
			f++;
		while (isdigit(*f))
			f++;
		if (*f == 'h' || *f == 'l') {
			qual = *f++;
			if (qual == 'l' && *f == 'l')
				f++;
		}
		switch (*f) {
		case 'c':
			size = 1;
			break;
		case 's':
			size = 0;
			break;
		case 'p':
			size = 8;
			break;
		case 'd': case 'i': case 'o': case 'u': case 'x': case 'X':
			size = qual == 'h' ? 2 : qual == 'l' ? 8 : 4;
			break;
		default:
			pr_err("event %s: unsupported conversion in format '%s'\n", e->name, e->format);
			return -EINVAL;
		}
		if (n == KT_MAX_FIELDS) {
			pr_err("event %s: more than %d fields\n", e->name, KT_MAX_FIELDS);
			return -EINVAL;
		}
		e->field_size[n++] = size;
		fixed += size;
		strings += size == 0;
	}
	e->nfields = n;
	if (fixed != e->fixed_size || strings != e->nstrings) {
		pr_err("event %s: format '%s' describes %u bytes and %u strings, payload has %u and %u\n",
		       e->name, e->format, fixed, strings, e->fixed_size, e->nstrings);
		return -EINVAL;
	}
	return 0;
}

/* Exact length of a stored payload (after the id), found by walking its layout. */
static unsigned int kt_payload_len(const struct kt_event *e, const u8 *p, unsigned int avail)
{
	unsigned int off = 0, i;

	for (i = 0; i < e->nfields && off < avail; i++) {
		if (e->field_size[i])
			off += e->field_size[i];
		else
			off += strnlen(p + off, avail - off) + 1;
	}
	return min(off, avail);
}

/* ---- tracepoints ----------------------------------------------------- */

static void kt_find_tp(struct tracepoint *tp, void *priv)
{
	int i;

	for (i = 0; i < KT_NR_EVENTS; i++)
		if (!strcmp(tp->name, kt_events[i].name))
			kt_events[i].tp = tp;
}

static int kt_event_set(struct kt_event *e, bool on)
{
	int id = e - kt_events, ret;

	lockdep_assert_held(&kt_mutex);
	if (on == e->registered)
		return 0;
	if (on) {
		if (!e->tp)
			return -ENOENT;
		ret = tracepoint_probe_register(e->tp, e->probe, NULL);
		if (ret)
			return ret;
		e->registered = true;
		WRITE_ONCE(kt_ev_on[id], true);
	} else {
		WRITE_ONCE(kt_ev_on[id], false);
		ret = tracepoint_probe_unregister(e->tp, e->probe, NULL);
		if (ret)
			pr_warn("unregistering %s: %d\n", e->name, ret);
		e->registered = false;
	}
	return 0;
}

/*
 * `enabled` is a flag the probes load (ktrace.h, kt_should_trace): switching
 * it writes one bool and patches no kernel text.
 */
static void kt_set_enabled(bool on)
{
	lockdep_assert_held(&kt_mutex);
	if (on == kt_enabled)
		return;
	WRITE_ONCE(kt_enabled, on);
	if (on) {
		mod_timer(&kt_wake_timer, jiffies + KT_WAKE_INTERVAL);
	} else {
		timer_delete_sync(&kt_wake_timer);
		/*
		 * Probes run with preemption disabled (__DO_TRACE), so after this
		 * no probe that saw `enabled` 1 is still writing: once the write
		 * of 0 returns, `stats` is final and a `reset` is exact.
		 */
		tracepoint_synchronize_unregister();
		/* blocked readers drain what is left and then see end of file */
		wake_up_interruptible_all(&kt_wait);
	}
}

/*
 * A record the reader consumed but could not return (kt_drain) is reported
 * as lost in a marker at the start of the next read of that CPU, so readers'
 * counts still add up. Protected by kt_mutex.
 */
struct kt_unreturned {
	u64 count;
	u64 ts;
};
static DEFINE_PER_CPU(struct kt_unreturned, kt_unreturned);

/* Only while tracing is off (-EBUSY otherwise): then no probe is writing, and the reset is exact. */
static int kt_reset(void)
{
	int cpu;

	lockdep_assert_held(&kt_mutex);
	if (kt_enabled)
		return -EBUSY;
	ring_buffer_reset(kt_buffer);
	for_each_possible_cpu(cpu) {
		memset(per_cpu_ptr(&kt_stats, cpu), 0, sizeof(struct kt_cpu_stats));
		memset(per_cpu_ptr(&kt_unreturned, cpu), 0, sizeof(struct kt_unreturned));
	}
	return 0;
}

/* ---- debugfs: control files ------------------------------------------ */

/* "0" or "1", optionally followed by a newline; anything else is -EINVAL */
static int kt_parse_bit(const char __user *ubuf, size_t cnt, bool *out)
{
	unsigned int v;

	if (cnt == 0 || cnt > 8)
		return -EINVAL;
	if (kstrtouint_from_user(ubuf, cnt, 10, &v) || v > 1)
		return -EINVAL;
	*out = v;
	return 0;
}

static ssize_t kt_read_text(char __user *ubuf, size_t cnt, loff_t *ppos, const char *s)
{
	return simple_read_from_buffer(ubuf, cnt, ppos, s, strlen(s));
}

static ssize_t kt_enabled_read(struct file *f, char __user *ubuf, size_t cnt, loff_t *ppos)
{
	return kt_read_text(ubuf, cnt, ppos, READ_ONCE(kt_enabled) ? "1\n" : "0\n");
}

static ssize_t kt_enabled_write(struct file *f, const char __user *ubuf, size_t cnt, loff_t *ppos)
{
	bool on;
	int ret = kt_parse_bit(ubuf, cnt, &on);

	if (ret)
		return ret;
	mutex_lock(&kt_mutex);
	kt_set_enabled(on);
	mutex_unlock(&kt_mutex);
	return cnt;
}

static const struct file_operations kt_enabled_fops = {
	.owner = THIS_MODULE,
	.read = kt_enabled_read,
	.write = kt_enabled_write,
	.llseek = default_llseek,
};

static ssize_t kt_event_read(struct file *f, char __user *ubuf, size_t cnt, loff_t *ppos)
{
	struct kt_event *e = f->private_data;

	return kt_read_text(ubuf, cnt, ppos, READ_ONCE(e->registered) ? "1\n" : "0\n");
}

static ssize_t kt_event_write(struct file *f, const char __user *ubuf, size_t cnt, loff_t *ppos)
{
	struct kt_event *e = f->private_data;
	bool on;
	int ret = kt_parse_bit(ubuf, cnt, &on);

	if (ret)
		return ret;
	mutex_lock(&kt_mutex);
	ret = kt_event_set(e, on);
	mutex_unlock(&kt_mutex);
	return ret ? ret : cnt;
}

static const struct file_operations kt_event_fops = {
	.owner = THIS_MODULE,
	.open = simple_open,
	.read = kt_event_read,
	.write = kt_event_write,
	.llseek = default_llseek,
};

static ssize_t kt_reset_write(struct file *f, const char __user *ubuf, size_t cnt, loff_t *ppos)
{
	bool v;
	int ret = kt_parse_bit(ubuf, cnt, &v);

	if (ret || !v)
		return -EINVAL;
	mutex_lock(&kt_mutex);
	ret = kt_reset();
	mutex_unlock(&kt_mutex);
	return ret ? ret : cnt;
}

static const struct file_operations kt_reset_fops = {
	.owner = THIS_MODULE,
	.write = kt_reset_write,
	.llseek = noop_llseek,
};

static ssize_t kt_overflow_read(struct file *f, char __user *ubuf, size_t cnt, loff_t *ppos)
{
	char buf[32];

	snprintf(buf, sizeof(buf), "%lu\n", ring_buffer_overruns(kt_buffer));
	return kt_read_text(ubuf, cnt, ppos, buf);
}

static const struct file_operations kt_overflow_fops = {
	.owner = THIS_MODULE,
	.read = kt_overflow_read,
	.llseek = default_llseek,
};

static int kt_info_show(struct seq_file *m, void *v)
{
	int i;

	mutex_lock(&kt_mutex);
	seq_printf(m, "version %s\n", KT_VERSION);
	for (i = 0; i < KT_NR_EVENTS; i++)
		seq_printf(m, "name '%s' format '%s' id %d %s\n", kt_events[i].name,
			   kt_events[i].format, i, kt_events[i].registered ? "enabled" : "disabled");
	mutex_unlock(&kt_mutex);
	return 0;
}
DEFINE_SHOW_ATTRIBUTE(kt_info);

/*
 * A consistent copy of one CPU's counters while its probes may be writing
 * them (the protocol is described at struct kt_cpu_stats). A probe's update
 * is a handful of stores, so a retry is rare and the next try succeeds.
 */
static void kt_stats_snap(int cpu, struct kt_cpu_stats *out)
{
	const struct kt_cpu_stats *s = per_cpu_ptr(&kt_stats, cpu);
	u64 begin, end;
	int i;

	for (;;) {
		end = READ_ONCE(s->seq_end);
		smp_rmb();
		begin = READ_ONCE(s->seq_begin);
		if (begin == end) {
			smp_rmb();
			out->events = READ_ONCE(s->events);
			out->bytes = READ_ONCE(s->bytes);
			out->payload_bytes = READ_ONCE(s->payload_bytes);
			out->dropped = READ_ONCE(s->dropped);
			for (i = 0; i < KT_NR_EVENTS; i++)
				out->per_event[i] = READ_ONCE(s->per_event[i]);
			smp_rmb();
			if (READ_ONCE(s->seq_begin) == begin)
				return;
		}
		cond_resched();
	}
}

/*
 * Each CPU line is one consistent snapshot and the totals are summed from
 * those same snapshots, so the totals always equal the sum of the lines;
 * kt_mutex keeps a reset from landing in the middle. The CPUs are read one
 * after the other, not at one instant, while tracing is on.
 */
static int kt_stats_show(struct seq_file *m, void *v)
{
	struct kt_cpu_stats tot = {}, snap;
	const struct kt_cpu_stats *s = &snap;
	unsigned long overruns = 0;
	int cpu, i;

	mutex_lock(&kt_mutex);
	for_each_possible_cpu(cpu) {
		unsigned long ov = ring_buffer_overrun_cpu(kt_buffer, cpu);

		kt_stats_snap(cpu, &snap);
		seq_printf(m, "cpu%d events=%llu bytes=%llu payload_bytes=%llu overruns=%lu dropped=%llu\n",
			   cpu, s->events, s->bytes, s->payload_bytes, ov, s->dropped);
		tot.events += s->events;
		tot.bytes += s->bytes;
		tot.payload_bytes += s->payload_bytes;
		tot.dropped += s->dropped;
		overruns += ov;
		for (i = 0; i < KT_NR_EVENTS; i++)
			tot.per_event[i] += s->per_event[i];
	}
	seq_printf(m, "total events=%llu bytes=%llu payload_bytes=%llu overruns=%lu dropped=%llu\n",
		   tot.events, tot.bytes, tot.payload_bytes, overruns, tot.dropped);
	for (i = 0; i < KT_NR_EVENTS; i++)
		seq_printf(m, "event %s=%llu\n", kt_events[i].name, tot.per_event[i]);
	mutex_unlock(&kt_mutex);
	return 0;
}
DEFINE_SHOW_ATTRIBUTE(kt_stats);

/* ---- debugfs: buffers/cpuN ------------------------------------------- */

/*
 * Record framing on read (little-endian, unaligned, no padding):
 *   u64 ts (ns, ring-buffer clock) | u16 len (payload bytes) | u16 id | payload
 * A record with id KT_ID_LOST and an u64 payload precedes the first record
 * read after the ring buffer overwrote `count` unread records on this CPU.
 */
#define KT_HDR 12
#define KT_STAGE_MAX (64 * 1024)

static void kt_put_hdr(u8 *dst, u64 ts, u16 len, u16 id)
{
	put_unaligned_le64(ts, dst);
	put_unaligned_le16(len, dst + 8);
	put_unaligned_le16(id, dst + 10);
}

/*
 * Bytes the framed record for ring-buffer event `rbe` takes in a read,
 * including the lost-records marker before it when `lost` is not 0; its id and
 * payload length go to *id and *plen. 0 when the event is too short to hold
 * an id (cannot happen for events ktrace wrote).
 */
static size_t kt_framed_len(struct ring_buffer_event *rbe, unsigned long lost, u16 *id,
			    unsigned int *plen)
{
	const u8 *d = ring_buffer_event_data(rbe);
	unsigned int dlen = ring_buffer_event_length(rbe);

	if (dlen < 2)
		return 0;
	*id = get_unaligned_le16(d);
	*plen = *id < KT_NR_EVENTS ? kt_payload_len(&kt_events[*id], d + 2, dlen - 2) : dlen - 2;
	return KT_HDR + *plen + (lost ? KT_HDR + 8 : 0);
}

static void kt_put_lost(u8 *dst, u64 ts, u64 count)
{
	kt_put_hdr(dst, ts, 8, KT_ID_LOST);
	put_unaligned_le64(count, dst + KT_HDR);
}

/*
 * Move whole records into `out` (at most `size` bytes); returns bytes used.
 * The peek only decides whether the next record is worth consuming; what is
 * copied, and every size check before a write, come from the event that
 * ring_buffer_consume() returned and the `lost` it reported.
 */
static size_t kt_drain(int cpu, u8 *out, size_t size)
{
	struct kt_unreturned *un = per_cpu_ptr(&kt_unreturned, cpu);
	size_t used = 0;

	lockdep_assert_held(&kt_mutex);
	if (un->count) {
		if (size < KT_HDR + 8)
			return 0;
		kt_put_lost(out, un->ts, un->count);
		used = KT_HDR + 8;
		un->count = 0;
	}
	for (;;) {
		struct ring_buffer_event *rbe;
		unsigned long lost = 0;
		unsigned int plen;
		size_t need;
		u16 id;
		u64 ts;

		rbe = ring_buffer_peek(kt_buffer, cpu, &ts, &lost);
		if (!rbe)
			break;
		need = kt_framed_len(rbe, lost, &id, &plen);
		if (need && used + need > size)
			break;
		rbe = ring_buffer_consume(kt_buffer, cpu, &ts, &lost);
		if (!rbe)
			break;
		need = kt_framed_len(rbe, lost, &id, &plen);
		/*
		 * Readers are serialised by kt_mutex, so the consumed event is the
		 * peeked one and fits. If it ever does not, it is counted as lost
		 * instead of written past `size`.
		 */
		if (WARN_ON_ONCE(!need || used + need > size || plen > U16_MAX)) {
			un->count = lost + 1;
			un->ts = ts;
			break;
		}
		if (lost) {
			kt_put_lost(out + used, ts, lost);
			used += KT_HDR + 8;
		}
		kt_put_hdr(out + used, ts, plen, id);
		memcpy(out + used + KT_HDR, (const u8 *)ring_buffer_event_data(rbe) + 2, plen);
		used += KT_HDR + plen;
	}
	return used;
}

static bool kt_cpu_readable(int cpu)
{
	return !ring_buffer_empty_cpu(kt_buffer, cpu) || !READ_ONCE(kt_enabled);
}

static ssize_t kt_buf_read(struct file *f, char __user *ubuf, size_t cnt, loff_t *ppos)
{
	int cpu = (long)f->private_data;
	size_t size = min_t(size_t, cnt, KT_STAGE_MAX);
	ssize_t ret;
	u8 *stage;

	if (!cnt)
		return 0;
	stage = kvmalloc(size, GFP_KERNEL);
	if (!stage)
		return -ENOMEM;
	for (;;) {
		mutex_lock(&kt_mutex);
		ret = kt_drain(cpu, stage, size);
		if (!ret && (!ring_buffer_empty_cpu(kt_buffer, cpu) ||
			     per_cpu_ptr(&kt_unreturned, cpu)->count))
			ret = -EINVAL; /* the next record does not fit in cnt bytes */
		mutex_unlock(&kt_mutex);
		if (ret)
			break;
		/* empty: end of file once tracing is off, else wait for data */
		if (!READ_ONCE(kt_enabled))
			break;
		if (f->f_flags & O_NONBLOCK) {
			ret = -EAGAIN;
			break;
		}
		ret = wait_event_interruptible(kt_wait, kt_cpu_readable(cpu));
		if (ret)
			break;
	}
	if (ret > 0 && copy_to_user(ubuf, stage, ret))
		ret = -EFAULT;
	kvfree(stage);
	return ret;
}

static __poll_t kt_buf_poll(struct file *f, poll_table *pt)
{
	int cpu = (long)f->private_data;

	poll_wait(f, &kt_wait, pt);
	return kt_cpu_readable(cpu) ? EPOLLIN | EPOLLRDNORM : 0;
}

/*
 * .owner makes an open buffer file hold a module reference: rmmod then
 * fails with EBUSY instead of leaving an open file pointing at freed code.
 */
static const struct file_operations kt_buf_fops = {
	.owner = THIS_MODULE,
	.open = simple_open,
	.read = kt_buf_read,
	.poll = kt_buf_poll,
	.llseek = noop_llseek,
};

static int kt_create_debugfs(void)
{
	struct dentry *evdir, *bufdir;
	char name[16];
	int i, cpu;

	kt_dir = debugfs_create_dir("ktrace", NULL);
	if (IS_ERR(kt_dir))
		return PTR_ERR(kt_dir);
	/*
	 * Only buffers/cpuN carries kernel addresses (%p fields: timer,
	 * function, hrtimer, skbaddr, napi) and page frame numbers: root-only
	 * read, 0400. The other files hold counters, formats and switches
	 * (ABI.md, "Files"). debugfs itself is mounted 0700 by default.
	 */
	debugfs_create_file("enabled", 0644, kt_dir, NULL, &kt_enabled_fops);
	debugfs_create_file("info", 0444, kt_dir, NULL, &kt_info_fops);
	debugfs_create_file("overflow", 0444, kt_dir, NULL, &kt_overflow_fops);
	debugfs_create_file("reset", 0200, kt_dir, NULL, &kt_reset_fops);
	debugfs_create_file("stats", 0444, kt_dir, NULL, &kt_stats_fops);
	evdir = debugfs_create_dir("events", kt_dir);
	for (i = 0; i < KT_NR_EVENTS; i++)
		debugfs_create_file(kt_events[i].name, 0644, evdir, &kt_events[i], &kt_event_fops);
	bufdir = debugfs_create_dir("buffers", kt_dir);
	for_each_possible_cpu(cpu) {
		snprintf(name, sizeof(name), "cpu%d", cpu);
		debugfs_create_file(name, 0400, bufdir, (void *)(long)cpu, &kt_buf_fops);
	}
	return 0;
}

static void kt_detach_all(void)
{
	int i;

	mutex_lock(&kt_mutex);
	kt_set_enabled(false);
	for (i = 0; i < KT_NR_EVENTS; i++)
		kt_event_set(&kt_events[i], false);
	mutex_unlock(&kt_mutex);
	/* no probe may still be running on another CPU when the buffer is freed */
	tracepoint_synchronize_unregister();
}

static int __init kt_init(void)
{
	int i, ret;

	for (i = 0; i < KT_NR_EVENTS; i++) {
		ret = kt_parse_layout(&kt_events[i]);
		if (ret)
			return ret;
	}
	if (!buffer_kib) {
		pr_err("buffer_kib must be > 0\n");
		return -EINVAL;
	}
	kt_buffer = ring_buffer_alloc((unsigned long)buffer_kib * 1024, overwrite ? RB_FL_OVERWRITE : 0);
	if (!kt_buffer)
		return -ENOMEM;
	timer_setup(&kt_wake_timer, kt_wake_fn, 0);
	for_each_kernel_tracepoint(kt_find_tp, NULL);
	for (i = 0; i < KT_NR_EVENTS; i++)
		if (!kt_events[i].tp)
			pr_warn("tracepoint %s not found; event cannot be enabled\n", kt_events[i].name);
	ret = kt_create_debugfs();
	if (ret) {
		debugfs_remove_recursive(kt_dir);
		ring_buffer_free(kt_buffer);
		return ret;
	}
	pr_info("version %s, %u KiB per CPU, %s\n", KT_VERSION, buffer_kib,
		overwrite ? "overwrite" : "discard");
	return 0;
}

static void __exit kt_exit(void)
{
	/* no file operation can start or still be running after this returns */
	debugfs_remove_recursive(kt_dir);
	kt_detach_all();
	/* tracing is off, so the timer no longer re-arms itself; shutdown makes sure nothing can */
	timer_shutdown_sync(&kt_wake_timer);
	ring_buffer_free(kt_buffer);
}

module_init(kt_init);
module_exit(kt_exit);
MODULE_LICENSE("GPL");
MODULE_DESCRIPTION("ktrace: the 2009 ktrace design on mainline tracepoints");
MODULE_VERSION(KT_VERSION);
