/*
 * `postern sso test`: fetch one provider's discovery document and JWKS as
 * the gateway would (outbound/oidc.h: the same checks and bounds) and
 * print what Postern found and will use, for operators checking an
 * sso.providers entry.
 */
#ifndef POSTERN_SSOCMD_H
#define POSTERN_SSOCMD_H

#include <stdio.h>

struct config_sso_provider;

#define SSOCMD_USAGE	"test [-c FILE] PROVIDER"

/* argv[0] is "sso".  Returns the exit status: 0 found, 1 not, 2 usage. */
int	ssocmd_main(int argc, char **argv);

/*
 * Test <p>: its report on <out>, failures on standard error as
 * "postern sso test: ...".  Returns the exit status (0 or 1).
 */
int	ssocmd_test(const struct config_sso_provider *p, FILE *out);

#endif
