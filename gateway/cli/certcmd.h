/*
 * `postern cert list|renew|import`: the certificates the gateway serves.
 * `list` shows each host's certificate, from a file of the configuration
 * or from Redis (ACME, or imported), with its expiry, renewal time and
 * last error; `renew HOST` makes an ACME certificate due now (the ACME
 * client of a running gateway renews it); `import HOST --cert F --key F`
 * stores a certificate and key made elsewhere in Redis as the ACME client
 * would (the key sealed), and every running gateway serves it at once.
 * Exit statuses: 0 done, 1 failure, 2 usage.
 */
#ifndef POSTERN_CERTCMD_H
#define POSTERN_CERTCMD_H

#define CERTCMD_USAGE							\
	"list [--json] | renew HOST | import HOST --cert FILE "		\
	"--key FILE   [-c FILE]"

/* <argv>[0] is "cert"; returns the exit status. */
int	certcmd_main(int argc, char **argv);

#endif
