/*
 * `postern reload` and `postern status`: the running gateway seen from
 * the terminal, through its admin listener's /status (server.admin).
 */
#ifndef POSTERN_OPSCMD_H
#define POSTERN_OPSCMD_H

#define OPSCMD_RELOAD_USAGE	"[-c FILE] [--pid PID] [--timeout SECONDS]"
#define OPSCMD_STATUS_USAGE	"[-c FILE] [--json] [--watch]"

/*
 * Check the configuration (file:line:col errors, and nothing is signalled),
 * send SIGHUP to the gateway (--pid, else $MAINPID as systemd's
 * ExecReload= sets it, else the pid /status reports), then wait for the
 * gateway's own outcome on /status.  0 reloaded, 1 refused or not
 * confirmed, 2 usage.
 */
int	opscmd_reload(int argc, char **argv);

/* One screen of the gateway's state; --watch redraws it every second. */
int	opscmd_status(int argc, char **argv);

#endif
