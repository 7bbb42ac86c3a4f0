/*
 * Micro-benchmark of the policy decision: ns per decide() for apps of 10,
 * 1,000 and 10,000 generated routes (loaded and compiled through the real
 * policy loader), over requests spread across all the routes, including
 * misses that fall through to the catch-all.  Target: the 10,000-route
 * case within 2x of the 10-route case.  Built with -Dtests=true, not run
 * by meson test:  build/tests/unit/policy_bench
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "config.h"
#include "decide.h"
#include "diag.h"
#include "policy.h"
#include "session.h"

#define NREQ	4096
#define ITERS	4000000

static const char *const ladder[] = { "owner", "admin", "member", "viewer" };

/* Four kinds of route per index: exact literal, named segment, "*", "**". */
static char *
gen_policy(size_t nroutes, size_t *len)
{
	size_t	 cap = 128 + nroutes * 96, o = 0, i;
	char	*buf;

	if ((buf = malloc(cap)) == NULL)
		abort();
	o += (size_t)snprintf(buf + o, cap - o, "app:\n  name: bench\n  hosts: "
	    "[bench.test]\n  upstream: http://127.0.0.1:9\n  org: acme\n"
	    "  routes:\n");
	for (i = 0; i + 1 < nroutes; i++)
		switch (i % 4) {
		case 0:
			o += (size_t)snprintf(buf + o, cap - o, "    - {path: "
			    "\"/s%zu/items/{id}\", methods: [GET], "
			    "authenticated: true}\n", i / 4);
			break;
		case 1:
			o += (size_t)snprintf(buf + o, cap - o, "    - {path: "
			    "/s%zu/admin/**, role: admin}\n", i / 4);
			break;
		case 2:
			o += (size_t)snprintf(buf + o, cap - o, "    - {path: "
			    "/s%zu/files/*/raw, public: true}\n", i / 4);
			break;
		default:
			o += (size_t)snprintf(buf + o, cap - o, "    - {path: "
			    "/s%zu, methods: [POST], role: member}\n", i / 4);
			break;
		}
	o += (size_t)snprintf(buf + o, cap - o, "    - {path: /**, public: "
	    "true}\n");
	*len = o;
	return buf;
}

static double
now_ns(void)
{
	struct timespec	ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec * 1e9 + (double)ts.tv_nsec;
}

static double
bench(size_t nroutes)
{
	static char		 paths[NREQ][64];
	static const char	*methods[NREQ];
	struct config		 cfg;
	struct diag		 d = { 0 };
	struct decide_identity	 id;
	struct decide_request	 req;
	struct decision		 out;
	struct session_org	 org = { "acme", "admin" };
	char			*text;
	size_t			 len, i, groups = (nroutes + 3) / 4, g;
	double			 t0, t1, load;
	unsigned long		 allow = 0;

	memset(&cfg, 0, sizeof(cfg));
	cfg.roles = (char **)(uintptr_t)ladder;
	cfg.nroles = 4;
	text = gen_policy(nroutes, &len);
	t0 = now_ns();
	(void)policy_load_buffer(&cfg, "bench.yaml", text, len, &d);
	policy_compile(&cfg, &d);
	load = (now_ns() - t0) / 1e6;
	free(text);
	if (d.nerrors > 0 || cfg.napps != 1) {
		diag_print(&d, stderr);
		exit(1);
	}
	diag_free(&d);
	srand(42);
	for (i = 0; i < NREQ; i++) {
		g = (size_t)rand() % groups;
		methods[i] = "GET";
		switch (rand() % 5) {
		case 0:
			(void)snprintf(paths[i], sizeof(paths[i]),
			    "/s%zu/items/%d", g, rand());
			break;
		case 1:
			(void)snprintf(paths[i], sizeof(paths[i]),
			    "/s%zu/admin/users/%d", g, rand() % 100);
			break;
		case 2:
			(void)snprintf(paths[i], sizeof(paths[i]),
			    "/s%zu/files/f%d/raw", g, rand() % 100);
			break;
		case 3:
			(void)snprintf(paths[i], sizeof(paths[i]), "/s%zu", g);
			methods[i] = "POST";
			break;
		default:	/* a miss: the catch-all */
			(void)snprintf(paths[i], sizeof(paths[i]),
			    "/other/%d/x", rand() % 1000);
			break;
		}
	}
	memset(&id, 0, sizeof(id));
	id.kind = DECIDE_SESSION;
	id.user = "u1";
	id.email = "u1@acme.test";
	id.orgs = &org;
	id.norgs = 1;
	memset(&req, 0, sizeof(req));
	req.host = "bench.test";
	t0 = now_ns();
	for (i = 0; i < ITERS; i++) {
		req.method = methods[i % NREQ];
		req.path = paths[i % NREQ];
		allow += decide(&cfg.apps[0], &req, &id, 1700000000, &out) ==
		    DECIDE_ALLOW;
	}
	t1 = now_ns();
	printf("%6zu routes: %7.1f ns/decision  (load+compile %.1f ms, %lu "
	    "allowed)\n", nroutes, (t1 - t0) / ITERS, load, allow);
	policy_app_free(&cfg.apps[0]);
	free(cfg.apps);
	return (t1 - t0) / ITERS;
}

int
main(void)
{
	double	a, b, c;

	a = bench(10);
	b = bench(1000);
	c = bench(10000);
	printf("ratio 10000/10: %.2f (target <= 2)\n", c / a);
	(void)b;
	return 0;
}
