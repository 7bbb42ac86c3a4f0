/*
 * config.c, yconf.c, policy.c: good and bad files written to a temporary
 * directory, with the exact "file:line:col: message" lines an operator reads.
 */
#include <sys/stat.h>

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <cmocka.h>

#include <openssl/ec.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/rand.h>
#include <openssl/x509.h>

#include "config.h"
#include "diag.h"
#include "loader.h"
#include "testdir.h"

static char	cfgpath[128];

static int
setup(void **state)
{
	(void)state;
	if (testdir_make() == -1)
		return -1;
	snprintf(cfgpath, sizeof(cfgpath), "%s/postern.yaml", testdir);
	testdir_cert("cert.pem", "key.pem");
	testdir_cert("cert2.pem", "key2.pem");
	testdir_secret("secret");
	testdir_write("short", "0123456789", 0600);
	testdir_write("a.yaml", "app:\n  name: a\n  hosts: [a.example.com, "
	    "\"*.w.example.com\", LocalHost]\n  upstream: "
	    "http://127.0.0.1:8081\n  protect: false\n", 0644);
	testdir_write("b.yaml", "app:\n  name: b\n  hosts:\n    - b.example.com\n"
	    "    - localhost\n  upstream: http://127.0.0.1:8082\n"
	    "  protect: false\n", 0644);
	return 0;
}

static int
teardown(void **state)
{
	(void)state;
	return testdir_remove();
}

static struct config *
load(const char *yaml, struct diag *d)
{
	testdir_write("postern.yaml", yaml, 0644);
	memset(d, 0, sizeof(*d));
	return config_load(cfgpath, d);
}

/*
 * <want> with "$D" replaced by the test directory; a leading "line:col"
 * or ":" stands for the config file's path.
 */
static void
expand(char *buf, size_t size, const char *want)
{
	const char	*p;
	size_t		 off = 0;

	if ((want[0] >= '0' && want[0] <= '9') || want[0] == ':')
		off = (size_t)snprintf(buf, size, "%s%s", cfgpath,
		    want[0] == ':' ? "" : ":");
	for (p = want; *p != '\0' && off + 1 < size; p++) {
		if (p[0] == '$' && p[1] == 'D') {
			off += (size_t)snprintf(buf + off, size - off, "%s",
			    testdir);
			p++;
		} else
			buf[off++] = *p;
	}
	buf[off < size ? off : size - 1] = '\0';
}

/* Loading <yaml> fails with exactly the messages <...> (NULL-ended),
 * each given without the file name: "3:5: message". */
static void
load_fails(const char *yaml, ...)
{
	struct config	*cfg;
	struct diag	 d;
	const char	*want;
	char		 line[600];
	size_t		 i = 0;
	va_list		 ap;

	cfg = load(yaml, &d);
	for (i = 0; i < d.nmsgs; i++)
		print_message("got: %s\n", d.msgs[i]);
	i = 0;
	va_start(ap, yaml);
	while ((want = va_arg(ap, const char *)) != NULL) {
		if (i >= d.nmsgs)
			fail_msg("missing message: %s", want);
		expand(line, sizeof(line), want);
		assert_string_equal(d.msgs[i], line);
		i++;
	}
	va_end(ap);
	if (i != d.nmsgs)
		fail_msg("unexpected message: %s", d.msgs[i]);
	assert_null(cfg);
	diag_free(&d);
}

static const char *good =
    "server:\n"
    "  workers: 4\n"
    "  listen:\n"
    "    - address: \"127.0.0.1:8443\"\n"
    "    - address: \"[::1]:8080\"\n"
    "      tls: false\n"
    "      redirect: false\n"
    "  admin: 127.0.0.1:9090\n"
    "  trusted_proxies: [10.0.0.0/8, \"::1\"]\n"
    "  max_connections: 500\n"
    "limits:\n"
    "  request_line: 4KiB\n"
    "  body_size: 0\n"
    "timeouts:\n"
    "  header: 5s\n"
    "  tunnel_idle: 1h30m\n"
    "tls:\n"
    "  certificates:\n"
    "    - cert: cert.pem\n"
    "      key: key.pem\n"
    "security_headers:\n"
    "  hsts_max_age: 1d\n"
    "redis:\n"
    "  address: unix:/run/redis.sock\n"
    "  db: 3\n"
    "  username: null\n"
    "secret_file: secret\n"
    "log:\n"
    "  level: debug\n"
    "  access_log: false\n"
    "policies:\n"
    "  - \"[a].yaml\"\n"
    "  - a.yaml\n";

static void
test_good(void **state)
{
	struct config	*cfg;
	struct diag	 d;
	char		 want[256];

	(void)state;
	cfg = load(good, &d);
	if (cfg == NULL)
		fail_msg("%s", d.nmsgs > 0 ? d.msgs[0] : "?");
	assert_int_equal(d.nmsgs, 0);
	assert_int_equal(cfg->workers, 4);
	assert_int_equal(cfg->nlisten, 2);
	assert_int_equal(cfg->listen[0].tls, 1);
	assert_int_equal(cfg->listen[1].tls, 0);
	assert_int_equal(cfg->listen[1].redirect, 0);
	assert_true(cfg->admin_enabled);
	assert_int_equal(cfg->ntrusted_proxies, 2);
	assert_int_equal(cfg->max_connections, 500);
	assert_int_equal(cfg->max_connections_per_ip, 256);
	assert_int_equal(cfg->max_request_line, 4096);
	assert_int_equal(cfg->max_header_size, 32768);
	assert_int_equal(cfg->max_body_size, 0);
	assert_int_equal(cfg->header_timeout, 5000);
	assert_int_equal(cfg->idle_timeout, 60000);
	assert_int_equal(cfg->tunnel_idle_timeout, 5400000);
	assert_int_equal(cfg->ncerts, 1);
	snprintf(want, sizeof(want), "%s/key.pem", testdir);
	assert_string_equal(cfg->certs[0].key_file, want);
	assert_int_equal(cfg->hsts_max_age, 86400);
	assert_int_equal(cfg->redis_db, 3);
	assert_null(cfg->redis_username);
	assert_string_equal(cfg->redis_prefix, "postern:");
	assert_int_equal(cfg->log_level, LOG_LEVEL_DEBUG);
	assert_int_equal(cfg->access_log, 0);
	assert_int_equal(cfg->npolicy_files, 1);	/* a.yaml once */
	assert_int_equal(cfg->napps, 1);
	config_unref(cfg);
	diag_free(&d);
}

static void
test_defaults_and_ref(void **state)
{
	struct config	*cfg;
	struct diag	 d;

	(void)state;
	cfg = load("server:\n  listen:\n    - address: 127.0.0.1:80\n"
	    "      tls: false\n", &d);
	assert_non_null(cfg);
	assert_true(cfg->workers >= 1);
	assert_int_equal(cfg->listen[0].redirect, 1);
	assert_false(cfg->admin_enabled);
	assert_int_equal(cfg->max_body_size, 100 * 1024 * 1024);
	assert_int_equal(cfg->hsts_max_age, 365 * 86400);
	assert_int_equal(cfg->hsts_include_subdomains, 1);
	assert_int_equal(cfg->redis_connect_timeout, 2000);
	assert_int_equal(cfg->shutdown_timeout, 30000);
	assert_int_equal(cfg->log_level, LOG_LEVEL_INFO);
	assert_int_equal(cfg->napps, 0);
	assert_ptr_equal(config_ref(cfg), cfg);
	config_unref(cfg);
	assert_int_equal(cfg->refcnt, 1);
	config_unref(cfg);
	config_unref(NULL);
	diag_free(&d);
}

static void
test_app_for_host(void **state)
{
	struct config	*cfg;
	struct diag	 d;
	const char	*yaml = "server:\n  listen:\n    - address: "
	    "127.0.0.1:80\n      tls: false\npolicies: [a.yaml]\n";

	(void)state;
	assert_non_null(cfg = load(yaml, &d));
	assert_string_equal(config_app_for_host(cfg, "a.example.com")->name,
	    "a");
	assert_string_equal(config_app_for_host(cfg, "localhost")->name, "a");
	assert_string_equal(config_app_for_host(cfg, "x.w.example.com")->name,
	    "a");
	assert_null(config_app_for_host(cfg, "w.example.com"));
	assert_null(config_app_for_host(cfg, "x.y.w.example.com"));
	assert_null(config_app_for_host(cfg, ".w.example.com"));
	assert_null(config_app_for_host(cfg, "b.example.com"));
	assert_null(config_app_for_host(cfg, ""));
	config_unref(cfg);
	diag_free(&d);
}

static void
test_missing_file(void **state)
{
	struct diag	 d = { 0 };
	char		 path[256], want[300];

	(void)state;
	snprintf(path, sizeof(path), "%s/nope.yaml", testdir);
	assert_null(config_load(path, &d));
	snprintf(want, sizeof(want), "%s: cannot open: No such file or "
	    "directory", path);
	assert_int_equal(d.nmsgs, 1);
	assert_string_equal(d.msgs[0], want);
	diag_free(&d);
}

#define LISTEN	"server:\n  listen:\n    - address: 127.0.0.1:80\n" \
		"      tls: false\n"

static void
test_keys(void **state)
{
	(void)state;
	load_fails(LISTEN "serverr: {}\n",
	    "5:1: unknown key 'serverr' at the top level (expected one of: "
	    "server, limits, timeouts, tls, security_headers, redis, "
	    "secret_file, previous_secret_files, passwords, log, sessions, "
	    "assertion, branding, "
	    "policies, roles, mfa, account, mail, pages, sso, rate_limits, audit, "
	    "webhooks, acme)", NULL);
	load_fails(LISTEN "  wrkers: 2\n",
	    "5:3: unknown key 'wrkers' in 'server' (expected one of: workers, "
	    "listen, admin, trusted_proxies, max_connections, "
	    "max_connections_per_ip)", NULL);
	load_fails(LISTEN "  listen: []\n",
	    "5:3: duplicate key 'server.listen' (first at line 2)", NULL);
	load_fails("server:\n  workers: 2\n",
	    "2:3: missing required key 'listen' in 'server'", NULL);
	load_fails("log: {}\n",
	    "1:1: missing required key 'server' at the top level", NULL);
	load_fails("server:\n  listen:\n    - tls: false\n",
	    "3:7: missing required key 'address' in 'server.listen'", NULL);
	load_fails("server:\n  listen: 127.0.0.1:80\n",
	    "2:11: server.listen: expected a list, got a scalar", NULL);
	load_fails("server:\n  listen: []\n",
	    "2:11: server.listen: at least one listener is required", NULL);
	load_fails("- a\n", "1:1: file: expected a mapping, got a list", NULL);
	load_fails("", ": empty configuration (expected a mapping with at "
	    "least server.listen)", NULL);
}

static void
test_values(void **state)
{
	(void)state;
	load_fails(LISTEN "timeouts:\n  header: 30x\n",
	    "6:11: timeouts.header: invalid duration '30x': unknown unit 'x' "
	    "(expected ms, s, m, h or d)", NULL);
	load_fails(LISTEN "timeouts:\n  idle: 30\n",
	    "6:9: timeouts.idle: invalid duration '30': missing unit (ms, s, "
	    "m, h or d, e.g. 30s)", NULL);
	load_fails(LISTEN "timeouts:\n  idle: 0s\n",
	    "6:9: timeouts.idle: invalid duration '0s': out of range (1ms to "
	    "30d)", NULL);
	load_fails(LISTEN "limits:\n  header_size: 16QiB\n",
	    "6:16: limits.header_size: invalid size '16QiB': unknown unit "
	    "'QiB' (expected B, KiB, MiB, GiB, TiB, KB, MB, GB or TB)", NULL);
	load_fails(LISTEN "redis:\n  db: 16\n",
	    "6:7: redis.db: invalid number '16': out of range (0 to 15)", NULL);
	load_fails(LISTEN "  workers: 0\n",
	    "5:12: server.workers: invalid number '0': out of range (1 to 256)",
	    NULL);
	load_fails("server:\n  listen:\n    - address: 127.0.0.1:70000\n",
	    "3:16: server.listen.address: invalid address '127.0.0.1:70000': "
	    "port must be a number from 1 to 65535", NULL);
	load_fails(LISTEN "    - address: 127.0.0.1:81\n      tls: \"false\"\n",
	    "6:12: server.listen.tls: expected true or false, got a quoted "
	    "string", NULL);
	load_fails(LISTEN "log:\n  level: verbose\n",
	    "6:10: log.level: unknown level 'verbose' (expected error, warn, "
	    "info or debug)", NULL);
	load_fails(LISTEN "  trusted_proxies: [10.0.0.1/8]\n",
	    "5:21: server.trusted_proxies: invalid CIDR '10.0.0.1/8': host "
	    "bits are set (the network is 10.0.0.0/8)", NULL);
	load_fails(LISTEN "    - address: 127.0.0.1:80\n      tls: false\n",
	    "5:7: server.listen: address '127.0.0.1:80' is already used by "
	    "the listener at line 3", NULL);
}

static void
test_all_errors(void **state)
{
	(void)state;
	load_fails("server:\n  listen:\n    - address: 1.2.3.4\n"
	    "  bogus: 1\nlimits:\n  headers: many\n",
	    "3:16: server.listen.address: invalid address '1.2.3.4': missing "
	    "port (host:port)",
	    "4:3: unknown key 'bogus' in 'server' (expected one of: workers, "
	    "listen, admin, trusted_proxies, max_connections, "
	    "max_connections_per_ip)",
	    "6:12: limits.headers: invalid number 'many': expected a number",
	    NULL);
}

static void
test_yaml_safety(void **state)
{
	(void)state;
	load_fails("server:\n  listen:\n    - address: [\n",
	    "4:1: YAML syntax error: did not find expected node content while "
	    "parsing a flow node", NULL);
	load_fails("a: &x [1]\nb: *x\n",
	    "1:4: YAML anchors and aliases are not supported",
	    "2:4: YAML anchors and aliases are not supported", NULL);
	load_fails("a: !!python/object 1\n",
	    "1:4: YAML tag 'tag:yaml.org,2002:python/object' is not supported "
	    "(only !!str, !!int, !!bool, !!null, !!float)", NULL);
	load_fails("a: 1\n---\nb: 2\n",
	    "2:1: only one YAML document per file", NULL);
	load_fails("a: [[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[]]]]]]]]]]]]]]]]]]]]]]]"
	    "]]]]]]]]]]]]]]\n", "1:35: nesting deeper than 32 levels", NULL);
}

static void
test_files(void **state)
{
	(void)state;
	testdir_write("open.pem", "x", 0644);
	testdir_write("open.pem", "x", 0644);
	testdir_write("bad.pem", "-----BEGIN CERTIFICATE-----\nxx\n", 0600);
	load_fails(LISTEN "    - address: 127.0.0.1:443\n"
	    "tls:\n  certificates:\n    - cert: nope.pem\n      key: open.pem\n",
	    "8:13: tls.certificates.cert: cannot open $D/nope.pem: No such "
	    "file or directory",
	    "9:12: tls.certificates.key: $D/open.pem is mode 0644; expected "
	    "0600 or stricter (no group or world access)", NULL);
	load_fails(LISTEN "tls:\n  certificates:\n    - cert: cert.pem\n"
	    "      key: key2.pem\n    - cert: bad.pem\n      key: bad.pem\n"
	    "    - cert: /\n      key: key.pem\n",
	    "7:7: tls.certificates: key $D/key2.pem does not match "
	    "certificate $D/cert.pem",
	    "9:13: tls.certificates.cert: $D/bad.pem holds no PEM certificate "
	    "that OpenSSL can load",
	    "10:12: tls.certificates.key: $D/bad.pem holds no unencrypted PEM "
	    "private key that OpenSSL can load",
	    "11:13: tls.certificates.cert: / is not a regular file", NULL);
	load_fails(LISTEN "secret_file: short\nredis:\n  password_file: "
	    "open.pem\npolicies: [\"*.nothing\"]\n",
	    "5:14: secret_file: $D/short holds 10 bytes; expected at least 32 "
	    "random bytes",
	    "7:18: redis.password_file: $D/open.pem is mode 0644; expected "
	    "0600 or stricter (no group or world access)",
	    "8:12: policies: '$D/*.nothing' matches no file", NULL);
}

static void
test_policies(void **state)
{
	(void)state;
	testdir_write("c.yaml", "app:\n  name: a\n  hosts: []\n  upstream: "
	    "ftp://x\n  routez: []\n", 0644);
	testdir_write("d.yaml", "app:\n  name: Bad_Name\n  hosts: [\"a b\", "
	    "\"*.x.com\", \"*.x.com\"]\n", 0644);
	load_fails(LISTEN "policies: [a.yaml, b.yaml, c.yaml, d.yaml, e.yaml]\n",
	    "$D/b.yaml:5:7: app.hosts: host 'localhost' is already served by "
	    "app 'a' at $D/a.yaml:3:45",
	    "$D/c.yaml:2:9: app.name: app 'a' is already defined at "
	    "$D/a.yaml:2:9",
	    "$D/c.yaml:3:10: app.hosts: at least one host is required",
	    "$D/c.yaml:4:13: app.upstream: invalid URL 'ftp://x': expected an "
	    "http:// or https:// URL",
	    "$D/c.yaml:5:3: unknown key 'routez' in 'app' (expected one of: "
	    "name, hosts, upstream, upstream_ca, upstream_server_name, "
	    "security_headers, hide_server_header, protect, org, "
	    "paths, case_insensitive_paths, method_override, "
	    "allow_clear_site_data, routes, identity_headers)",
	    "$D/d.yaml:2:9: app.name: invalid app name 'Bad_Name': use 1 to 63 "
	    "lower-case letters, digits and '-'",
	    "$D/d.yaml:3:11: app.hosts: invalid host 'a b': invalid character "
	    "in host name (letters, digits, '-' and '.')",
	    "$D/d.yaml:3:29: app.hosts: duplicate host '*.x.com' (first at "
	    "line 3)",
	    "$D/d.yaml:2:3: missing required key 'upstream' in 'app'",
	    "5:44: policies: cannot open $D/e.yaml: No such file or directory",
	    NULL);
}

/* acme: the section, tls: { acme: true }, and the hosts to order. */
static void
test_acme(void **state)
{
	struct config	*cfg;
	struct diag	 d;

	(void)state;
	testdir_write("eab", "zWNDZM6eQGHWpSRTPal5eIUYFTu7EajVIoguysqZ9wG44nM"
	    "Etx3MUAsUDkMTQ12W\n", 0600);
	testdir_write("e.yaml", "app:\n  name: e\n  hosts: [e.example.com]\n"
	    "  upstream: http://127.0.0.1:8083\n  protect: false\n", 0644);
	cfg = load("server:\n  listen:\n    - address: 127.0.0.1:8443\n"
	    "      tls: { acme: true }\n    - address: 127.0.0.1:8080\n"
	    "      tls: false\ntls:\n  certificates:\n    - cert: cert.pem\n"
	    "      key: key.pem\nsecret_file: secret\npolicies: [a.yaml, "
	    "e.yaml]\nacme:\n  directory: https://ca.test/dir\n"
	    "  email: ops@example.com\n  challenges: [tls-alpn-01]\n"
	    "  key_type: rsa2048\n  retry_min: 5s\n"
	    "  eab: { kid: kid-1, hmac_key_file: eab }\n", &d);
	if (cfg == NULL)
		fail_msg("%s", d.nmsgs > 0 ? d.msgs[0] : "?");
	assert_int_equal(cfg->listen[0].tls, 1);
	assert_int_equal(cfg->listen[0].acme, 1);
	assert_int_equal(cfg->listen[1].acme, 0);
	assert_non_null(cfg->acme);
	assert_string_equal(cfg->acme->directory, "https://ca.test/dir");
	assert_string_equal(cfg->acme->email, "ops@example.com");
	assert_int_equal(cfg->acme->nchallenges, 1);
	assert_int_equal(cfg->acme->challenges[0], ACME_TLSALPN01);
	assert_int_equal(cfg->acme->key_type, ACME_KEY_RSA2048);
	assert_int_equal(cfg->acme->retry_min, 5000);
	assert_int_equal(cfg->acme->retry_max, 86400000);
	assert_string_equal(cfg->acme->eab_kid, "kid-1");
	assert_int_equal(cfg->acme->eab_keylen, 48);
	/* the exact names no certificate covers: not "*.w.example.com",
	 * not localhost (cert.pem's name) */
	assert_int_equal(cfg->acme->nhosts, 2);
	assert_string_equal(cfg->acme->hosts[0], "a.example.com");
	assert_string_equal(cfg->acme->hosts[1], "e.example.com");
	config_unref(cfg);
	diag_free(&d);
	/* no acme listener: no hosts, even with the section */
	cfg = load(LISTEN "acme:\n  email: a@b.c\npolicies: [a.yaml]\n",
	    &d);
	assert_non_null(cfg);
	assert_int_equal(cfg->acme->nhosts, 0);
	assert_string_equal(cfg->acme->directory, ACME_LETSENCRYPT);
	config_unref(cfg);
	diag_free(&d);
	testdir_write("eab", "not base64 at all!!\n", 0600);
	load_fails(LISTEN "acme:\n  eab:\n    kid: k\n    hmac_key_file: "
	    "eab\n", "8:20: acme.eab.hmac_key_file: $D/eab: expected the "
	    "base64url MAC key the CA gave (at least 16 bytes)", NULL);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_good),
		cmocka_unit_test(test_defaults_and_ref),
		cmocka_unit_test(test_app_for_host),
		cmocka_unit_test(test_missing_file),
		cmocka_unit_test(test_keys),
		cmocka_unit_test(test_values),
		cmocka_unit_test(test_all_errors),
		cmocka_unit_test(test_yaml_safety),
		cmocka_unit_test(test_files),
		cmocka_unit_test(test_policies),
		cmocka_unit_test(test_acme),
	};

	return cmocka_run_group_tests(tests, setup, teardown);
}
