/*
 * natsrv.c - start and stop a scratch nats-server (natsrv.h).
 */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <sys/prctl.h>
#include <sys/wait.h>

#include "natsrv.h"

#define LISTENING	"Listening for client connections on "
#define READY		"Server is ready"

static void
sleep_ms(long ms)
{
	struct timespec	ts = { ms / 1000, (ms % 1000) * 1000000 };

	nanosleep(&ts, NULL);
}

static char *
read_log(const char *path)
{
	FILE	*f;
	char	*buf;
	long	 n;

	if ((f = fopen(path, "r")) == NULL)
		return NULL;
	if ((buf = malloc(65537)) == NULL) {
		fclose(f);
		return NULL;
	}
	n = (long)fread(buf, 1, 65536, f);
	buf[n < 0 ? 0 : n] = '\0';
	fclose(f);
	return buf;
}

static void
dump_log(const struct natsrv *ns, const char *why)
{
	char	*log = read_log(ns->log);

	fprintf(stderr, "natsrv: %s; nats-server's log:\n%s\n", why,
	    log != NULL ? log : "(none)");
	free(log);
}

/* Wait for "ready" and learn the port from the log. */
static int
wait_ready(struct natsrv *ns)
{
	char		*log, *p;
	int		 waited, status;
	unsigned	 port;

	for (waited = 0; waited < NATSRV_START_TIMEOUT; waited += 20) {
		if (waitpid(ns->pid, &status, WNOHANG) == ns->pid) {
			ns->pid = -1;
			dump_log(ns, "nats-server exited at start");
			return -1;
		}
		if ((log = read_log(ns->log)) != NULL &&
		    strstr(log, READY) != NULL &&
		    (p = strstr(log, LISTENING)) != NULL &&
		    (p = strstr(p, "127.0.0.1:")) != NULL &&
		    sscanf(p, "127.0.0.1:%u", &port) == 1) {
			free(log);
			ns->port = (uint16_t)port;
			snprintf(ns->url, sizeof(ns->url),
			    "nats://127.0.0.1:%u", port);
			return 0;
		}
		free(log);
		sleep_ms(20);
	}
	dump_log(ns, "nats-server not ready in time");
	natsrv_stop(ns);
	return -1;
}

int
natsrv_start(struct natsrv *ns, const char *store_dir, uint16_t port)
{
	const char	*bin = getenv("NATS_SERVER");
	char		 port_s[16], pidfile[300];
	int		 fd;

	if (bin == NULL || *bin == '\0')
		bin = "nats-server";
	memset(ns, 0, sizeof(*ns));
	snprintf(ns->store, sizeof(ns->store), "%s", store_dir);
	snprintf(ns->log, sizeof(ns->log), "%s/nats.log", store_dir);
	snprintf(pidfile, sizeof(pidfile), "%s/nats.pid", store_dir);
	snprintf(port_s, sizeof(port_s), "%d", port == 0 ? -1 : (int)port);
	/* A restart appends; the "ready" looked for must be the new one. */
	unlink(ns->log);
	if ((ns->pid = fork()) == -1) {
		fprintf(stderr, "natsrv: fork: %s\n", strerror(errno));
		return -1;
	}
	if (ns->pid == 0) {
		/* A test that dies leaves no server behind. */
		prctl(PR_SET_PDEATHSIG, SIGKILL);
		if ((fd = open("/dev/null", O_RDWR)) != -1) {
			dup2(fd, STDIN_FILENO);
			dup2(fd, STDOUT_FILENO);
			dup2(fd, STDERR_FILENO);
		}
		execlp(bin, bin, "-js", "-a", "127.0.0.1", "-p", port_s,
		    "-sd", store_dir, "-l", ns->log, "-P", pidfile, (char *)NULL);
		_exit(127);
	}
	return wait_ready(ns);
}

/* Gone, or a zombie that its parent has yet to reap. */
static int
gone(pid_t pid)
{
	char	 path[64], buf[256], *p;
	FILE	*f;
	int	 status, zombie = 0;

	if (waitpid(pid, &status, WNOHANG) == pid)
		return 1;
	if (kill(pid, 0) == -1 && errno == ESRCH)
		return 1;
	snprintf(path, sizeof(path), "/proc/%ld/stat", (long)pid);
	if ((f = fopen(path, "r")) == NULL)
		return 1;
	if (fgets(buf, sizeof(buf), f) != NULL &&
	    (p = strrchr(buf, ')')) != NULL)
		zombie = p[1] == ' ' && p[2] == 'Z';
	fclose(f);
	return zombie;
}

int
natsrv_stop(struct natsrv *ns)
{
	char	path[300];
	int	waited, rc = 0;

	if (ns->pid <= 0)
		return 0;
	kill(ns->pid, SIGTERM);
	for (waited = 0; waited < 5000 && !gone(ns->pid); waited += 20)
		sleep_ms(20);
	if (!gone(ns->pid)) {
		kill(ns->pid, SIGKILL);
		for (waited = 0; waited < 5000 && !gone(ns->pid); waited += 20)
			sleep_ms(20);
		rc = -1;
	}
	ns->pid = -1;
	/* No later adopt may find this PID, once reused by another process. */
	if (ns->store[0] != '\0') {
		snprintf(path, sizeof(path), "%s/nats.pid", ns->store);
		unlink(path);
	}
	return rc;
}

int
natsrv_adopt(struct natsrv *ns, const char *store_dir)
{
	char	 path[300];
	FILE	*f;
	long	 pid = 0;

	memset(ns, 0, sizeof(*ns));
	ns->pid = -1;
	snprintf(ns->store, sizeof(ns->store), "%s", store_dir);
	snprintf(path, sizeof(path), "%s/nats.pid", store_dir);
	if ((f = fopen(path, "r")) == NULL)
		return -1;
	if (fscanf(f, "%ld", &pid) != 1 || pid <= 1)
		pid = 0;
	fclose(f);
	if (pid == 0)
		return -1;
	ns->pid = (pid_t)pid;
	return 0;
}
