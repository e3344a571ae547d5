// tb-pingpong: the cost of one round trip of a byte between two pinned tasks over
// a pair of pipes. Each round trip is 4 system calls (write and read on each side)
// and, since each side blocks in read, 2 wake-ups (sched_waking) and context
// switches (sched_switch). Tasks on different CPUs (-a 0 -b 1): each task switches
// to idle and back, and each wake-up crosses CPUs. On one CPU (-a 0 -b 0): each
// round trip is two switches, from one task to the other and back.
//
// Built into the image by build-in-image.sh. Output (parsed by
// workloads/pipe-pingpong/parse.ts):
//   tb-pingpong start version=1 cpu_a=A cpu_b=B round_trips=N batches=K warmup=W
//   tb-pingpong batch=I round_trips=N ns=T ns_per_rt=X.XXX      (one per batch)
//   tb-pingpong total round_trips_made=W+K*N
// Errors: "tb-pingpong: error: ..." on stderr, exit status 1.
#define _GNU_SOURCE
#include <errno.h>
#include <sched.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#define TB_VERSION 1

static void die(const char *what)
{
	fprintf(stderr, "tb-pingpong: error: %s: %s\n", what, strerror(errno));
	exit(1);
}

static int64_t now_ns(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

static void pin(int cpu)
{
	cpu_set_t set;
	CPU_ZERO(&set);
	CPU_SET(cpu, &set);
	if (sched_setaffinity(0, sizeof(set), &set) != 0)
		die("sched_setaffinity");
}

static long parse_long(const char *s, const char *what, long min)
{
	char *end;
	errno = 0;
	long v = strtol(s, &end, 10);
	if (errno || *end || v < min) {
		fprintf(stderr, "tb-pingpong: error: %s must be an integer >= %ld, got '%s'\n", what, min, s);
		exit(1);
	}
	return v;
}

// one round trip from the initiator's side: send a byte, wait for it to come back
static void bounce(int wfd, int rfd, long n)
{
	char c = 'x';
	for (long i = 0; i < n; i++) {
		if (write(wfd, &c, 1) != 1)
			die("write");
		if (read(rfd, &c, 1) != 1)
			die("read");
	}
}

int main(int argc, char **argv)
{
	long n = 20000, batches = 5, warm = 2000, a = 0, b = 1;
	int opt;
	while ((opt = getopt(argc, argv, "n:k:w:a:b:")) != -1) {
		switch (opt) {
		case 'n': n = parse_long(optarg, "-n", 1); break;
		case 'k': batches = parse_long(optarg, "-k", 1); break;
		case 'w': warm = parse_long(optarg, "-w", 0); break;
		case 'a': a = parse_long(optarg, "-a", 0); break;
		case 'b': b = parse_long(optarg, "-b", 0); break;
		default:
			fprintf(stderr, "usage: tb-pingpong [-n round-trips-per-batch] [-k batches] [-w warm-up] [-a cpu] [-b cpu]\n");
			return 2;
		}
	}
	// a == b: both tasks on one CPU, each round trip two context switches there
	int ab[2], ba[2];
	if (pipe(ab) != 0 || pipe(ba) != 0)
		die("pipe");
	printf("tb-pingpong start version=%d cpu_a=%ld cpu_b=%ld round_trips=%ld batches=%ld warmup=%ld\n",
	       TB_VERSION, a, b, n, batches, warm);
	fflush(stdout);

	pid_t child = fork();
	if (child < 0)
		die("fork");
	if (child == 0) {
		// the echo side: read a byte, send it back, until the initiator closes its end
		pin((int)b);
		close(ab[1]);
		close(ba[0]);
		char c;
		ssize_t r;
		while ((r = read(ab[0], &c, 1)) == 1)
			if (write(ba[1], &c, 1) != 1)
				die("echo write");
		if (r < 0)
			die("echo read");
		_exit(0);
	}
	pin((int)a);
	close(ab[0]);
	close(ba[1]);
	bounce(ab[1], ba[0], warm); // warm-up: fault in, let both CPUs settle; not timed
	for (long k = 1; k <= batches; k++) {
		int64_t t0 = now_ns();
		bounce(ab[1], ba[0], n);
		int64_t ns = now_ns() - t0;
		printf("tb-pingpong batch=%ld round_trips=%ld ns=%lld ns_per_rt=%.3f\n", k, n, (long long)ns, (double)ns / (double)n);
	}
	close(ab[1]);
	int st;
	if (waitpid(child, &st, 0) != child || !WIFEXITED(st) || WEXITSTATUS(st) != 0) {
		fprintf(stderr, "tb-pingpong: error: echo process failed\n");
		return 1;
	}
	printf("tb-pingpong total round_trips_made=%ld\n", warm + batches * n);
	return 0;
}
