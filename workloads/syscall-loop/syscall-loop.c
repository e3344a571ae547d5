// tb-syscall-loop: the cost of one trivial system call, per CPU.
//
// One thread per CPU, each pinned with sched_setaffinity, runs a short warm-up and
// then times N raw getppid() calls with CLOCK_MONOTONIC. The raw syscall() is used so
// no libc can answer from a cache; getppid takes no locks and touches almost nothing,
// so what is measured is kernel entry/exit plus whatever a tracer hooks onto it.
// All threads start timing together (barrier) so a tracer's per-CPU buffers are
// exercised concurrently, as in the real workloads.
//
// Output (parsed on the host by workloads/syscall-loop/parse.ts; keep in sync):
//   tb-syscall-loop start version=1 syscall=getppid calls_per_cpu=N cpus=C
//   tb-syscall-loop cpu=K calls=N ns=T ns_per_call=X.XXX      (one per CPU, CPU order)
//   tb-syscall-loop total cpus=C calls=N*C ns_per_call_mean=X.XXX ns_per_call_max=X.XXX
// Errors go to stderr as "tb-syscall-loop: error: ..." with exit status 1.
#define _GNU_SOURCE
#include <errno.h>
#include <pthread.h>
#include <sched.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

#define TB_VERSION 1

struct worker {
	pthread_t thread;
	int cpu;
	long calls;
	int64_t ns;
	int err; // errno of a failed sched_setaffinity, 0 if pinned
};

static pthread_barrier_t start_barrier;

static void die(const char *what)
{
	fprintf(stderr, "tb-syscall-loop: error: %s\n", what);
	exit(1);
}

static int64_t now_ns(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

static void calls(long n)
{
	for (long i = 0; i < n; i++)
		syscall(SYS_getppid);
}

static void *work(void *arg)
{
	struct worker *w = arg;
	cpu_set_t set;

	CPU_ZERO(&set);
	CPU_SET(w->cpu, &set);
	if (sched_setaffinity(0, sizeof(set), &set) != 0)
		w->err = errno;
	// A tenth of the run, at least 1000 calls: enough to fault in the code and
	// settle the CPU's caches and branch predictors before timing starts.
	calls(w->calls / 10 > 1000 ? w->calls / 10 : 1000);
	pthread_barrier_wait(&start_barrier);
	int64_t t0 = now_ns();
	calls(w->calls);
	w->ns = now_ns() - t0;
	return NULL;
}

static long parse_long(const char *s, const char *what)
{
	char *end;
	errno = 0;
	long v = strtol(s, &end, 10);
	if (errno || *end || v < 1) {
		fprintf(stderr, "tb-syscall-loop: error: %s must be a positive integer, got '%s'\n", what, s);
		exit(1);
	}
	return v;
}

int main(int argc, char **argv)
{
	long n = 200000, want = 0;
	int opt;

	while ((opt = getopt(argc, argv, "n:c:")) != -1) {
		switch (opt) {
		case 'n': n = parse_long(optarg, "-n"); break;
		case 'c': want = parse_long(optarg, "-c"); break;
		default:
			fprintf(stderr, "usage: tb-syscall-loop [-n calls-per-cpu] [-c cpus]\n");
			return 2;
		}
	}

	// The CPUs we may run on, in order; -c takes the first ones.
	cpu_set_t allowed;
	if (sched_getaffinity(0, sizeof(allowed), &allowed) != 0)
		die("sched_getaffinity failed");
	int avail = CPU_COUNT(&allowed);
	if (want == 0)
		want = avail;
	if (want > avail) {
		fprintf(stderr, "tb-syscall-loop: error: -c %ld but only %d CPUs usable\n", want, avail);
		return 1;
	}

	struct worker *ws = calloc(want, sizeof(*ws));
	if (!ws)
		die("out of memory");
	for (int cpu = 0, k = 0; k < want && cpu < CPU_SETSIZE; cpu++)
		if (CPU_ISSET(cpu, &allowed))
			ws[k++] = (struct worker){ .cpu = cpu, .calls = n };

	if (pthread_barrier_init(&start_barrier, NULL, want) != 0)
		die("pthread_barrier_init failed");
	printf("tb-syscall-loop start version=%d syscall=getppid calls_per_cpu=%ld cpus=%ld\n",
	       TB_VERSION, n, want);
	fflush(stdout);
	for (long k = 0; k < want; k++)
		if (pthread_create(&ws[k].thread, NULL, work, &ws[k]) != 0)
			die("pthread_create failed");

	double sum = 0, max = 0;
	for (long k = 0; k < want; k++) {
		pthread_join(ws[k].thread, NULL);
		if (ws[k].err) {
			fprintf(stderr, "tb-syscall-loop: error: cannot pin to cpu %d: %s\n",
				ws[k].cpu, strerror(ws[k].err));
			return 1;
		}
	}
	for (long k = 0; k < want; k++) {
		double per = (double)ws[k].ns / (double)ws[k].calls;
		printf("tb-syscall-loop cpu=%d calls=%ld ns=%lld ns_per_call=%.3f\n",
		       ws[k].cpu, ws[k].calls, (long long)ws[k].ns, per);
		sum += per;
		if (per > max)
			max = per;
	}
	printf("tb-syscall-loop total cpus=%ld calls=%ld ns_per_call_mean=%.3f ns_per_call_max=%.3f\n",
	       want, n * want, sum / want, max);
	return 0;
}
