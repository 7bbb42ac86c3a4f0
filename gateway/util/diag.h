/*
 * Diagnostics of configuration and policy files.  Every message reads
 * "path:line:col: message" (warnings: "path:line:col: warning: message");
 * loaders collect all of them and finish their pass before the caller
 * decides, so an operator sees every problem of a file at once.
 */
#ifndef POSTERN_DIAG_H
#define POSTERN_DIAG_H

#include <stddef.h>
#include <stdio.h>

struct diag {
	char	**msgs;		/* formatted lines, in the order found */
	size_t	  nmsgs;
	size_t	  nerrors;
	size_t	  nwarnings;
	size_t	  nlost;	/* messages dropped for lack of memory (still
				 * counted in nerrors, nwarnings) */
};

/* <line> and <col> are one-based; 0 for both leaves out the position. */
void	diag_error(struct diag *, const char *path, size_t line, size_t col,
	    const char *fmt, ...) __attribute__((format(printf, 5, 6)));
void	diag_warning(struct diag *, const char *path, size_t line, size_t col,
	    const char *fmt, ...) __attribute__((format(printf, 5, 6)));
/* Print every message, one per line, to <fp>. */
void	diag_print(const struct diag *, FILE *fp);
/* Log every message through log.c (serve, reload). */
void	diag_log(const struct diag *);
void	diag_free(struct diag *);

#endif
