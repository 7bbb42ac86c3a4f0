/*
 * `postern policy test`: the decision for one request described on the
 * command line, or for every case of a tests file (--suite), against the
 * policies of a configuration.  Needs no Redis: memberships are given
 * with --org-role (or org_roles: in a suite).
 */
#ifndef POSTERN_POLICYCMD_H
#define POSTERN_POLICYCMD_H

#define POLICYCMD_USAGE	"test -c FILE --user EMAIL --method METHOD --url URL\n" \
	"         [--org-role ORG=ROLE ...] [--mfa] [--auth-age DURATION]\n" \
	"         (or --anonymous, --apikey ID, --share ID, or --apikey-org " \
	"ORG --scope S ...\n          instead of --user; without " \
	"--org-role, memberships come from Redis)\n" \
	"       postern policy test -c FILE --suite TESTS.yaml"

/* argv[0] is "policy".  Returns the exit status. */
int	policycmd_main(int argc, char **argv);

#endif
