/*
 * `postern audit ...`: verify the hash chain of the audit trail (audit.h),
 * print its stored lines (tail, export) and trim its start behind a
 * signed checkpoint.  Exit statuses: 0 done, 1 failure or a broken chain,
 * 2 usage.
 */
#ifndef POSTERN_AUDITCMD_H
#define POSTERN_AUDITCMD_H

#define AUDITCMD_USAGE							\
	"verify [--from SEQ] | tail [-n N] | export --since SEQ |\n"	\
	"                     trim --keep N   [-c FILE]"

/* <argv>[0] is "audit"; returns the exit status. */
int	auditcmd_main(int argc, char **argv);

#endif
