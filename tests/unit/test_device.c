/*
 * device.c: device cookies are valid only for the account they were made
 * for, under the gateway secret that made them, as the gateway wrote them.
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <stdio.h>
#include <string.h>

#include "config.h"
#include "device.h"
#include "secret.h"

static struct secret_keys	keys = { .present = 1, .token = "0123456789"
				    "abcdef0123456789abcde" };
static struct config		cfg = { .keys = &keys };

/* The "name=value" of a Set-Cookie line made for <email>. */
static void
make(const char *email, char *pair, size_t size)
{
	char	line[300], *semi;

	assert_int_equal(device_cookie(&cfg, email, line, sizeof(line)), 0);
	assert_true(strncmp(line, "Set-Cookie: " DEVICE_COOKIE "=", 34) == 0);
	assert_non_null(strstr(line, "; Secure; HttpOnly; SameSite=Lax"));
	assert_non_null(semi = strchr(line, ';'));
	*semi = '\0';
	(void)snprintf(pair, size, "%s", line + 12);
}

static void
test_device_cookie(void **state)
{
	char	a[300], b[300], hdr[700], id[DEVICE_NONCE_LEN + 1];
	char	other[DEVICE_NONCE_LEN + 1];
	struct secret_keys k2 = keys;
	struct config	c2 = { .keys = &k2 };

	(void)state;
	make("ann@example.com", a, sizeof(a));
	make("ann@example.com", b, sizeof(b));
	assert_string_not_equal(a, b);		/* a fresh nonce each time */
	(void)snprintf(hdr, sizeof(hdr), "x=1; %s", a);
	assert_int_equal(device_check(&cfg, hdr, "ann@example.com", id,
	    sizeof(id)), 0);
	assert_int_equal(strlen(id), DEVICE_NONCE_LEN);
	assert_true(strncmp(a + strlen(DEVICE_COOKIE) + 1, id,
	    DEVICE_NONCE_LEN) == 0);
	(void)snprintf(hdr, sizeof(hdr), "%s", b);
	assert_int_equal(device_check(&cfg, hdr, "ann@example.com", other,
	    sizeof(other)), 0);
	assert_string_not_equal(id, other);	/* each device its own */
	/* another account, another secret, no secret, no cookie */
	assert_int_equal(device_check(&cfg, a, "bob@example.com", id,
	    sizeof(id)), -1);
	assert_int_equal(device_check(&cfg, a, "ann@example.co", id,
	    sizeof(id)), -1);
	k2.token[0] ^= 1;
	assert_int_equal(device_check(&c2, a, "ann@example.com", id,
	    sizeof(id)), -1);
	k2.present = 0;
	assert_int_equal(device_check(&c2, a, "ann@example.com", id,
	    sizeof(id)), -1);
	assert_int_equal(device_cookie(&c2, "ann@example.com", hdr,
	    sizeof(hdr)), -1);
	assert_string_equal(hdr, "");
	assert_int_equal(device_check(&cfg, NULL, "ann@example.com", id,
	    sizeof(id)), -1);
	/* sent twice (even the same), tampered, cut, extended */
	(void)snprintf(hdr, sizeof(hdr), "%s; %s", a, a);
	assert_int_equal(device_check(&cfg, hdr, "ann@example.com", id,
	    sizeof(id)), -1);
	(void)snprintf(hdr, sizeof(hdr), "%s", a);
	hdr[strlen(hdr) - 1] ^= 1;
	assert_int_equal(device_check(&cfg, hdr, "ann@example.com", id,
	    sizeof(id)), -1);
	(void)snprintf(hdr, sizeof(hdr), "%s", a);
	hdr[strlen(DEVICE_COOKIE) + 2] ^= 1;	/* the nonce */
	assert_int_equal(device_check(&cfg, hdr, "ann@example.com", id,
	    sizeof(id)), -1);
	(void)snprintf(hdr, sizeof(hdr), "%.*s", (int)strlen(a) - 1, a);
	assert_int_equal(device_check(&cfg, hdr, "ann@example.com", id,
	    sizeof(id)), -1);
	(void)snprintf(hdr, sizeof(hdr), "%sA", a);
	assert_int_equal(device_check(&cfg, hdr, "ann@example.com", id,
	    sizeof(id)), -1);
	/* too small a buffer for the id */
	assert_int_equal(device_check(&cfg, a, "ann@example.com", id, 5), -1);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_device_cookie),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
