/*
 * `postern secrets rotate -c FILE`: after a new secret_file, with the old
 * one listed under previous_secret_files, re-seal every stored TOTP seed,
 * the ACME account key and the key of every acme:cert:<host> and
 * acme:alpn01:<host> with the new secret (each field replaced by a
 * compare-and-set script, only if unchanged meanwhile),
 * so that the old secret can then be removed (config values sealed by the
 * old secret are printed re-sealed, to paste).  Exit 0 when every sealed
 * value opens with the current secret afterwards, 1 otherwise.
 * `postern secrets seal --purpose webhook|smtp` seals the line on standard
 * input for the configuration (a webhook's secret, mail.password:
 * sealed:v1...).
 */
#ifndef POSTERN_SECCMD_H
#define POSTERN_SECCMD_H

#define SECCMD_USAGE	"rotate | seal --purpose webhook|smtp   [-c FILE]"

/* <argv>[0] is "secrets"; returns the exit status. */
int	seccmd_main(int argc, char **argv);

#endif
