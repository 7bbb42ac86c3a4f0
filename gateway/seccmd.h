/*
 * `postern secrets rotate -c FILE`: after a new secret_file, with the old
 * one listed under previous_secret_files, re-seal every stored TOTP seed
 * with the new secret (each field replaced only if unchanged meanwhile),
 * so that the old secret can then be removed.  Exit 0 when every sealed
 * value opens with the current secret afterwards, 1 otherwise.
 */
#ifndef POSTERN_SECCMD_H
#define POSTERN_SECCMD_H

#define SECCMD_USAGE	"rotate [-c FILE]"

/* <argv>[0] is "secrets"; returns the exit status. */
int	seccmd_main(int argc, char **argv);

#endif
