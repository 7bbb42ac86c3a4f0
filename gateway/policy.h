/*
 * Policy files: which app serves which hosts and where it forwards.  For
 * now a file holds one top-level "app:" mapping with name, hosts and
 * upstream; routes and rules arrive with the policy engine.
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

/* Free what <app> holds (not <app> itself); NULL-safe. */
void	policy_app_free(struct config_app *app);

#endif
