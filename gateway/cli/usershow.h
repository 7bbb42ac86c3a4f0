/*
 * `postern user show EMAIL [--json]` (usershow.c).
 */
#ifndef POSTERN_USERSHOW_H
#define POSTERN_USERSHOW_H

struct cli;

/* Print the user of (normalised) <email> over cli's store; the exit
 * status. */
int	usershow_run(struct cli *cli, const char *email);

#endif
