// SPDX-License-Identifier: GPL-2.0
/*
 * One probe per event. Each probe fills a packed struct whose size is known at
 * compile time (plus inline strings, bounded by their maximum), then copies it
 * into the ring buffer behind the event id. No va_args, no format parsing on
 * the hot path: the format strings below only describe the payload to readers.
 */
#include <linux/blk-mq.h>
#include <linux/blkdev.h>
#include <linux/blktrace_api.h>
#include <linux/hrtimer.h>
#include <linux/mm.h>
#include <linux/netdevice.h>
#include <linux/sched.h>
#include <linux/skbuff.h>
#include <linux/timer.h>
#include <asm/syscall.h>

/*
 * The trace headers, without CREATE_TRACE_POINTS, only declare
 * trace_<tp>() and register_trace_<tp>(): enough to check our probe types
 * against the kernel's TP_PROTO below, and nothing is linked against.
 */
#include <trace/events/sched.h>
#include <trace/events/timer.h>
#include <trace/events/irq.h>
#include <trace/events/kmem.h>
#include <trace/events/syscalls.h>
#include <trace/events/net.h>
#include <trace/events/napi.h>
#include <trace/events/block.h>

#include "ktrace.h"

/*
 * register_trace_<tp>() takes `void (*probe)(void *data, TP_PROTO)`. If our
 * probe's type differs, the kernel would call it with other arguments and we
 * would record garbage or fault: refuse to build instead.
 */
#define KT_PROBE_TYPE_OK(tp, probe) \
	__same_type(&register_trace_##tp, (int (*)(typeof(&probe), void *))NULL)
#define KT_CHECK_PROTO(tp, probe)						\
	static_assert(KT_PROBE_TYPE_OK(tp, probe),				\
		      "ktrace: probe " #probe " does not match TP_PROTO of tracepoint " #tp \
		      " in this kernel's headers; update ktrace/events.c")

/* gcc checks each payload field against its conversion (-Werror=format in Kbuild) */
static inline __printf(1, 2) void kt_check_format(const char *fmt, ...) { }
#define KT_FORMAT_CHECK(fmt, ...) do { if (0) kt_check_format(fmt, __VA_ARGS__); } while (0)

#define KT_COMM 16 /* TASK_COMM_LEN */

/* ---- sched_switch --------------------------------------------------- */
#define FMT_sched_switch "prev_pid=%d prev_prio=%d prev_state=%x preempt=%c next_pid=%d next_prio=%d prev_comm=%s next_comm=%s"
struct kt_sched_switch {
	s32 prev_pid;
	s32 prev_prio;
	u32 prev_state;
	u8 preempt;
	s32 next_pid;
	s32 next_prio;
	char str[2 * KT_COMM];
} __packed;

static void kt_probe_sched_switch(void *data, bool preempt, struct task_struct *prev,
				  struct task_struct *next, unsigned int prev_state)
{
	struct kt_sched_switch p;
	unsigned int n;

	if (!kt_should_trace(KT_ID_sched_switch))
		return;
	p.prev_pid = prev->pid;
	p.prev_prio = prev->prio;
	p.prev_state = prev_state;
	p.preempt = preempt;
	p.next_pid = next->pid;
	p.next_prio = next->prio;
	n = kt_put_str(p.str, prev->comm, KT_COMM);
	n += kt_put_str(p.str + n, next->comm, KT_COMM);
	KT_FORMAT_CHECK(FMT_sched_switch, p.prev_pid, p.prev_prio, p.prev_state, p.preempt,
			p.next_pid, p.next_prio, p.str, p.str);
	kt_write(KT_ID_sched_switch, &p, offsetof(struct kt_sched_switch, str) + n);
}
KT_CHECK_PROTO(sched_switch, kt_probe_sched_switch);

/* ---- sched_waking --------------------------------------------------- */
#define FMT_sched_waking "pid=%d prio=%d target_cpu=%d comm=%s"
struct kt_sched_waking {
	s32 pid;
	s32 prio;
	s32 target_cpu;
	char str[KT_COMM];
} __packed;

static void kt_probe_sched_waking(void *data, struct task_struct *t)
{
	struct kt_sched_waking p;
	unsigned int n;

	if (!kt_should_trace(KT_ID_sched_waking))
		return;
	p.pid = t->pid;
	p.prio = t->prio;
	p.target_cpu = task_cpu(t);
	n = kt_put_str(p.str, t->comm, KT_COMM);
	KT_FORMAT_CHECK(FMT_sched_waking, p.pid, p.prio, p.target_cpu, p.str);
	kt_write(KT_ID_sched_waking, &p, offsetof(struct kt_sched_waking, str) + n);
}
KT_CHECK_PROTO(sched_waking, kt_probe_sched_waking);

/* ---- timer_start ---------------------------------------------------- */
#define FMT_timer_start "timer=%p function=%p expires=%lu bucket_expiry=%lu flags=%x"
struct kt_timer_start {
	void *timer;
	void *function;
	unsigned long expires;
	unsigned long bucket_expiry;
	u32 flags;
} __packed;

static void kt_probe_timer_start(void *data, struct timer_list *timer, unsigned long bucket_expiry)
{
	struct kt_timer_start p;

	if (!kt_should_trace(KT_ID_timer_start))
		return;
	p.timer = timer;
	p.function = timer->function;
	p.expires = timer->expires;
	p.bucket_expiry = bucket_expiry;
	p.flags = timer->flags;
	KT_FORMAT_CHECK(FMT_timer_start, p.timer, p.function, p.expires, p.bucket_expiry, p.flags);
	kt_write(KT_ID_timer_start, &p, sizeof(p));
}
KT_CHECK_PROTO(timer_start, kt_probe_timer_start);

/* ---- hrtimer_start ---------------------------------------------------
 * Mainline 6.12 has hrtimer_start(hrtimer, mode); Debian's 6.12 carries a
 * backport that adds `bool was_armed`. Both probes are built and the one whose
 * type matches the headers' register_trace_hrtimer_start() is registered:
 * the prototype decides, never the kernel version.
 */
#define FMT_hrtimer_start2 "hrtimer=%p function=%p expires=%lld softexpires=%lld mode=%u"
#define FMT_hrtimer_start3 FMT_hrtimer_start2 " was_armed=%c"
struct kt_hrtimer_start {
	void *hrtimer;
	void *function;
	s64 expires;
	s64 softexpires;
	u32 mode;
	u8 was_armed; /* written only by the 3-argument probe */
} __packed;

static __always_inline void kt_fill_hrtimer(struct kt_hrtimer_start *p, struct hrtimer *t,
					    enum hrtimer_mode mode)
{
	p->hrtimer = t;
	p->function = t->function;
	p->expires = hrtimer_get_expires_tv64(t);
	p->softexpires = ktime_to_ns(hrtimer_get_softexpires(t));
	p->mode = mode;
}

static void __maybe_unused kt_probe_hrtimer_start2(void *data, struct hrtimer *t,
						   enum hrtimer_mode mode)
{
	struct kt_hrtimer_start p;

	if (!kt_should_trace(KT_ID_hrtimer_start))
		return;
	kt_fill_hrtimer(&p, t, mode);
	KT_FORMAT_CHECK(FMT_hrtimer_start2, p.hrtimer, p.function, p.expires, p.softexpires, p.mode);
	kt_write(KT_ID_hrtimer_start, &p, offsetof(struct kt_hrtimer_start, was_armed));
}

static void __maybe_unused kt_probe_hrtimer_start3(void *data, struct hrtimer *t,
						   enum hrtimer_mode mode, bool was_armed)
{
	struct kt_hrtimer_start p;

	if (!kt_should_trace(KT_ID_hrtimer_start))
		return;
	kt_fill_hrtimer(&p, t, mode);
	p.was_armed = was_armed;
	KT_FORMAT_CHECK(FMT_hrtimer_start3, p.hrtimer, p.function, p.expires, p.softexpires, p.mode,
			p.was_armed);
	kt_write(KT_ID_hrtimer_start, &p, sizeof(p));
}

#define KT_HRTIMER_HAS_WAS_ARMED KT_PROBE_TYPE_OK(hrtimer_start, kt_probe_hrtimer_start3)
static_assert(KT_HRTIMER_HAS_WAS_ARMED || KT_PROBE_TYPE_OK(hrtimer_start, kt_probe_hrtimer_start2),
	      "ktrace: TP_PROTO of hrtimer_start is neither (hrtimer, mode) nor (hrtimer, mode, was_armed); update ktrace/events.c");

/* ---- softirq_entry / softirq_exit / softirq_raise ------------------- */
#define FMT_softirq "vec=%u"
struct kt_softirq {
	u32 vec;
} __packed;

#define KT_SOFTIRQ_PROBE(ev)							\
static void kt_probe_##ev(void *data, unsigned int vec)				\
{										\
	struct kt_softirq p;							\
										\
	if (!kt_should_trace(KT_ID_##ev))					\
		return;								\
	p.vec = vec;								\
	KT_FORMAT_CHECK(FMT_softirq, p.vec);					\
	kt_write(KT_ID_##ev, &p, sizeof(p));					\
}										\
KT_CHECK_PROTO(ev, kt_probe_##ev)

KT_SOFTIRQ_PROBE(softirq_entry);
KT_SOFTIRQ_PROBE(softirq_exit);
KT_SOFTIRQ_PROBE(softirq_raise);

/* ---- mm_page_alloc / mm_page_free ----------------------------------- */
#define FMT_mm_page_alloc "pfn=%lu order=%u gfp_flags=%x migratetype=%d"
struct kt_mm_page_alloc {
	unsigned long pfn; /* ULONG_MAX when the allocation failed (page == NULL) */
	u32 order;
	u32 gfp_flags;
	s32 migratetype;
} __packed;

static void kt_probe_mm_page_alloc(void *data, struct page *page, unsigned int order,
				   gfp_t gfp_flags, int migratetype)
{
	struct kt_mm_page_alloc p;

	if (!kt_should_trace(KT_ID_mm_page_alloc))
		return;
	p.pfn = page ? page_to_pfn(page) : ULONG_MAX;
	p.order = order;
	p.gfp_flags = (__force u32)gfp_flags;
	p.migratetype = migratetype;
	KT_FORMAT_CHECK(FMT_mm_page_alloc, p.pfn, p.order, p.gfp_flags, p.migratetype);
	kt_write(KT_ID_mm_page_alloc, &p, sizeof(p));
}
KT_CHECK_PROTO(mm_page_alloc, kt_probe_mm_page_alloc);

#define FMT_mm_page_free "pfn=%lu order=%u"
struct kt_mm_page_free {
	unsigned long pfn;
	u32 order;
} __packed;

static void kt_probe_mm_page_free(void *data, struct page *page, unsigned int order)
{
	struct kt_mm_page_free p;

	if (!kt_should_trace(KT_ID_mm_page_free))
		return;
	p.pfn = page_to_pfn(page);
	p.order = order;
	KT_FORMAT_CHECK(FMT_mm_page_free, p.pfn, p.order);
	kt_write(KT_ID_mm_page_free, &p, sizeof(p));
}
KT_CHECK_PROTO(mm_page_free, kt_probe_mm_page_free);

/* ---- sys_enter / sys_exit ------------------------------------------- */
/* all six argument registers, as ftrace's raw_syscalls:sys_enter records */
#define FMT_sys_enter "id=%ld args=%lx,%lx,%lx,%lx,%lx,%lx"
struct kt_sys_enter {
	long id;
	unsigned long args[6];
} __packed;

static void kt_probe_sys_enter(void *data, struct pt_regs *regs, long id)
{
	struct kt_sys_enter p;
	unsigned long args[6];

	if (!kt_should_trace(KT_ID_sys_enter))
		return;
	p.id = id;
	syscall_get_arguments(current, regs, args);
	memcpy(p.args, args, sizeof(args));
	KT_FORMAT_CHECK(FMT_sys_enter, p.id, p.args[0], p.args[1], p.args[2], p.args[3], p.args[4],
			p.args[5]);
	kt_write(KT_ID_sys_enter, &p, sizeof(p));
}
KT_CHECK_PROTO(sys_enter, kt_probe_sys_enter);

#define FMT_sys_exit "id=%ld ret=%ld"
struct kt_sys_exit {
	long id;
	long ret;
} __packed;

static void kt_probe_sys_exit(void *data, struct pt_regs *regs, long ret)
{
	struct kt_sys_exit p;

	if (!kt_should_trace(KT_ID_sys_exit))
		return;
	p.id = syscall_get_nr(current, regs);
	p.ret = ret;
	KT_FORMAT_CHECK(FMT_sys_exit, p.id, p.ret);
	kt_write(KT_ID_sys_exit, &p, sizeof(p));
}
KT_CHECK_PROTO(sys_exit, kt_probe_sys_exit);

/* ---- net_dev_xmit / netif_receive_skb / napi_poll ------------------- */
#define FMT_net_dev_xmit "skbaddr=%p len=%u rc=%d dev=%s"
struct kt_net_dev_xmit {
	void *skbaddr;
	u32 len;
	s32 rc;
	char str[IFNAMSIZ];
} __packed;

static void kt_probe_net_dev_xmit(void *data, struct sk_buff *skb, int rc, struct net_device *dev,
				  unsigned int skb_len)
{
	struct kt_net_dev_xmit p;
	unsigned int n;

	if (!kt_should_trace(KT_ID_net_dev_xmit))
		return;
	p.skbaddr = skb;
	p.len = skb_len;
	p.rc = rc;
	n = kt_put_str(p.str, dev->name, IFNAMSIZ);
	KT_FORMAT_CHECK(FMT_net_dev_xmit, p.skbaddr, p.len, p.rc, p.str);
	kt_write(KT_ID_net_dev_xmit, &p, offsetof(struct kt_net_dev_xmit, str) + n);
}
KT_CHECK_PROTO(net_dev_xmit, kt_probe_net_dev_xmit);

#define FMT_netif_receive_skb "skbaddr=%p len=%u dev=%s"
struct kt_netif_receive_skb {
	void *skbaddr;
	u32 len;
	char str[IFNAMSIZ];
} __packed;

static void kt_probe_netif_receive_skb(void *data, struct sk_buff *skb)
{
	struct kt_netif_receive_skb p;
	unsigned int n;

	if (!kt_should_trace(KT_ID_netif_receive_skb))
		return;
	p.skbaddr = skb;
	p.len = skb->len;
	n = kt_put_str(p.str, skb->dev ? skb->dev->name : "", IFNAMSIZ);
	KT_FORMAT_CHECK(FMT_netif_receive_skb, p.skbaddr, p.len, p.str);
	kt_write(KT_ID_netif_receive_skb, &p, offsetof(struct kt_netif_receive_skb, str) + n);
}
KT_CHECK_PROTO(netif_receive_skb, kt_probe_netif_receive_skb);

#define FMT_napi_poll "napi=%p work=%d budget=%d dev=%s"
struct kt_napi_poll {
	void *napi;
	s32 work;
	s32 budget;
	char str[IFNAMSIZ];
} __packed;

static void kt_probe_napi_poll(void *data, struct napi_struct *napi, int work, int budget)
{
	struct kt_napi_poll p;
	unsigned int n;

	if (!kt_should_trace(KT_ID_napi_poll))
		return;
	p.napi = napi;
	p.work = work;
	p.budget = budget;
	n = kt_put_str(p.str, napi->dev ? napi->dev->name : "", IFNAMSIZ);
	KT_FORMAT_CHECK(FMT_napi_poll, p.napi, p.work, p.budget, p.str);
	kt_write(KT_ID_napi_poll, &p, offsetof(struct kt_napi_poll, str) + n);
}
KT_CHECK_PROTO(napi_poll, kt_probe_napi_poll);

/* ---- block_rq_issue / block_rq_complete ----------------------------- */
static __always_inline u32 kt_rq_dev(struct request *rq)
{
	return rq->q->disk ? (u32)disk_devt(rq->q->disk) : 0;
}

#define FMT_block_rq_issue "dev=%u sector=%llu nr_sector=%u bytes=%u cmd_flags=%x comm=%s"
struct kt_block_rq_issue {
	u32 dev;
	u64 sector;
	u32 nr_sector;
	u32 bytes;
	u32 cmd_flags;
	char str[KT_COMM];
} __packed;

static void kt_probe_block_rq_issue(void *data, struct request *rq)
{
	struct kt_block_rq_issue p;
	unsigned int n;

	if (!kt_should_trace(KT_ID_block_rq_issue))
		return;
	p.dev = kt_rq_dev(rq);
	p.sector = blk_rq_trace_sector(rq);
	p.nr_sector = blk_rq_trace_nr_sectors(rq);
	p.bytes = blk_rq_bytes(rq);
	p.cmd_flags = (__force u32)rq->cmd_flags;
	n = kt_put_str(p.str, current->comm, KT_COMM);
	KT_FORMAT_CHECK(FMT_block_rq_issue, p.dev, p.sector, p.nr_sector, p.bytes, p.cmd_flags, p.str);
	kt_write(KT_ID_block_rq_issue, &p, offsetof(struct kt_block_rq_issue, str) + n);
}
KT_CHECK_PROTO(block_rq_issue, kt_probe_block_rq_issue);

#define FMT_block_rq_complete "dev=%u sector=%llu nr_sector=%u error=%d cmd_flags=%x"
struct kt_block_rq_complete {
	u32 dev;
	u64 sector;
	u32 nr_sector;
	s32 error;
	u32 cmd_flags;
} __packed;

static void kt_probe_block_rq_complete(void *data, struct request *rq, blk_status_t error,
				       unsigned int nr_bytes)
{
	struct kt_block_rq_complete p;

	if (!kt_should_trace(KT_ID_block_rq_complete))
		return;
	p.dev = kt_rq_dev(rq);
	p.sector = blk_rq_trace_sector(rq);
	p.nr_sector = nr_bytes >> 9;
	p.error = blk_status_to_errno(error);
	p.cmd_flags = (__force u32)rq->cmd_flags;
	KT_FORMAT_CHECK(FMT_block_rq_complete, p.dev, p.sector, p.nr_sector, p.error, p.cmd_flags);
	kt_write(KT_ID_block_rq_complete, &p, sizeof(p));
}
KT_CHECK_PROTO(block_rq_complete, kt_probe_block_rq_complete);

/* ---- the table: index == event id ----------------------------------- */
#define KT_EV(ev, fmt, fixed, nstr) \
	[KT_ID_##ev] = { .name = #ev, .format = fmt, .probe = kt_probe_##ev, \
			 .fixed_size = fixed, .nstrings = nstr }
#define KT_FIXED(ev) sizeof(struct kt_##ev)
#define KT_BEFORE_STR(ev) offsetof(struct kt_##ev, str)

struct kt_event kt_events[KT_NR_EVENTS] = {
	KT_EV(sched_switch, FMT_sched_switch, KT_BEFORE_STR(sched_switch), 2),
	KT_EV(sched_waking, FMT_sched_waking, KT_BEFORE_STR(sched_waking), 1),
	KT_EV(timer_start, FMT_timer_start, KT_FIXED(timer_start), 0),
	[KT_ID_hrtimer_start] = {
		.name = "hrtimer_start",
		.format = __builtin_choose_expr(KT_HRTIMER_HAS_WAS_ARMED,
						FMT_hrtimer_start3, FMT_hrtimer_start2),
		.probe = __builtin_choose_expr(KT_HRTIMER_HAS_WAS_ARMED,
					       (void *)kt_probe_hrtimer_start3,
					       (void *)kt_probe_hrtimer_start2),
		.fixed_size = __builtin_choose_expr(KT_HRTIMER_HAS_WAS_ARMED,
						    sizeof(struct kt_hrtimer_start),
						    offsetof(struct kt_hrtimer_start, was_armed)),
	},
	KT_EV(softirq_entry, FMT_softirq, KT_FIXED(softirq), 0),
	KT_EV(softirq_exit, FMT_softirq, KT_FIXED(softirq), 0),
	KT_EV(softirq_raise, FMT_softirq, KT_FIXED(softirq), 0),
	KT_EV(mm_page_alloc, FMT_mm_page_alloc, KT_FIXED(mm_page_alloc), 0),
	KT_EV(mm_page_free, FMT_mm_page_free, KT_FIXED(mm_page_free), 0),
	KT_EV(sys_enter, FMT_sys_enter, KT_FIXED(sys_enter), 0),
	KT_EV(sys_exit, FMT_sys_exit, KT_FIXED(sys_exit), 0),
	KT_EV(net_dev_xmit, FMT_net_dev_xmit, KT_BEFORE_STR(net_dev_xmit), 1),
	KT_EV(netif_receive_skb, FMT_netif_receive_skb,
	      KT_BEFORE_STR(netif_receive_skb), 1),
	KT_EV(napi_poll, FMT_napi_poll, KT_BEFORE_STR(napi_poll), 1),
	KT_EV(block_rq_issue, FMT_block_rq_issue, KT_BEFORE_STR(block_rq_issue), 1),
	KT_EV(block_rq_complete, FMT_block_rq_complete,
	      KT_FIXED(block_rq_complete), 0),
};
