/* kst2xml - the porcelain: runs the stage chain on Kamerstuk PDFs and writes
 * validated XML, one document to stdout or many documents into a directory.
 *
 *   kst-extract IN.pdf | kst-layout | kst-meta | kst-notes | kst-refs | kst-commit | kst-xml
 *   then kst-validate on the XML.
 *
 * Every stage runs in one process group per document, so that a timeout or
 * an interrupt kills the whole chain, including anything a stage spawned.
 * The XML is collected in memory and written only when every stage and the
 * validator exited 0: there is never partial XML on stdout or on disk.
 *
 * The batch form forks one worker per document (at most -j at a time); the
 * worker runs the chain exactly as the single form does and writes the XML
 * into a temporary file the parent created, which the parent renames or
 * removes. The parent thus cleans up even after a worker died. */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <limits.h>
#include <poll.h>
#include <signal.h>
#include <spawn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/time.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "buf.h"
#include "kst.h"

extern char **environ;

#define MAX_STAGES 16
#define STDERR_CAP (64u << 10)	/* captured stderr kept per stage */
#define XML_CAP (1u << 30)	/* refuse documents larger than this */
#define MSG_CAP 400		/* one-line messages are cut here */
#define CHUNK (64u << 10)

/* The default chain, in order. Each name is looked up in the directories
 * below under the root; --stages or KST_STAGES replace the list. */
static const char *const default_stages[] = {
	"kst-extract", "kst-layout", "kst-meta", "kst-notes", "kst-refs", "kst-commit", "kst-xml",
};
static const char *const stage_dirs[] = { "extractors", "transformers", "bin" };
static const char validator_name[] = "kst-validate";

struct stage {
	char *path;
	const char *name;	/* basename of path, for messages */
};

struct options {
	struct stage stages[MAX_STAGES];
	int nstages;
	struct stage validator;	/* path NULL with --no-validate */
	int timeout;		/* seconds a document may take; 0: no limit */
	int jobs;
	int verbose;
	const char *outdir;
	const char *output;
	const char *report;
};

/* What converting one document gave. */
struct result {
	int status;		/* KST_* exit status; 0 when converted */
	char msg[MSG_CAP + 1];	/* one line, empty when converted */
	struct buf xml;
};

struct proc {
	pid_t pid;
	int wstatus;
	int reaped;
	int fd_err;		/* read end of its captured stderr */
	struct buf err;
};

static volatile sig_atomic_t got_signal;
static int timeout_s;		/* for the message; the deadline does the work */
static mode_t file_mode = 0644;

static void
usage(int status)
{
	FILE *fp = status ? stderr : stdout;

	fprintf(fp,
	    "usage: kst2xml [options] [IN.pdf]            XML on stdout\n"
	    "       kst2xml [options] --output OUT.xml IN.pdf\n"
	    "       kst2xml [options] -o DIR [-j N] [--report FILE] IN.pdf...\n"
	    "options:\n"
	    "  -o, --outdir DIR    batch: write DIR/NAME.xml for each IN.pdf\n"
	    "  -j, --jobs N        batch: convert N documents at once (default: CPUs)\n"
	    "  -k, --keep-going    batch: go on past failures (always on)\n"
	    "      --report FILE   batch: write a TSV line per document\n"
	    "      --output FILE   single: write FILE atomically instead of stdout\n"
	    "      --stages LIST   run this comma-separated chain instead of\n"
	    "                      kst-extract,kst-layout,kst-meta,kst-notes,kst-refs,kst-commit,kst-xml\n"
	    "      --no-validate   do not run kst-validate on the XML\n"
	    "      --timeout SEC   wall-time limit per document (default 120; 0: none)\n"
	    "  -v, --verbose       relay every stage's stderr\n"
	    "  -h, --help          this text\n"
	    "      --version       print the version\n"
	    "environment: KST_ROOT (tree holding the stages), KST_STAGES (as --stages)\n");
	exit(status);
}

static void
on_signal(int sig)
{
	got_signal = sig;
}

static void
on_alarm(int sig)
{
	(void)sig;	/* only there to interrupt waitpid */
}

static void
set_handler(int sig, void (*fn)(int))
{
	struct sigaction sa;

	memset(&sa, 0, sizeof sa);
	sa.sa_handler = fn;
	sigemptyset(&sa.sa_mask);
	sa.sa_flags = 0;	/* no SA_RESTART: poll and waitpid must see EINTR */
	sigaction(sig, &sa, NULL);
}

/* Dup2 onto 0, 1 or 2 keeps FD_CLOEXEC when the descriptors are equal, and
 * a pipe would land there if we were started with one of them closed. */
static void
ensure_std_fds(void)
{
	int fd;

	for (fd = 0; fd < 3; fd++)
		if (fcntl(fd, F_GETFD) < 0 && open("/dev/null", O_RDWR) != fd)
			kst_die(KST_EINTERNAL, "cannot open /dev/null: %s",
			    strerror(errno));
}

static void
setup_signals(void)
{
	mode_t mask;

	signal(SIGPIPE, SIG_IGN);	/* a stage or reader that quits is a status */
	signal(SIGCHLD, SIG_DFL);	/* SIG_IGN inherited would make waitpid fail */
	set_handler(SIGINT, on_signal);
	set_handler(SIGTERM, on_signal);
	set_handler(SIGHUP, on_signal);
	set_handler(SIGALRM, on_alarm);
	mask = umask(0);
	umask(mask);
	file_mode = 0666 & ~mask;
}

/* --- time ------------------------------------------------------------- */

static double
now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec + ts.tv_nsec / 1e9;
}

/* Milliseconds left before deadline (0: none), at least 1, or 0 when past. */
static long
ms_left(double deadline)
{
	double left;

	if (deadline == 0)
		return LONG_MAX;
	left = (deadline - now()) * 1000;
	if (left <= 0)
		return 0;
	return left < 1 ? 1 : (long)left;
}

static void
arm_timer(long ms)
{
	struct itimerval it;

	memset(&it, 0, sizeof it);
	if (ms != LONG_MAX) {
		it.it_value.tv_sec = ms / 1000;
		it.it_value.tv_usec = (ms % 1000) * 1000;
	}
	setitimer(ITIMER_REAL, &it, NULL);
}

/* --- stages ----------------------------------------------------------- */

static char *
find_root(void)
{
	char exe[PATH_MAX], *slash;
	const char *env = getenv("KST_ROOT");
	ssize_t n;
	int up;

	if (env != NULL && *env != '\0')
		return kst_xstrdup(env);
	n = readlink("/proc/self/exe", exe, sizeof exe - 1);
	if (n <= 0)
		return kst_xstrdup(".");
	exe[n] = '\0';
	for (up = 0; up < 2; up++) {	/* ROOT/bin/kst2xml -> ROOT */
		slash = strrchr(exe, '/');
		if (slash == NULL)
			return kst_xstrdup(".");
		*slash = '\0';
	}
	return kst_xstrdup(*exe ? exe : "/");
}

static int
is_program(const char *path)
{
	struct stat st;

	return stat(path, &st) == 0 && S_ISREG(st.st_mode) &&
	    access(path, X_OK) == 0;
}

/* A name with a slash is a path; otherwise it is looked up under the root. */
static void
resolve_stage(struct stage *st, const char *root, const char *name)
{
	struct buf path = BUF_INIT;
	const char *slash;
	size_t i;

	if (strchr(name, '/') != NULL) {
		if (!is_program(name))
			kst_die(KST_ESTAGE, "stage not found: %s", name);
		buf_adds(&path, name);
	} else {
		for (i = 0; i < sizeof stage_dirs / sizeof *stage_dirs; i++) {
			buf_clear(&path);
			buf_printf(&path, "%s/%s/%s", root, stage_dirs[i], name);
			if (is_program(path.s))
				break;
		}
		if (i == sizeof stage_dirs / sizeof *stage_dirs)
			kst_die(KST_ESTAGE, "stage not found: %s (looked in "
			    "%s/{extractors,transformers,bin}; --stages runs "
			    "another chain)", name, root);
	}
	st->path = buf_detach(&path);
	slash = strrchr(st->path, '/');
	st->name = slash ? slash + 1 : st->path;
}

static void
resolve_stages(struct options *o, const char *list, int validate)
{
	char *root = find_root(), *copy, *name, *save;
	size_t i;

	o->nstages = 0;
	if (list == NULL) {
		for (i = 0; i < sizeof default_stages / sizeof *default_stages; i++)
			resolve_stage(&o->stages[o->nstages++], root,
			    default_stages[i]);
	} else {
		copy = kst_xstrdup(list);
		for (name = strtok_r(copy, ",", &save); name != NULL;
		    name = strtok_r(NULL, ",", &save)) {
			if (o->nstages == MAX_STAGES)
				kst_die(KST_EUSAGE, "more than %d stages",
				    MAX_STAGES);
			resolve_stage(&o->stages[o->nstages++], root, name);
		}
		free(copy);
		if (o->nstages == 0)
			kst_die(KST_EUSAGE, "--stages: empty list");
	}
	if (validate)
		resolve_stage(&o->validator, root, validator_name);
	free(root);
}

static void
free_stages(struct options *o)
{
	int i;

	for (i = 0; i < o->nstages; i++)
		free(o->stages[i].path);
	free(o->validator.path);
}

/* --- running a chain -------------------------------------------------- */

static void
xpipe(int fd[2])
{
	if (pipe(fd) < 0)
		kst_die(KST_EINTERNAL, "pipe: %s", strerror(errno));
	fcntl(fd[0], F_SETFD, FD_CLOEXEC);
	fcntl(fd[1], F_SETFD, FD_CLOEXEC);
}

/* In the child after fork: "STAGE: cannot run PATH: why" on the captured
 * stderr, so that it is the line our message relays. stdio is not safe here:
 * its buffers were copied by fork. */
static void
child_fail(const struct stage *st)
{
	const char *why = strerror(errno);
	const char *part[] = { st->name, ": cannot run ", st->path, ": ", why, "\n" };
	size_t i;

	for (i = 0; i < sizeof part / sizeof *part; i++)
		if (write(2, part[i], strlen(part[i])) < 0)
			break;
	_exit(127);
}

/* The fork-based start: kept for when posix_spawn cannot run the stage, so
 * that the failure reaches us just as any stage's does, as its stderr line
 * and exit status 127. */
static pid_t
spawn_forked(const struct stage *st, char **argv, int in, int out, int err,
    pid_t pgid)
{
	sigset_t none;
	pid_t pid;

	pid = fork();
	if (pid < 0)
		kst_die(KST_EINTERNAL, "fork: %s", strerror(errno));
	if (pid > 0) {
		setpgid(pid, pgid ? pgid : pid);	/* both sides: no race */
		return pid;
	}
	setpgid(0, pgid);
	if (dup2(in, 0) < 0 || dup2(out, 1) < 0 || dup2(err, 2) < 0)
		child_fail(st);
	signal(SIGPIPE, SIG_DFL);
	sigemptyset(&none);
	sigprocmask(SIG_SETMASK, &none, NULL);
	execv(st->path, argv);
	child_fail(st);
	return -1;
}

/* Starts path with the given stdin/stdout/stderr in process group pgid (0:
 * a new group led by the child). All our other descriptors are close-on-exec.
 * posix_spawn shares our memory until the exec instead of copying it as fork
 * does: the copy's page faults were most of kst2xml's own CPU time. The child
 * gets what the forked one did: its group, the three descriptors, SIGPIPE
 * back to its default (we ignore it), no blocked signals. */
static pid_t
spawn(const struct stage *st, const char *arg, int in, int out, int err,
    pid_t pgid)
{
	posix_spawn_file_actions_t fa;
	posix_spawnattr_t at;
	sigset_t none, pipe_only;
	char *argv[3];
	pid_t pid;
	int rc;

	argv[0] = st->path;
	argv[1] = (char *)arg;
	argv[2] = NULL;
	sigemptyset(&none);
	sigemptyset(&pipe_only);
	sigaddset(&pipe_only, SIGPIPE);
	if (posix_spawn_file_actions_init(&fa) != 0 ||
	    posix_spawnattr_init(&at) != 0)
		kst_die(KST_EINTERNAL, "out of memory");
	rc = posix_spawn_file_actions_adddup2(&fa, in, 0);
	if (rc == 0)
		rc = posix_spawn_file_actions_adddup2(&fa, out, 1);
	if (rc == 0)
		rc = posix_spawn_file_actions_adddup2(&fa, err, 2);
	if (rc == 0)
		rc = posix_spawnattr_setflags(&at, POSIX_SPAWN_SETPGROUP |
		    POSIX_SPAWN_SETSIGMASK | POSIX_SPAWN_SETSIGDEF);
	if (rc == 0)
		rc = posix_spawnattr_setpgroup(&at, pgid);
	if (rc == 0)
		rc = posix_spawnattr_setsigmask(&at, &none);
	if (rc == 0)
		rc = posix_spawnattr_setsigdefault(&at, &pipe_only);
	if (rc == 0)
		rc = posix_spawn(&pid, st->path, &fa, &at, argv, environ);
	posix_spawn_file_actions_destroy(&fa);
	posix_spawnattr_destroy(&at);
	if (rc != 0)
		return spawn_forked(st, argv, in, out, err, pgid);
	return pid;
}

enum pump_end { PUMP_DONE, PUMP_TIMEOUT, PUMP_SIGNAL, PUMP_LIMIT };

/* Reads what is ready on fd into b; keeps at most cap bytes unless strict,
 * in which case more than cap is an error (-1). Closes fd at end of file. */
static int
drain(int *fd, struct buf *b, size_t cap, int strict)
{
	char chunk[CHUNK];
	ssize_t n;

	for (;;) {
		n = read(*fd, chunk, sizeof chunk);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0 && errno == EAGAIN)
			return 0;
		if (n <= 0) {
			close(*fd);
			*fd = -1;
			return 0;
		}
		if (b->len + n > cap) {
			if (strict)
				return -1;
			n = b->len < cap ? (ssize_t)(cap - b->len) : 0;
		}
		buf_add(b, chunk, n);
	}
}

/* Feeds in[*off..len) to *fd as the reader takes it; closes it when done or
 * when the reader went away. */
static void
feed(int *fd, const char *in, size_t len, size_t *off)
{
	size_t want;
	ssize_t n;

	while (*off < len) {
		want = len - *off < CHUNK ? len - *off : CHUNK;
		n = write(*fd, in + *off, want);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0 && errno == EAGAIN)
			return;
		if (n < 0)
			break;	/* EPIPE: the reader's status will say why */
		*off += n;
	}
	close(*fd);
	*fd = -1;
}

static void
nonblock(int fd)
{
	fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) | O_NONBLOCK);
}

/* Moves data until every pipe is closed, the deadline passes or we are
 * told to stop. */
static enum pump_end
pump(struct proc *p, int n, int *fd_out, struct buf *out, int *fd_in,
    const char *in, size_t inlen, double deadline)
{
	struct pollfd pfd[MAX_STAGES + 2];
	int who[MAX_STAGES + 2];	/* stage index, or OUT / IN */
	enum { OUT = -1, IN = -2 };
	size_t off = 0;
	long left;
	int i, k, r;

	for (;;) {
		k = 0;
		for (i = 0; i < n; i++)
			if (p[i].fd_err >= 0) {
				who[k] = i;
				pfd[k++] = (struct pollfd){ p[i].fd_err, POLLIN, 0 };
			}
		if (*fd_out >= 0) {
			who[k] = OUT;
			pfd[k++] = (struct pollfd){ *fd_out, POLLIN, 0 };
		}
		if (*fd_in >= 0) {
			who[k] = IN;
			pfd[k++] = (struct pollfd){ *fd_in, POLLOUT, 0 };
		}
		if (k == 0)
			return PUMP_DONE;
		if (got_signal)
			return PUMP_SIGNAL;
		left = ms_left(deadline);
		if (left == 0)
			return PUMP_TIMEOUT;
		/* Capped so a signal that slips in before poll is seen soon. */
		r = poll(pfd, k, left > 500 ? 500 : (int)left);
		if (r < 0 && errno != EINTR)
			kst_die(KST_EINTERNAL, "poll: %s", strerror(errno));
		for (i = 0; r > 0 && i < k; i++) {
			if (pfd[i].revents == 0)
				continue;
			if (who[i] == IN)
				feed(fd_in, in, inlen, &off);
			else if (who[i] == OUT) {
				if (drain(fd_out, out, XML_CAP, 1) < 0)
					return PUMP_LIMIT;
			} else
				drain(&p[who[i]].fd_err, &p[who[i]].err,
				    STDERR_CAP, 0);
		}
	}
}

/* Waits for every process; kills the group when the deadline passes or a
 * signal asks us to stop, so this never hangs on a stage that closed its
 * pipes and went on running. */
static void
reap(struct proc *p, int n, pid_t pgid, double deadline)
{
	int i, killed = 0;
	pid_t r;

	for (i = 0; i < n; i++) {
		while (!p[i].reaped) {
			if (!killed)
				arm_timer(ms_left(deadline));
			r = waitpid(p[i].pid, &p[i].wstatus, 0);
			if (r == p[i].pid || (r < 0 && errno != EINTR)) {
				p[i].reaped = 1;
				continue;
			}
			if (!killed && (got_signal || ms_left(deadline) == 0)) {
				arm_timer(LONG_MAX);
				kill(-pgid, SIGKILL);
				killed = 1;
			}
		}
	}
	arm_timer(LONG_MAX);
}

static int
proc_ok(const struct proc *p)
{
	return WIFEXITED(p->wstatus) && WEXITSTATUS(p->wstatus) == 0;
}

/* A stage killed by SIGPIPE, or failing to write, is usually the victim of a
 * later stage that quit; the culprit is the first failure that is not. */
static int
culprit(const struct proc *p, int n)
{
	int i, first = -1, victim;

	for (i = 0; i < n; i++) {
		if (proc_ok(&p[i]))
			continue;
		if (first < 0)
			first = i;
		victim = (WIFSIGNALED(p[i].wstatus) &&
		    WTERMSIG(p[i].wstatus) == SIGPIPE) ||
		    (WIFEXITED(p[i].wstatus) &&
		    (WEXITSTATUS(p[i].wstatus) == KST_EOUTPUT ||
		    WEXITSTATUS(p[i].wstatus) == 128 + SIGPIPE));	/* a shell's */
		if (!victim || i == n - 1)
			return i;
	}
	return first;
}

/* Copies s into the message, turning control characters into spaces. */
static void
msg_set(struct result *res, const char *s, size_t n)
{
	size_t i;

	if (n > MSG_CAP)
		n = MSG_CAP;
	for (i = 0; i < n; i++)
		res->msg[i] = (unsigned char)s[i] < 0x20 ? ' ' : s[i];
	res->msg[n] = '\0';
}

/* Whether line[0..len) contains needle (memmem is a GNU extension). */
static int
has(const char *line, size_t len, const char *needle)
{
	size_t n = strlen(needle), i;

	for (i = 0; i + n <= len; i++)
		if (memcmp(line + i, needle, n) == 0)
			return 1;
	return 0;
}

/* How telling a line of a stage's stderr is: a sanitizer's finding beats
 * the stage's own "STAGE: ..." line, which beats any other line. */
static int
line_rank(const char *line, size_t len, const char *stage)
{
	size_t nl = strlen(stage);

	if (has(line, len, "runtime error: "))
		return 4;
	if (len > 9 && memcmp(line, "SUMMARY: ", 9) == 0)
		return 3;
	if (len > nl && memcmp(line, stage, nl) == 0 && line[nl] == ':')
		return 2;
	return 1;
}

/* The stage's own one-line message: its most telling line, the last of
 * equals. "STAGE: INPUT: " is shortened to "STAGE: " since our own line
 * already names the input. */
static int
stage_line(const struct proc *p, const struct stage *st, const char *input,
    struct result *res)
{
	const char *line, *end, *best = NULL, *best_end = NULL;
	size_t nl = strlen(st->name), il = strlen(input);
	int rank, best_rank = 0;
	struct buf b = BUF_INIT;

	for (line = buf_str(&p->err); *line; line = *end ? end + 1 : end) {
		end = strchr(line, '\n');
		if (end == NULL)
			end = line + strlen(line);
		if (end == line)
			continue;
		rank = line_rank(line, end - line, st->name);
		if (rank >= best_rank) {
			best = line, best_end = end;
			best_rank = rank;
		}
	}
	if (best == NULL)
		return 0;
	if (best_rank == 2 && (size_t)(best_end - best) > nl + il + 4 &&
	    memcmp(best + nl, ": ", 2) == 0 &&
	    memcmp(best + nl + 2, input, il) == 0 &&
	    memcmp(best + nl + 2 + il, ": ", 2) == 0) {
		buf_printf(&b, "%s: %.*s", st->name,
		    (int)(best_end - best - nl - il - 4), best + nl + il + 4);
		msg_set(res, b.s, b.len);
		buf_free(&b);
		return 1;
	}
	msg_set(res, best, best_end - best);
	return 1;
}

static void
explain(const struct proc *p, const struct stage *st, const char *input,
    struct result *res)
{
	char line[MSG_CAP + 1];
	int s;

	if (WIFSIGNALED(p->wstatus)) {
		res->status = KST_ESTAGE;
		snprintf(line, sizeof line, "%s crashed (signal %d)", st->name,
		    WTERMSIG(p->wstatus));
		msg_set(res, line, strlen(line));
		return;
	}
	s = WEXITSTATUS(p->wstatus);
	/* 126/127: could not be run; above 128: a shell's report of a signal. */
	res->status = s >= 126 ? KST_ESTAGE : s;
	if (stage_line(p, st, input, res))
		return;
	snprintf(line, sizeof line, "%s failed (exit %d)", st->name, s);
	msg_set(res, line, strlen(line));
}

static void
relay(const struct proc *p, int n)
{
	int i;

	for (i = 0; i < n; i++)
		if (p[i].err.len > 0)
			fwrite(p[i].err.s, 1, p[i].err.len, stderr);
}

/* Which stages were still running when we gave up on them. */
static void
still_running(struct proc *p, const struct stage *st, int n, struct buf *b)
{
	int i;

	for (i = 0; i < n; i++) {
		if (waitpid(p[i].pid, &p[i].wstatus, WNOHANG) == p[i].pid) {
			p[i].reaped = 1;
			continue;
		}
		buf_printf(b, "%s%s", b->len ? ", " : "", st[i].name);
	}
}

/* Runs st[0] ARG | st[1] | ... | st[n-1] with stdout collected into out.
 * ARG NULL: the first stage reads in[0..inlen) (or our stdin when in is NULL).
 * Returns 0, or fills res with the status and message of the culprit. */
static int
run_chain(const struct stage *st, int n, const char *arg, const char *in,
    size_t inlen, const char *input, double deadline, int verbose,
    struct buf *out, struct result *res)
{
	struct proc p[MAX_STAGES];
	struct buf running = BUF_INIT;
	int link[2], err[2], feedp[2] = { -1, -1 }, prev, fd_out, fd_in = -1, i, bad;
	enum pump_end end;
	pid_t pgid = 0;
	char line[MSG_CAP + 1];

	memset(p, 0, sizeof p);
	if (in != NULL) {
		xpipe(feedp);
		prev = feedp[0];
		fd_in = feedp[1];
		nonblock(fd_in);
	} else
		prev = arg ? open("/dev/null", O_RDONLY | O_CLOEXEC) : 0;
	for (i = 0; i < n; i++) {
		xpipe(link);
		xpipe(err);
		p[i].pid = spawn(&st[i], i == 0 ? arg : NULL, prev, link[1],
		    err[1], pgid);
		if (pgid == 0)
			pgid = p[i].pid;
		if (prev != 0)
			close(prev);
		close(link[1]);
		close(err[1]);
		p[i].fd_err = err[0];
		nonblock(err[0]);
		prev = link[0];
	}
	fd_out = prev;
	nonblock(fd_out);
	out->len = 0;
	end = pump(p, n, &fd_out, out, &fd_in, in, inlen, deadline);
	if (end == PUMP_TIMEOUT)
		still_running(p, st, n, &running);
	if (end != PUMP_DONE)
		kill(-pgid, SIGKILL);
	for (i = 0; i < n; i++)
		if (p[i].fd_err >= 0)
			close(p[i].fd_err);
	if (fd_out >= 0)
		close(fd_out);
	if (fd_in >= 0)
		close(fd_in);
	reap(p, n, pgid, deadline);
	if (verbose)
		relay(p, n);

	bad = culprit(p, n);
	res->status = KST_OK;
	if (end == PUMP_SIGNAL || got_signal) {
		res->status = 128 + got_signal;
		snprintf(line, sizeof line, "interrupted (signal %d)", (int)got_signal);
		msg_set(res, line, strlen(line));
	} else if (end == PUMP_TIMEOUT || (bad >= 0 && ms_left(deadline) == 0 &&
	    WIFSIGNALED(p[bad].wstatus) && WTERMSIG(p[bad].wstatus) == SIGKILL)) {
		res->status = KST_ESTAGE;
		snprintf(line, sizeof line, "timed out after %d s%s%s%s",
		    timeout_s,
		    running.len ? " (still running: " : "", buf_str(&running),
		    running.len ? ")" : "");
		msg_set(res, line, strlen(line));
	} else if (end == PUMP_LIMIT) {
		res->status = KST_ELIMIT;
		snprintf(line, sizeof line, "XML larger than %u bytes", XML_CAP);
		msg_set(res, line, strlen(line));
	} else if (bad >= 0)
		explain(&p[bad], &st[bad], input, res);
	for (i = 0; i < n; i++)
		buf_free(&p[i].err);
	buf_free(&running);
	return res->status;
}

/* --- one document ----------------------------------------------------- */

static int
is_stdin(const char *path)
{
	return strcmp(path, "-") == 0;
}

static void
fail_with(struct result *res, int status, const char *why)
{
	res->status = status;
	msg_set(res, why, strlen(why));
}

/* Cheap checks before forking a chain of six processes; they give the same
 * statuses kst-extract would. */
static int
precheck(const char *path, struct result *res)
{
	struct stat st;
	int fd;

	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0) {
		fail_with(res, KST_ENOFILE, strerror(errno));
		return -1;
	}
	if (fstat(fd, &st) < 0 || S_ISDIR(st.st_mode)) {
		fail_with(res, KST_ENOFILE, S_ISDIR(st.st_mode) ?
		    "is a directory" : strerror(errno));
		close(fd);
		return -1;
	}
	close(fd);
	if (S_ISREG(st.st_mode) && st.st_size == 0) {
		fail_with(res, KST_EEMPTY, "empty file");
		return -1;
	}
	return 0;
}

/* Runs the chain and the validator on path; res->xml holds the XML when
 * res->status is 0. */
static void
convert(const struct options *o, const char *path, struct result *res)
{
	double deadline = o->timeout ? now() + o->timeout : 0;
	const char *arg = is_stdin(path) ? NULL : path;
	struct buf discard = BUF_INIT;

	res->status = KST_OK;
	res->msg[0] = '\0';
	res->xml.len = 0;
	if (arg != NULL && precheck(path, res) < 0)
		return;
	if (run_chain(o->stages, o->nstages, arg, NULL, 0, path, deadline,
	    o->verbose, &res->xml, res) != 0)
		return;
	if (o->validator.path != NULL)
		run_chain(&o->validator, 1, NULL, buf_str(&res->xml),
		    res->xml.len, path, deadline, o->verbose, &discard, res);
	buf_free(&discard);
}

/* --- writing files atomically ----------------------------------------- */

static int
write_all(int fd, const char *s, size_t n)
{
	ssize_t w;

	while (n > 0) {
		w = write(fd, s, n);
		if (w < 0 && errno == EINTR)
			continue;
		if (w < 0)
			return -1;
		s += w;
		n -= w;
	}
	return 0;
}

/* A hidden temporary file beside dest (same file system, so rename is
 * atomic), with the mode a plain new file would get. */
static int
temp_beside(const char *dest, char **tmp)
{
	const char *slash = strrchr(dest, '/');
	struct buf b = BUF_INIT;
	int fd;

	if (slash != NULL)
		buf_printf(&b, "%.*s.%s.tmp-XXXXXX", (int)(slash - dest + 1),
		    dest, slash + 1);
	else
		buf_printf(&b, ".%s.tmp-XXXXXX", dest);
	fd = mkstemp(b.s);
	if (fd < 0) {
		buf_free(&b);
		return -1;
	}
	fcntl(fd, F_SETFD, FD_CLOEXEC);
	fchmod(fd, file_mode);
	*tmp = buf_detach(&b);
	return fd;
}

/* Data is on disk before the name appears: a crash leaves the old file or
 * the new one, never a half-written one. */
static int
write_atomic(const char *dest, const struct buf *data)
{
	char *tmp;
	int fd, saved;

	fd = temp_beside(dest, &tmp);
	if (fd < 0)
		return -1;
	if (write_all(fd, buf_str(data), data->len) < 0 || fsync(fd) < 0 ||
	    close(fd) < 0 || rename(tmp, dest) < 0) {
		saved = errno;
		close(fd);
		unlink(tmp);
		free(tmp);
		errno = saved;
		return -1;
	}
	free(tmp);
	return 0;
}

/* --- the single form -------------------------------------------------- */

static int
single(const struct options *o, const char *path)
{
	struct result res;

	memset(&res, 0, sizeof res);
	convert(o, path, &res);
	if (res.status != KST_OK) {
		kst_warn("%s: %s", path, res.msg);
		buf_free(&res.xml);
		return res.status;
	}
	if (o->output != NULL) {
		if (write_atomic(o->output, &res.xml) < 0) {
			kst_warn("%s: %s", o->output, strerror(errno));
			res.status = KST_EOUTPUT;
		}
	} else if (res.xml.len > 0)
		fwrite(res.xml.s, 1, res.xml.len, stdout);
	buf_free(&res.xml);
	if (res.status == KST_OK)
		kst_close_stdout();
	return res.status;
}

/* --- the batch form --------------------------------------------------- */

struct job {
	const char *in;
	char *out;		/* DIR/NAME.xml */
	char *tmp;		/* its temporary file while running */
	pid_t pid;
	int fd_res;		/* the worker's "STATUS<TAB>MESSAGE" */
	int state;		/* WAITING, RUNNING, DONE */
	int status;
	char *msg;
	double t0, secs;
};

enum { WAITING, RUNNING, DONE };

static char *
output_name(const char *dir, const char *in)
{
	const char *base = strrchr(in, '/');
	struct buf b = BUF_INIT;
	size_t n;

	base = base ? base + 1 : in;
	n = strlen(base);
	if (n > 4 && strcasecmp(base + n - 4, ".pdf") == 0)
		n -= 4;
	buf_printf(&b, "%s/%.*s.xml", dir, (int)n, base);
	return buf_detach(&b);
}

static int
by_out(const void *a, const void *b)
{
	const struct job *x = *(const struct job *const *)a;
	const struct job *y = *(const struct job *const *)b;

	return strcmp(x->out, y->out);
}

/* Two inputs named a/x.pdf and b/x.pdf would overwrite each other. */
static void
check_unique(struct job *jobs, int n)
{
	struct job **v = kst_xmalloc(n * sizeof *v);
	int i;

	for (i = 0; i < n; i++)
		v[i] = &jobs[i];
	qsort(v, n, sizeof *v, by_out);
	for (i = 1; i < n; i++)
		if (strcmp(v[i - 1]->out, v[i]->out) == 0)
			kst_die(KST_EUSAGE, "%s and %s would both be written "
			    "to %s", v[i - 1]->in, v[i]->in, v[i]->out);
	free(v);
}

static void
job_done(struct job *j, int status, const char *msg)
{
	j->state = DONE;
	j->status = status;
	j->msg = kst_xstrdup(msg);
	j->secs = j->t0 ? now() - j->t0 : 0;
}

static void
worker(const struct options *o, const char *in, int fd_tmp, int fd_res)
{
	struct result res;
	struct buf line = BUF_INIT;

	memset(&res, 0, sizeof res);
	convert(o, in, &res);
	if (res.status == KST_OK && (write_all(fd_tmp, buf_str(&res.xml),
	    res.xml.len) < 0 || fsync(fd_tmp) < 0))
		fail_with(&res, KST_EOUTPUT, strerror(errno));
	buf_printf(&line, "%d\t%s", res.status, res.msg);
	write_all(fd_res, line.s, line.len);
	_exit(0);	/* no atexit handlers: they belong to the parent */
}

static void
start(const struct options *o, struct job *j)
{
	int fd_tmp, res[2];
	pid_t pid;

	fd_tmp = temp_beside(j->out, &j->tmp);
	if (fd_tmp < 0) {
		struct buf b = BUF_INIT;

		buf_printf(&b, "cannot create a temporary file in %s: %s",
		    o->outdir, strerror(errno));
		job_done(j, KST_EOUTPUT, b.s);
		buf_free(&b);
		return;
	}
	xpipe(res);
	j->t0 = now();
	pid = fork();
	if (pid < 0)
		kst_die(KST_EINTERNAL, "fork: %s", strerror(errno));
	if (pid == 0) {
		close(res[0]);
		worker(o, j->in, fd_tmp, res[1]);
	}
	close(fd_tmp);
	close(res[1]);
	j->pid = pid;
	j->fd_res = res[0];
	j->state = RUNNING;
}

/* The worker has exited: take its result, then publish or discard. */
static void
finish(struct job *j, int wstatus)
{
	char text[MSG_CAP + 32], *tab, why[64];
	size_t len = 0;
	ssize_t n;
	int status;

	while (len < sizeof text - 1 &&
	    (n = read(j->fd_res, text + len, sizeof text - 1 - len)) != 0) {
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			break;
		len += n;
	}
	text[len] = '\0';
	close(j->fd_res);
	tab = strchr(text, '\t');
	if (tab != NULL) {
		*tab = '\0';
		status = atoi(text);
		job_done(j, status, tab + 1);
	} else {
		snprintf(why, sizeof why, "worker died (%s %d)",
		    WIFSIGNALED(wstatus) ? "signal" : "exit",
		    WIFSIGNALED(wstatus) ? WTERMSIG(wstatus) : WEXITSTATUS(wstatus));
		job_done(j, KST_EINTERNAL, why);
	}
	if (j->status == KST_OK && rename(j->tmp, j->out) < 0) {
		free(j->msg);
		job_done(j, KST_EOUTPUT, strerror(errno));
	}
	if (j->status != KST_OK)
		unlink(j->tmp);
	free(j->tmp);
	j->tmp = NULL;
}

static void
progress(int done, int n, int failed, const char *name)
{
	int width = snprintf(NULL, 0, "%d", n);
	size_t len = strlen(name);

	/* A line that wraps can no longer be rewritten with \r. */
	if (len > 40)
		name += len - 40;
	fprintf(stderr, "\r\033[K[%*d/%d] %d failed  %s%s", width, done, n,
	    failed, len > 40 ? "..." : "", name);
}

static void
sync_dir(const char *dir)
{
	int fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);

	if (fd >= 0) {
		fsync(fd);	/* makes the renames durable */
		close(fd);
	}
}

static void
tsv_field(FILE *fp, const char *s)
{
	for (; *s; s++)
		fputc((unsigned char)*s < 0x20 ? ' ' : *s, fp);
}

static int
write_report(const char *path, const struct job *jobs, int n)
{
	FILE *fp = fopen(path, "w");
	int i;

	if (fp == NULL)
		return -1;
	fputs("file\tstatus\texit\tmessage\tseconds\n", fp);
	for (i = 0; i < n; i++) {
		tsv_field(fp, jobs[i].in);
		fprintf(fp, "\t%s\t%d\t", jobs[i].state != DONE ? "skipped" :
		    jobs[i].status ? "failed" : "ok", jobs[i].status);
		tsv_field(fp, jobs[i].msg ? jobs[i].msg : "");
		fprintf(fp, "\t%.3f\n", jobs[i].secs);
	}
	return fclose(fp);
}

/* Summary on stderr; returns the exit status: 0, the status of the first
 * failed input in command-line order, or 128+signal when interrupted. */
static int
summary(const struct job *jobs, int n)
{
	int i, ok = 0, failed = 0, skipped = 0, status = KST_OK;

	for (i = 0; i < n; i++) {
		if (jobs[i].state != DONE)
			skipped++;
		else if (jobs[i].status == KST_OK)
			ok++;
		else
			failed++;
	}
	fprintf(stderr, "%d converted, %d failed", ok, failed);
	if (skipped)
		fprintf(stderr, ", %d not started (interrupted)", skipped);
	fputc('\n', stderr);
	for (i = 0; i < n; i++) {
		if (jobs[i].state != DONE || jobs[i].status == KST_OK)
			continue;
		fprintf(stderr, "%s: %s (exit %d)\n", jobs[i].in, jobs[i].msg,
		    jobs[i].status);
		if (status == KST_OK)
			status = jobs[i].status;
	}
	if (got_signal)
		status = 128 + got_signal;
	return status;
}

static void
stop_workers(struct job **slot, int nslot)
{
	int i;

	for (i = 0; i < nslot; i++)
		if (slot[i] != NULL)
			kill(slot[i]->pid, SIGTERM);
}

static int
batch(const struct options *o, char **files, int n)
{
	struct job *jobs = calloc(n, sizeof *jobs), **slot;
	int i, next = 0, running = 0, done = 0, failed = 0, stopped = 0;
	int tty = isatty(2), status, wstatus;
	pid_t pid;

	if (jobs == NULL)
		kst_die(KST_ELIMIT, "out of memory");
	if (mkdir(o->outdir, 0777) < 0 && errno != EEXIST)
		kst_die(KST_EOUTPUT, "%s: %s", o->outdir, strerror(errno));
	for (i = 0; i < n; i++) {
		jobs[i].in = files[i];
		jobs[i].out = output_name(o->outdir, files[i]);
		jobs[i].fd_res = -1;
	}
	check_unique(jobs, n);
	slot = calloc(o->jobs, sizeof *slot);
	if (slot == NULL)
		kst_die(KST_ELIMIT, "out of memory");
	for (;;) {
		while (!got_signal && running < o->jobs && next < n) {
			start(o, &jobs[next]);
			if (jobs[next].state == RUNNING) {
				for (i = 0; slot[i] != NULL; i++)
					;
				slot[i] = &jobs[next];
				running++;
			} else {
				done++;
				failed++;
			}
			next++;
		}
		if (running == 0)
			break;
		pid = waitpid(-1, &wstatus, 0);
		if (pid < 0) {
			if (errno != EINTR)
				kst_die(KST_EINTERNAL, "waitpid: %s", strerror(errno));
			if (got_signal && !stopped) {
				stop_workers(slot, o->jobs);
				stopped = 1;
			}
			continue;
		}
		for (i = 0; i < o->jobs && (slot[i] == NULL || slot[i]->pid != pid); i++)
			;
		if (i == o->jobs)
			continue;	/* not one of ours */
		finish(slot[i], wstatus);
		done++;
		failed += slot[i]->status != KST_OK;
		if (tty)
			progress(done, n, failed, slot[i]->in);
		slot[i] = NULL;
		running--;
	}
	if (tty)
		fputs("\r\033[K", stderr);
	if (done > failed)
		sync_dir(o->outdir);
	status = summary(jobs, n);
	if (o->report != NULL && write_report(o->report, jobs, n) != 0) {
		kst_warn("%s: %s", o->report, strerror(errno));
		if (status == KST_OK)
			status = KST_EOUTPUT;
	}
	for (i = 0; i < n; i++) {
		free(jobs[i].out);
		free(jobs[i].msg);
	}
	free(jobs);
	free(slot);
	return status;
}

/* --- main ------------------------------------------------------------- */

static int
number(const char *opt, const char *s, int min, int max)
{
	char *end;
	long v;

	errno = 0;
	v = strtol(s, &end, 10);
	if (errno || end == s || *end || v < min || v > max)
		kst_die(KST_EUSAGE, "%s: not a number from %d to %d: %s", opt,
		    min, max, s);
	return v;
}

int
main(int argc, char **argv)
{
	enum { OPT_VERSION = 256, OPT_OUTPUT, OPT_STAGES, OPT_NOVALIDATE,
	    OPT_TIMEOUT, OPT_REPORT };
	static const struct option longopts[] = {
		{ "outdir", required_argument, NULL, 'o' },
		{ "jobs", required_argument, NULL, 'j' },
		{ "keep-going", no_argument, NULL, 'k' },
		{ "verbose", no_argument, NULL, 'v' },
		{ "help", no_argument, NULL, 'h' },
		{ "version", no_argument, NULL, OPT_VERSION },
		{ "output", required_argument, NULL, OPT_OUTPUT },
		{ "stages", required_argument, NULL, OPT_STAGES },
		{ "no-validate", no_argument, NULL, OPT_NOVALIDATE },
		{ "timeout", required_argument, NULL, OPT_TIMEOUT },
		{ "report", required_argument, NULL, OPT_REPORT },
		{ NULL, 0, NULL, 0 },
	};
	struct options o;
	const char *stages = getenv("KST_STAGES");
	int c, validate = 1, status, ninput;
	long cpus;

	kst_setprog(argv[0]);
	ensure_std_fds();
	memset(&o, 0, sizeof o);
	o.timeout = 120;
	cpus = sysconf(_SC_NPROCESSORS_ONLN);
	o.jobs = cpus < 1 ? 1 : cpus > 256 ? 256 : (int)cpus;
	if (stages != NULL && *stages == '\0')
		stages = NULL;
	while ((c = getopt_long(argc, argv, "+o:j:kvh", longopts, NULL)) != -1) {
		switch (c) {
		case 'o': o.outdir = optarg; break;
		case 'j': o.jobs = number("-j", optarg, 1, 1024); break;
		case 'k': break;	/* batch mode always keeps going */
		case 'v': o.verbose = 1; break;
		case 'h': usage(0); break;
		case OPT_VERSION:
			printf("kst2xml %s\n", KST_VERSION);
			kst_close_stdout();
			return 0;
		case OPT_OUTPUT: o.output = optarg; break;
		case OPT_STAGES: stages = optarg; break;
		case OPT_NOVALIDATE: validate = 0; break;
		case OPT_TIMEOUT:
			o.timeout = number("--timeout", optarg, 0, 86400);
			break;
		case OPT_REPORT: o.report = optarg; break;
		default: usage(KST_EUSAGE);
		}
	}
	ninput = argc - optind;
	if (o.outdir != NULL && o.output != NULL)
		kst_die(KST_EUSAGE, "-o DIR and --output FILE exclude each other");
	if (o.outdir == NULL && ninput > 1)
		kst_die(KST_EUSAGE, "several inputs need -o DIR");
	if (o.outdir != NULL && ninput == 0)
		kst_die(KST_EUSAGE, "-o DIR needs input files");
	if (o.outdir == NULL && o.report != NULL)
		kst_die(KST_EUSAGE, "--report needs -o DIR");
	setup_signals();
	resolve_stages(&o, stages, validate);
	timeout_s = o.timeout;
	if (o.outdir != NULL)
		status = batch(&o, argv + optind, ninput);
	else
		status = single(&o, ninput ? argv[optind] : "-");
	free_stages(&o);
	return status;
}
