/*
 * `postern user ...` and `postern org ...`: operator commands against
 * Redis (synchronous), with passwords read from a TTY without echo or from
 * standard input, never from argv.  Exit statuses: 0 done, 1 failure
 * (Redis unreachable, user exists, password refused), 2 usage.
 */
#ifndef POSTERN_USERCMD_H
#define POSTERN_USERCMD_H

/* <argv>[0] is "user" or "org"; returns the exit status. */
int	usercmd_user(int argc, char **argv);
int	usercmd_org(int argc, char **argv);
int	usercmd_sessions(int argc, char **argv);

#define USERCMD_USER_USAGE						\
	"add EMAIL [--name NAME] | passwd EMAIL | disable EMAIL |\n"	\
	"           enable EMAIL | revoke-sessions EMAIL | list [--json] |\n"	\
	"           show EMAIL [--json] | delete EMAIL [--yes] |\n"	\
	"           reset-2fa EMAIL |\n"					\
	"           invite EMAIL [--org ORG --role ROLE] [--name NAME] "	\
	"[--host HOST]\n"							\
	"           [-c FILE]"
#define USERCMD_ORG_USAGE						\
	"add SLUG [--name NAME] | list [--json] | show SLUG [--json] |\n"	\
	"           member SLUG EMAIL (--role owner|admin|member|viewer | "	\
	"--remove) |\n"							\
	"           remove-member SLUG EMAIL | rename OLD NEW   [-c FILE]"

#define USERCMD_SESSIONS_USAGE	"revoke --all [-c FILE]"

#endif
