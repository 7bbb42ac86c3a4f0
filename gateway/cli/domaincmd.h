/*
 * `postern domain add|list|remove`: tenants' custom domains (domain.h).
 * `add HOST --app APP --org ORG` registers HOST for app APP (a configured
 * app) and org ORG (an existing org, within its limit of custom domains);
 * every running gateway serves it at once and its ACME client orders the
 * certificate.  `list` shows each with its state (pending, valid,
 * failed), last error and certificate expiry.  `remove HOST` unregisters.
 * Exit statuses: 0 done, 1 failure, 2 usage.
 */
#ifndef POSTERN_DOMAINCMD_H
#define POSTERN_DOMAINCMD_H

#define DOMAINCMD_USAGE							\
	"add HOST --app APP --org ORG | list [--json] | remove HOST   "	\
	"[-c FILE]"

/* <argv>[0] is "domain"; returns the exit status. */
int	domaincmd_main(int argc, char **argv);

#endif
