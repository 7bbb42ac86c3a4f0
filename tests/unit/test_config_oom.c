/*
 * Loading a configuration never exits on a failed allocation: it fails
 * with a message and the caller keeps its old snapshot.  The test links
 * with -Wl,--wrap for malloc and its kin (tests/unit/meson.build), so every
 * allocation the gateway's own code makes goes through the counter below;
 * it loads one configuration using every section, counts its allocations,
 * then loads it again once per allocation with just that one failing.
 * Each such load must return NULL with an error; ASan's leak check (the
 * asan build) finds what a failure path forgets to free.
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <cmocka.h>

#include "config.h"
#include "diag.h"
#include "loader.h"
#include "testdir.h"

/* ---- the failing allocator ---- */

static int	armed;		/* count (and maybe fail) allocations */
static size_t	nallocs;	/* allocations seen while armed */
static size_t	fail_at;	/* 1-based allocation to fail; 0: none */

void	*__real_malloc(size_t);
void	*__real_calloc(size_t, size_t);
void	*__real_realloc(void *, size_t);
void	*__real_reallocarray(void *, size_t, size_t);
char	*__real_strdup(const char *);
char	*__real_strndup(const char *, size_t);
int	 __real_vasprintf(char **, const char *, va_list);
void	*__wrap_malloc(size_t);
void	*__wrap_calloc(size_t, size_t);
void	*__wrap_realloc(void *, size_t);
void	*__wrap_reallocarray(void *, size_t, size_t);
char	*__wrap_strdup(const char *);
char	*__wrap_strndup(const char *, size_t);
int	 __wrap_asprintf(char **, const char *, ...);
int	 __wrap_vasprintf(char **, const char *, va_list);

/* 1 if this allocation is the one to fail (errno set as malloc does). */
static int
oom_now(void)
{
	if (!armed || ++nallocs != fail_at)
		return 0;
	errno = ENOMEM;
	return 1;
}

void *
__wrap_malloc(size_t n)
{
	return oom_now() ? NULL : __real_malloc(n);
}

void *
__wrap_calloc(size_t n, size_t size)
{
	return oom_now() ? NULL : __real_calloc(n, size);
}

void *
__wrap_realloc(void *p, size_t n)
{
	return oom_now() ? NULL : __real_realloc(p, n);
}

void *
__wrap_reallocarray(void *p, size_t n, size_t size)
{
	return oom_now() ? NULL : __real_reallocarray(p, n, size);
}

char *
__wrap_strdup(const char *s)
{
	return oom_now() ? NULL : __real_strdup(s);
}

char *
__wrap_strndup(const char *s, size_t n)
{
	return oom_now() ? NULL : __real_strndup(s, n);
}

int
__wrap_vasprintf(char **out, const char *fmt, va_list ap)
{
	if (oom_now()) {
		*out = NULL;
		return -1;
	}
	return __real_vasprintf(out, fmt, ap);
}

int
__wrap_asprintf(char **out, const char *fmt, ...)
{
	va_list	ap;
	int	rc;

	va_start(ap, fmt);
	rc = __wrap_vasprintf(out, fmt, ap);
	va_end(ap);
	return rc;
}

/* ---- the configuration ---- */

static char	cfgpath[128];

static const char *full =
    "server:\n"
    "  workers: 2\n"
    "  listen:\n"
    "    - address: \"127.0.0.1:8443\"\n"
    "    - address: \"127.0.0.1:8080\"\n"
    "      tls: false\n"
    "  admin: 127.0.0.1:9090\n"
    "  trusted_proxies: [10.0.0.0/8, \"::1\"]\n"
    "limits:\n"
    "  request_line: 4KiB\n"
    "timeouts:\n"
    "  header: 5s\n"
    "tls:\n"
    "  certificates:\n"
    "    - cert: cert.pem\n"
    "      key: key.pem\n"
    "security_headers:\n"
    "  hsts_max_age: 1d\n"
    "redis:\n"
    "  address: unix:/run/redis.sock\n"
    "  username: gw\n"
    "  password_file: redispw\n"
    "  prefix: \"pg:\"\n"
    "secret_file: secret\n"
    "previous_secret_files: [secret.old]\n"
    "passwords:\n"
    "  common_passwords: common.txt\n"
    "log:\n"
    "  level: debug\n"
    "sessions:\n"
    "  cookie_domain: Example.com\n"
    "assertion:\n"
    "  key_file: key.pem\n"
    "  previous_key_files: [key.pem]\n"
    "  issuer: gw\n"
    "branding:\n"
    "  product_name: Gate\n"
    "  logo_url: /logo.png\n"
    "  color: \"#112233\"\n"
    "roles: [owner, admin, member, viewer, executive]\n"
    "mfa:\n"
    "  required_roles: [owner]\n"
    "  required_orgs: [staff]\n"
    "account:\n"
    "  magic_link_orgs: [staff]\n"
    "rate_limits:\n"
    "  classes:\n"
    "    login: {limit: 5, period: 1m}\n"
    "    api: {limit: 100, period: 1s}\n"
    "    share: null\n"
    "audit:\n"
    "  file: audit.jsonl\n"
    "webhooks:\n"
    "  - url: https://hooks.example.com/x\n"
    "    events: [\"*\"]\n"
    "    secret_file: secret\n"
    "    allow_private: [10.0.0.0/8]\n"
    "mail:\n"
    "  url: smtp://127.0.0.1:25\n"
    "  username: gw\n"
    "  password_file: mailpw\n"
    "  from: postern@example.com\n"
    "  from_name: Gate\n"
    "policies:\n"
    "  - \"[a].yaml\"\n"
    "  - admin.yaml\n";

static const char *policy_a =
    "app:\n"
    "  name: a\n"
    "  hosts: [a.example.com, \"*.w.example.com\", \"{org}.t.example.com\"]\n"
    "  upstream: https://127.0.0.1:8081\n"
    "  upstream_server_name: a.internal\n"
    "  upstream_ca: cert.pem\n"
    "  security_headers:\n"
    "    csp: \"default-src 'self'\"\n"
    "  protect: false\n";

static const char *policy_admin =
    "app:\n"
    "  name: admin\n"
    "  hosts: [admin.example.com]\n"
    "  upstream: http://127.0.0.1:8083\n"
    "  org: staff\n"
    "  paths: case_insensitive\n"
    "  security_headers:\n"
    "    frame_options: DENY\n"
    "  routes:\n"
    "    - path: /assets/**\n"
    "      methods: [GET]\n"
    "      public: true\n"
    "    - path: /reports/**\n"
    "      role: executive\n"
    "    - path: /users/{id}/impersonate\n"
    "      methods: [POST]\n"
    "      role: owner\n"
    "      mfa: true\n"
    "    - path: /api/**\n"
    "      auth: [apikey]\n"
    "      scopes: [read]\n"
    "      rate_limit: api\n"
    "    - path: /break-glass/**\n"
    "      emails: [alice@example.com, \"@sre.example.com\"]\n"
    "    - path: /a/b/c\n"
    "      users: [bob]\n"
    "    - path: /a/b/d\n"
    "      role: member\n"
    "    - path: /a/x\n"
    "      role: member\n"
    "    - path: /a/y\n"
    "      role: member\n"
    "    - path: /a/z\n"
    "      role: member\n"
    "    - path: /a/w\n"
    "      role: member\n"
    "    - path: /a/v\n"
    "      role: member\n"
    "    - path: /a/u\n"
    "      role: member\n"
    "    - path: /a/t\n"
    "      role: member\n"
    "    - path: /**\n"
    "      role: member\n";

static int
setup(void **state)
{
	(void)state;
	if (testdir_make() == -1)
		return -1;
	snprintf(cfgpath, sizeof(cfgpath), "%s/postern.yaml", testdir);
	testdir_cert("cert.pem", "key.pem");
	testdir_secret("secret");
	testdir_secret("secret.old");
	testdir_write("redispw", "redis-password\n", 0600);
	testdir_write("mailpw", "mail-password\n", 0600);
	testdir_write("common.txt", "password\n123456\n", 0644);
	testdir_write("a.yaml", policy_a, 0644);
	testdir_write("admin.yaml", policy_admin, 0644);
	testdir_write("postern.yaml", full, 0644);
	return 0;
}

static int
teardown(void **state)
{
	(void)state;
	return testdir_remove();
}

/* Load the file with allocation <n> failing (0: none). */
static struct config *
load(size_t n, struct diag *d)
{
	struct config	*cfg;

	memset(d, 0, sizeof(*d));
	nallocs = 0;
	fail_at = n;
	armed = 1;
	cfg = config_load(cfgpath, d);
	armed = 0;
	return cfg;
}

static void
test_full_loads(void **state)
{
	struct config	*cfg;
	struct diag	 d;

	(void)state;
	cfg = load(0, &d);
	if (cfg == NULL)
		diag_print(&d, stderr);
	assert_non_null(cfg);
	assert_int_equal(d.nerrors, 0);
	assert_int_equal(cfg->napps, 2);
	assert_non_null(cfg->mail);
	assert_int_equal(cfg->nwebhooks, 1);
	assert_non_null(cfg->signer);
	config_unref(cfg);
	diag_free(&d);
	assert_true(nallocs > 100);	/* every section allocated */
}

/* Each allocation of the load, failing alone, fails the load cleanly. */
static void
test_every_allocation_fails_cleanly(void **state)
{
	struct config	*cfg;
	struct diag	 d;
	size_t		 total, n, i;
	int		 nomem;

	(void)state;
	cfg = load(0, &d);
	assert_non_null(cfg);
	config_unref(cfg);
	diag_free(&d);
	total = nallocs;
	for (n = 1; n <= total; n++) {
		if (getenv("OOM_FROM") != NULL && n < strtoul(getenv("OOM_FROM"),
		    NULL, 10))
			continue;
		cfg = load(n, &d);
		if (cfg != NULL) {
			fprintf(stderr, "allocation %zu of %zu failed and the "
			    "load succeeded\n", n, total);
			config_unref(cfg);
			fail();
		}
		if (d.nerrors == 0) {
			fprintf(stderr, "allocation %zu of %zu: no error\n", n,
			    total);
			fail();
		}
		for (i = 0, nomem = d.nlost > 0; i < d.nmsgs; i++)
			nomem |= strstr(d.msgs[i], "out of memory") != NULL ||
			    strstr(d.msgs[i], "Cannot allocate memory") !=
			    NULL;
		if (!nomem) {
			fprintf(stderr, "allocation %zu of %zu:\n", n, total);
			diag_print(&d, stderr);
			fail();
		}
		diag_free(&d);
	}
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_full_loads),
		cmocka_unit_test(test_every_allocation_fails_cleanly),
	};

	return cmocka_run_group_tests(tests, setup, teardown);
}
