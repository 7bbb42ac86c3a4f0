/*
 * `postern apikey ...` and `postern share ...`: operator commands on API
 * keys and share links in Redis (grant.h).  Exit statuses: 0 done, 1
 * failure (Redis unreachable, no such org/app, path not shareable), 2
 * usage.
 */
#ifndef POSTERN_GRANTCMD_H
#define POSTERN_GRANTCMD_H

/* <argv>[0] is "apikey" or "share"; returns the exit status. */
int	grantcmd_apikey(int argc, char **argv);
int	grantcmd_share(int argc, char **argv);

#define GRANTCMD_APIKEY_USAGE						\
	"create --org ORG --scope S [--scope S ...] [--expires 90d|never]\n" \
	"             [--name NAME] [--rate PER_MINUTE] | list [--org ORG] [--json] |\n" \
	"             revoke ID   [-c FILE]"
#define GRANTCMD_SHARE_USAGE						\
	"create --app APP --path PATH [--method M ...] [--prefix]\n"	\
	"             [--expires 7d] [--org ORG] [--host HOST] [--name NAME] |\n" \
	"             list [--json] | revoke ID   [-c FILE]"

#endif
