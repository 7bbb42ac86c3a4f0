/*
 * `postern serve`: load the configuration, open the listeners, run one event
 * loop per worker thread until SIGTERM; SIGHUP reloads atomically.
 */
#ifndef POSTERN_SERVE_H
#define POSTERN_SERVE_H

/* Runs in the foreground; returns the process exit status. */
int	serve_main(const char *config_path);

#endif
