/*
 * hostmap.c and domainreg.c: hosts kept sorted and found in any case,
 * replaced, removed and replaced wholesale; names that do not fit are
 * refused; config_app_for_host() and config_domain_tenant() read the
 * registry only after the configured hosts, and only for apps that exist.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "config.h"
#include "domainreg.h"
#include "hostmap.h"

static void
test_hostmap(void **state)
{
	struct hostmap	 m = { NULL, 0, 0 };
	char		 name[HOSTMAP_NAMELEN], big[300];
	char		 hosts[100][16];
	void		**slot;
	size_t		 i;

	(void)state;
	for (i = 0; i < 100; i++) {
		(void)snprintf(hosts[i], sizeof(hosts[i]), "h%03zu.test",
		    (i * 37) % 100);
		slot = hostmap_slot(&m, hosts[i]);
		assert_non_null(slot);
		assert_null(*slot);
		*slot = hosts[i];
	}
	assert_int_equal(m.n, 100);
	for (i = 1; i < m.n; i++)
		assert_true(strcmp(m.v[i - 1].host, m.v[i].host) < 0);
	for (i = 0; i < 100; i++)
		assert_ptr_equal(hostmap_get(&m, hosts[i]), hosts[i]);
	assert_null(hostmap_get(&m, "h100.test"));
	assert_ptr_equal(hostmap_remove(&m, hosts[5]), hosts[5]);
	assert_null(hostmap_get(&m, hosts[5]));
	assert_null(hostmap_remove(&m, hosts[5]));
	assert_int_equal(m.n, 99);
	assert_int_equal(hostmap_name("A.Example.COM", name), 0);
	assert_string_equal(name, "a.example.com");
	assert_int_equal(hostmap_name("", name), -1);
	memset(big, 'a', sizeof(big));
	big[253] = '\0';
	assert_int_equal(hostmap_name(big, name), 0);
	big[253] = 'a';
	big[254] = '\0';
	assert_int_equal(hostmap_name(big, name), -1);
	assert_null(hostmap_slot(&m, big));
	hostmap_clear(&m, NULL);
	assert_int_equal(m.n, 0);
}

static void
test_registry(void **state)
{
	struct domainreg	*dr = domainreg_new();
	struct domainreg_entry	 e, two[2];
	char			 longname[80];

	(void)state;
	assert_int_equal(domainreg_get(dr, "a.customer.test", &e), -1);
	assert_int_equal(domainreg_get(NULL, "a.customer.test", &e), -1);
	assert_int_equal(domainreg_set(dr, "A.Customer.test", "shop", "acme"),
	    0);
	assert_int_equal(domainreg_get(dr, "a.customer.TEST", &e), 0);
	assert_string_equal(e.host, "a.customer.test");
	assert_string_equal(e.app, "shop");
	assert_string_equal(e.org, "acme");
	assert_int_equal(domainreg_set(dr, "a.customer.test", "shop", "beta"),
	    0);
	assert_int_equal(domainreg_get(dr, "a.customer.test", &e), 0);
	assert_string_equal(e.org, "beta");
	memset(longname, 'x', sizeof(longname));
	longname[sizeof(longname) - 1] = '\0';
	assert_int_equal(domainreg_set(dr, "b.test", longname, "o"), -1);
	assert_int_equal(domainreg_set(dr, "b.test", "app", ""), -1);
	assert_int_equal(domainreg_get(dr, "b.test", &e), -1);
	memset(two, 0, sizeof(two));
	(void)strcpy(two[0].host, "c.test");
	(void)strcpy(two[0].app, "shop");
	(void)strcpy(two[0].org, "gamma");
	(void)strcpy(two[1].host, "d.test");
	(void)strcpy(two[1].app, "shop");
	(void)strcpy(two[1].org, "delta");
	assert_int_equal(domainreg_replace(dr, two, 2), 0);
	assert_int_equal(domainreg_get(dr, "a.customer.test", &e), -1);
	assert_int_equal(domainreg_get(dr, "d.test", &e), 0);
	assert_string_equal(e.org, "delta");
	domainreg_remove(dr, "D.test");
	assert_int_equal(domainreg_get(dr, "d.test", &e), -1);
	assert_int_equal(domainreg_get(dr, "c.test", &e), 0);
	domainreg_free(dr);
}

static void
test_config_lookup(void **state)
{
	static char		 h1[] = "shop.example.com", h2[] = "{org}.t.test";
	static char		*hosts1[] = { h1 }, *hosts2[] = { h2 };
	struct config_app	 apps[2];
	struct config		 cfg;
	struct domainreg	*dr = domainreg_new();
	char			 org[64];

	(void)state;
	memset(apps, 0, sizeof(apps));
	memset(&cfg, 0, sizeof(cfg));
	apps[0].name = "shop";
	apps[0].hosts = hosts1;
	apps[0].nhosts = 1;
	apps[1].name = "tenanted";
	apps[1].hosts = hosts2;
	apps[1].nhosts = 1;
	apps[1].host_tenant = 1;
	cfg.apps = apps;
	cfg.napps = 2;
	assert_null(config_app_for_host(&cfg, "my.customer.test"));
	cfg.domains = dr;
	assert_int_equal(domainreg_set(dr, "my.customer.test", "tenanted",
	    "acme"), 0);
	assert_int_equal(domainreg_set(dr, "gone.customer.test", "nope",
	    "acme"), 0);
	/* a configured name wins even if registered */
	assert_int_equal(domainreg_set(dr, "shop.example.com", "tenanted",
	    "evil"), 0);
	assert_ptr_equal(config_app_for_host(&cfg, "my.customer.test"),
	    &apps[1]);
	assert_int_equal(config_domain_tenant(&cfg, "my.customer.test", org,
	    sizeof(org)), 0);
	assert_string_equal(org, "acme");
	assert_int_equal(config_domain_tenant(&cfg, "my.customer.test", org,
	    4), -1);
	assert_null(config_app_for_host(&cfg, "gone.customer.test"));
	assert_int_equal(config_domain_tenant(&cfg, "gone.customer.test",
	    org, sizeof(org)), -1);
	assert_ptr_equal(config_app_for_host(&cfg, "shop.example.com"),
	    &apps[0]);
	assert_int_equal(config_domain_tenant(&cfg, "shop.example.com", org,
	    sizeof(org)), -1);
	assert_int_equal(config_host_configured(&cfg, "x.t.test"), 1);
	assert_int_equal(config_host_configured(&cfg, "my.customer.test"), 0);
	assert_int_equal(config_domain_tenant(&cfg, "x.t.test", org,
	    sizeof(org)), -1);
	domainreg_free(dr);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_hostmap),
		cmocka_unit_test(test_registry),
		cmocka_unit_test(test_config_lookup),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
