/*
 * musltool's helper inside verification sessions (a static program for the host ISA; the
 * kernel runs it natively in a container of any platform).
 *
 *   helper serve
 *       Process 1 of a session container: reaps orphans, exits on SIGTERM or SIGINT.
 *   helper run [--isolate RESOLV HOSTS] [--dns NAME=IPV4 ...] [--linux32] SECONDS PROGRAM [ARGS ...]
 *       Runs PROGRAM in its own process group, kills the group after SECONDS, and appends one
 *       line to stderr saying how it ended: "@@musltool-status exit N", "signal N" or
 *       "timeout". Exits 0 when it could run PROGRAM at all. When PROGRAM ends, every process
 *       it left behind ends too, daemons included: the helper is a child subreaper, so
 *       whatever PROGRAM's descendants orphan (a setsid and double fork) becomes its child,
 *       and it kills its children until none is left. No process outlives the run holding
 *       its output open.
 *       --dns serves those names on 127.0.0.1:53 (UDP) while PROGRAM runs: A records for them,
 *       NXDOMAIN for every other name. It is the resolver that a "static musl does DNS with
 *       nothing installed" claim is checked against, with no hosts file involved.
 *       --isolate (root, for runs on the host) first enters a new network namespace with only
 *       loopback up and a private mount namespace in which RESOLV and HOSTS are bound over
 *       /etc/resolv.conf and /etc/hosts, as a container would have them.
 *       --linux32 runs PROGRAM with the PER_LINUX32 personality (as setarch linux32 does):
 *       the 32-bit programs it starts that the kernel runs itself say i686 to uname, not the
 *       64-bit host's machine.
 *
 * MUSLTOOL_HELPER_DNS_PORT overrides port 53 (the tests use it on the host).
 */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <ctype.h>
#include <dirent.h>
#include <errno.h>
#include <net/if.h>
#include <netinet/in.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mount.h>
#include <sys/personality.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#define STATUS_MARK "@@musltool-status"
#define MAX_NAMES 16

struct record {
	char name[256];
	struct in_addr addr;
};

static volatile sig_atomic_t stopping;
static volatile sig_atomic_t timed_out;

static void on_stop(int sig)
{
	(void)sig;
	stopping = 1;
}

static void on_alarm(int sig)
{
	(void)sig;
	timed_out = 1;
}

static void reap(void)
{
	while (waitpid(-1, NULL, WNOHANG) > 0)
		;
}

/* The query's name in dotted form; returns the offset after QNAME, or 0 if malformed. */
static size_t read_qname(const unsigned char *msg, size_t len, char *out, size_t out_len)
{
	size_t pos = 12, used = 0;

	while (pos < len && msg[pos]) {
		size_t label = msg[pos++];

		if (label > 63 || pos + label > len || used + label + 2 > out_len)
			return 0;
		if (used)
			out[used++] = '.';
		for (size_t i = 0; i < label; i++)
			out[used++] = (char)tolower(msg[pos + i]);
		pos += label;
	}
	if (pos >= len)
		return 0;
	out[used] = '\0';
	return pos + 1;
}

static size_t answer(const unsigned char *query, size_t len, unsigned char *reply,
		     const struct record *records, int count)
{
	char name[256];
	size_t end = read_qname(query, len, name, sizeof name);
	unsigned qtype;
	const struct record *found = NULL;

	if (!end || end + 4 > len || query[4] != 0 || query[5] != 1)
		return 0;
	qtype = (unsigned)query[end] << 8 | query[end + 1];
	for (int i = 0; i < count; i++)
		if (strcmp(records[i].name, name) == 0)
			found = &records[i];
	memcpy(reply, query, end + 4);
	reply[2] = 0x84 | (query[2] & 0x79); /* QR, AA, the query's opcode and RD */
	reply[3] = 0x80 | (found ? 0 : 3); /* RA; NXDOMAIN for names it does not serve */
	memset(reply + 6, 0, 6);
	if (!found || qtype != 1)
		return end + 4; /* NXDOMAIN, or the name with no record of that type */
	reply[7] = 1;
	unsigned char rr[16] = { 0xc0, 0x0c, 0, 1, 0, 1, 0, 0, 0, 60, 0, 4 };
	memcpy(rr + 12, &found->addr, 4);
	memcpy(reply + end + 4, rr, sizeof rr);
	return end + 4 + sizeof rr;
}

static int parse_record(const char *text, struct record *record)
{
	const char *eq = strchr(text, '=');

	if (!eq || eq == text || (size_t)(eq - text) >= sizeof record->name ||
	    inet_pton(AF_INET, eq + 1, &record->addr) != 1)
		return -1;
	for (size_t i = 0; i < (size_t)(eq - text); i++)
		record->name[i] = (char)tolower((unsigned char)text[i]);
	record->name[eq - text] = '\0';
	return 0;
}

static int dns_socket(void)
{
	const char *port = getenv("MUSLTOOL_HELPER_DNS_PORT");
	struct sockaddr_in addr = { .sin_family = AF_INET,
				    .sin_port = htons(port ? (unsigned short)atoi(port) : 53) };
	int sock = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);

	addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	if (sock < 0 || bind(sock, (struct sockaddr *)&addr, sizeof addr) < 0) {
		perror("helper: DNS socket on 127.0.0.1");
		return -1;
	}
	return sock;
}

/* The DNS server: runs until its parent (the run) is gone. */
static void dns_loop(int sock, const struct record *records, int count)
{
	prctl(PR_SET_PDEATHSIG, SIGKILL);
	for (;;) {
		unsigned char query[512], reply[512 + 16];
		struct sockaddr_in from;
		socklen_t from_len = sizeof from;
		ssize_t got = recvfrom(sock, query, sizeof query, 0, (struct sockaddr *)&from, &from_len);
		size_t size;

		if (got < 12)
			continue;
		size = answer(query, (size_t)got, reply, records, count);
		if (size)
			sendto(sock, reply, size, 0, (struct sockaddr *)&from, from_len);
	}
}

static int loopback_up(void)
{
	struct ifreq ifr = { 0 };
	int sock = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);

	strcpy(ifr.ifr_name, "lo");
	if (sock < 0 || ioctl(sock, SIOCGIFFLAGS, &ifr) < 0)
		return -1;
	ifr.ifr_flags |= IFF_UP | IFF_RUNNING;
	if (ioctl(sock, SIOCSIFFLAGS, &ifr) < 0)
		return -1;
	close(sock);
	return 0;
}

static int isolate(const char *resolv, const char *hosts)
{
	if (unshare(CLONE_NEWNET | CLONE_NEWNS) < 0) {
		perror("helper: --isolate needs root (unshare)");
		return -1;
	}
	if (mount("none", "/", NULL, MS_REC | MS_PRIVATE, NULL) < 0 ||
	    mount(resolv, "/etc/resolv.conf", NULL, MS_BIND, NULL) < 0 ||
	    mount(hosts, "/etc/hosts", NULL, MS_BIND, NULL) < 0) {
		perror("helper: --isolate bind mounts");
		return -1;
	}
	if (loopback_up() < 0) {
		perror("helper: --isolate loopback");
		return -1;
	}
	return 0;
}

static void on_child(int sig)
{
	(void)sig;
}

/* Process 1: reaps every orphan as soon as it ends, until SIGTERM or SIGINT. */
static int serve(void)
{
	struct sigaction stop = { .sa_handler = on_stop }, child = { .sa_handler = on_child };
	sigset_t blocked, waiting;

	sigaction(SIGTERM, &stop, NULL);
	sigaction(SIGINT, &stop, NULL);
	sigaction(SIGCHLD, &child, NULL);
	sigemptyset(&blocked);
	sigaddset(&blocked, SIGCHLD);
	sigaddset(&blocked, SIGTERM);
	sigaddset(&blocked, SIGINT);
	sigprocmask(SIG_BLOCK, &blocked, &waiting);
	sigdelset(&waiting, SIGCHLD);
	sigdelset(&waiting, SIGTERM);
	sigdelset(&waiting, SIGINT);
	while (!stopping) {
		reap();
		sigsuspend(&waiting);
	}
	return 0;
}

/* The parent PID in /proc/PID/stat, or -1 (the command name may hold spaces and parentheses). */
static pid_t parent_of(const char *pid)
{
	char path[64], text[512];
	FILE *stat;
	size_t got;
	char *end;

	snprintf(path, sizeof path, "/proc/%s/stat", pid);
	stat = fopen(path, "re");
	if (!stat)
		return -1;
	got = fread(text, 1, sizeof text - 1, stat);
	fclose(stat);
	text[got] = '\0';
	end = strrchr(text, ')');
	if (!end || end[1] != ' ' || !end[2] || end[3] != ' ')
		return -1;
	return (pid_t)atoi(end + 4);
}

/* SIGKILL to every child of the helper but `keep`; how many there were. */
static int kill_children(pid_t keep)
{
	DIR *proc = opendir("/proc");
	struct dirent *entry;
	pid_t self = getpid();
	int found = 0;

	if (!proc)
		return 0;
	while ((entry = readdir(proc))) {
		pid_t pid;

		if (!isdigit((unsigned char)entry->d_name[0]))
			continue;
		pid = (pid_t)atoi(entry->d_name);
		if (pid != keep && parent_of(entry->d_name) == self) {
			kill(pid, SIGKILL);
			found++;
		}
	}
	closedir(proc);
	return found;
}

/* Whatever the run left: kill the helper's children (orphans come to it) until none is left;
 * a killed process's own children then come to the helper and go in the next round. */
static void end_descendants(pid_t keep)
{
	for (int round = 0; round < 10000 && kill_children(keep); round++) {
		while (waitpid(-1, NULL, WNOHANG) > 0)
			;
		usleep(1000);
	}
	while (waitpid(-1, NULL, WNOHANG) > 0)
		;
}

static int run(int argc, char **argv)
{
	struct record records[MAX_NAMES];
	int count = 0, seconds, status, linux32 = 0;
	pid_t child, server = -1;
	struct sigaction alarm_action = { .sa_handler = on_alarm };

	while (argc > 0 && strncmp(argv[0], "--", 2) == 0) {
		if (strcmp(argv[0], "--isolate") == 0 && argc >= 3) {
			if (isolate(argv[1], argv[2]) < 0)
				return 1;
			argv += 3, argc -= 3;
		} else if (strcmp(argv[0], "--dns") == 0 && argc >= 2 && count < MAX_NAMES) {
			if (parse_record(argv[1], &records[count++]) < 0) {
				fprintf(stderr, "helper: bad --dns %s (want NAME=IPV4)\n", argv[1]);
				return 2;
			}
			argv += 2, argc -= 2;
		} else if (strcmp(argv[0], "--linux32") == 0) {
			linux32 = 1;
			argv += 1, argc -= 1;
		} else {
			break;
		}
	}
	if (argc < 2 || (seconds = atoi(argv[0])) <= 0) {
		fprintf(stderr, "helper: usage: run [--isolate RESOLV HOSTS] [--dns NAME=IPV4] [--linux32] SECONDS PROGRAM [ARGS ...]\n");
		return 2;
	}
	if (count) {
		int sock = dns_socket();

		if (sock < 0)
			return 1;
		server = fork();
		if (server == 0)
			dns_loop(sock, records, count);
		close(sock);
	}
	struct sigaction stop = { .sa_handler = on_stop };

	sigaction(SIGTERM, &stop, NULL);
	sigaction(SIGINT, &stop, NULL);
	sigaction(SIGHUP, &stop, NULL);
	/* Orphans of the run (daemons it started) come to the helper, which reaps them at once
	 * (on a host whose process 1 is slow to reap, a killed daemon would linger as a zombie). */
	prctl(PR_SET_CHILD_SUBREAPER, 1);
	child = fork();
	if (child < 0) {
		perror("helper: fork");
		return 1;
	}
	if (child == 0) {
		setpgid(0, 0);
		prctl(PR_SET_PDEATHSIG, SIGKILL); /* the helper killed outright: the program goes too */
		if (linux32 && personality(PER_LINUX32) < 0)
			perror("helper: personality");
		execv(argv[1], argv + 1);
		fprintf(stderr, "helper: cannot run %s: %s\n", argv[1], strerror(errno));
		_exit(127);
	}
	setpgid(child, child);
	sigaction(SIGALRM, &alarm_action, NULL);
	alarm((unsigned)seconds);
	for (;;) {
		int st;
		pid_t done = waitpid(-1, &st, 0);

		if (done == child) {
			status = st;
			break;
		}
		if (done > 0)
			continue; /* an adopted orphan */
		if (errno != EINTR)
			return 1;
		if (timed_out || stopping) {
			kill(-child, SIGKILL);
			waitpid(child, &status, 0);
			break;
		}
	}
	kill(-child, SIGKILL); /* whatever it left running in its group */
	end_descendants(server);
	if (server > 0) {
		kill(server, SIGKILL);
		waitpid(server, NULL, 0);
	}
	if (stopping)
		return 1; /* stopped from outside: the run has no result */
	if (timed_out)
		fprintf(stderr, "\n" STATUS_MARK " timeout\n");
	else if (WIFSIGNALED(status))
		fprintf(stderr, "\n" STATUS_MARK " signal %d\n", WTERMSIG(status));
	else
		fprintf(stderr, "\n" STATUS_MARK " exit %d\n", WEXITSTATUS(status));
	return 0;
}

int main(int argc, char **argv)
{
	if (argc == 2 && strcmp(argv[1], "serve") == 0)
		return serve();
	if (argc >= 2 && strcmp(argv[1], "run") == 0)
		return run(argc - 2, argv + 2);
	fprintf(stderr, "helper: usage: serve | run [options] SECONDS PROGRAM [ARGS ...]\n");
	return 2;
}
