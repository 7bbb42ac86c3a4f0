/*
 * `postern org list | show | rename` (usercmd.c dispatches them): each
 * takes the invocation, connected to Redis (cli_connect), and returns the
 * exit status with its message shown.  list and show take --json (the
 * fields are listed in docs/cli.md).
 */
#ifndef POSTERN_ORGCMD_H
#define POSTERN_ORGCMD_H

struct cli;

int	orgcmd_list(struct cli *c);
int	orgcmd_show(struct cli *c, const char *slug);
/*
 * Rename org <from> to <to> in Redis (identity/orgadmin.h); refused when
 * the configuration names <from> (an app's org:, account.mfa_orgs,
 * account.magic_link_orgs, sso.orgs): the operator edits the file first.
 */
int	orgcmd_rename(struct cli *c, const char *from, const char *to);

#endif
