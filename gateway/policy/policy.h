/*
 * Policy files: which app serves which hosts, where it forwards, and its
 * routes (who may reach what; policies/README.md is the reference).  A
 * file holds one top-level "app:" mapping.  Routes are compiled by
 * policy_compile() once the whole configuration (and its role ladder) is
 * read; decide.h makes the decisions.
 */
#ifndef POSTERN_POLICY_H
#define POSTERN_POLICY_H

#include "config.h"

struct diag;

/*
 * Load the policy file <path> and append its app to <cfg>->apps.  Problems
 * (including an app name or host already used by an app of an earlier
 * file) go to <d> as "file:line:col: message".  Returns 0, or -1 if the
 * file added errors (then nothing was appended).
 */
int	policy_load_file(struct config *cfg, const char *path, struct diag *d);

/* The same for <len> bytes of <buf>, named <path> in messages (fuzzing). */
int	policy_load_buffer(struct config *cfg, const char *path,
	    const void *buf, size_t len, struct diag *d);

/*
 * Check and compile the routes of every app of <cfg> against cfg->roles;
 * problems go to <d>.  Called by config_load() after the walk.
 */
void	policy_compile(struct config *cfg, struct diag *d);

/* Free what <app> holds (not <app> itself); NULL-safe. */
void	policy_app_free(struct config_app *app);

#endif
