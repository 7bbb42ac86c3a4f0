/*
 * libFuzzer target: bytes as a policy file through policy_load_buffer()
 * and policy_compile() (routes, patterns, tenants, the whole-list checks),
 * then a few decisions against whatever compiled.  Upstream URLs with a
 * host name are skipped: they would ask DNS.
 *
 * An https:// upstream makes a TLS context, which loads the system trust
 * store: some 140 certificates parsed for each such input (360 ms under
 * ASan), none of them input.  The trust store is pointed at an empty file
 * once, at start, so the context is still made and freed for every input.
 */
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "config.h"
#include "decide.h"
#include "diag.h"
#include "log.h"
#include "policy.h"
#include "session.h"

int	LLVMFuzzerInitialize(int *, char ***);
int	LLVMFuzzerTestOneInput(const uint8_t *, size_t);

static const char *const ladder[] = { "owner", "executive", "admin",
    "member", "viewer" };

int
LLVMFuzzerInitialize(int *argc, char ***argv)
{
	(void)argc;
	(void)argv;
	if (setenv("SSL_CERT_FILE", "/dev/null", 1) == -1 ||
	    setenv("SSL_CERT_DIR", "/dev/null", 1) == -1) {
		perror("fuzz_policy: setenv");
		exit(1);
	}
	log_init(LOG_LEVEL_ERROR, LOG_FORMAT_TEXT);
	return 0;
}

/* 1 if an upstream URL names a host (not an address nor localhost). */
static int
fuzz_asks_dns(const uint8_t *data, size_t size)
{
	size_t	i;

	for (i = 0; i + 3 < size; i++)
		if (memcmp(data + i, "://", 3) == 0 && !(data[i + 3] == '[' ||
		    (data[i + 3] >= '0' && data[i + 3] <= '9') ||
		    (size - i - 3 >= 9 && memcmp(data + i + 3, "localhost",
		    9) == 0)))
			return 1;
	return 0;
}

static void
fuzz_decide(const struct config_app *app)
{
	static const char *const paths[] = { "/", "/a", "/a/b", "/acme/x/y",
	    "/admin/users/1", "/x;y/z/", "/static/a.css" };
	static const char *const methods[] = { "GET", "POST", "PROPFIND" };
	struct session_org	 org = { "acme", "admin" };
	struct decide_identity	 id;
	struct decide_request	 req;
	struct decision		 out;
	size_t			 i, j;

	memset(&id, 0, sizeof(id));
	memset(&req, 0, sizeof(req));
	for (i = 0; i < sizeof(paths) / sizeof(paths[0]); i++)
		for (j = 0; j < 4; j++) {
			id.kind = (enum decide_kind)j;
			id.user = "u1";
			id.email = "a@acme.test";
			id.orgs = &org;
			id.norgs = 1;
			id.key_org = "acme";
			id.share_path = "/a";
			id.share_methods = 1;
			req.method = methods[(i + j) % 3];
			req.path = paths[i];
			req.host = app->nhosts > 0 && app->hosts[0][0] != '{' &&
			    app->hosts[0][0] != '*' ? app->hosts[0] :
			    "acme.example.com";
			(void)decide(app, &req, &id, 1700000000, &out);
		}
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct diag	 d = { 0 };
	struct config	 cfg;
	size_t		 i;

	if (fuzz_asks_dns(data, size))
		return 0;
	memset(&cfg, 0, sizeof(cfg));
	cfg.roles = (char **)(uintptr_t)ladder;
	cfg.nroles = 5;
	(void)policy_load_buffer(&cfg, "policy.yaml", data, size, &d);
	policy_compile(&cfg, &d);
	if (d.nerrors == 0)
		for (i = 0; i < cfg.napps; i++)
			fuzz_decide(&cfg.apps[i]);
	for (i = 0; i < cfg.napps; i++)
		policy_app_free(&cfg.apps[i]);
	free(cfg.apps);
	diag_free(&d);
	return 0;
}
