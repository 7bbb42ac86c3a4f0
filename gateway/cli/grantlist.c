/*
 * The listings of API keys and share links (see grantlist.h).
 */
#include <inttypes.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "cli.h"
#include "grant.h"
#include "grantlist.h"
#include "store.h"

/* One listing: where it goes and what it keeps. */
struct grantlist {
	const struct cli	*c;
	const char		*org;		/* NULL: every org */
	struct cli_json		 j;
	int64_t			 now;
};

/* Unix seconds <t> as RFC 3339 into <buf>, or "" for 0 (never). */
static void
grantlist_when(int64_t t, char *buf, size_t size)
{
	char	s[24];

	(void)snprintf(s, sizeof(s), "%" PRId64, t);
	cli_time(t != 0 ? s : NULL, buf, size);
}

static void
grantlist_scopes(const struct grant *g, char *buf, size_t size)
{
	size_t	i, off = 0;

	buf[0] = '\0';
	for (i = 0; i < g->nscopes && off < size; i++)
		off += (size_t)snprintf(buf + off, size - off, "%s%s",
		    i > 0 ? " " : "", g->scopes[i]);
}

static void
grantlist_json(struct grantlist *gl, const struct grant *g,
    char when[3][32])
{
	struct cli_json	*j = &gl->j;
	char		 m[64];
	size_t		 i;

	cli_json_open(j, '{');
	cli_json_key(j, "id");
	cli_json_str(j, g->id);
	cli_json_key(j, "org");
	cli_json_str(j, g->org);
	if (g->kind == GRANT_APIKEY) {
		cli_json_key(j, "scopes");
		cli_json_open(j, '[');
		for (i = 0; i < g->nscopes; i++)
			cli_json_str(j, g->scopes[i]);
		cli_json_close(j, ']');
	} else {
		grant_methods_string(g->methods, m, sizeof(m));
		cli_json_key(j, "app");
		cli_json_str(j, g->app);
		cli_json_key(j, "methods");
		cli_json_str(j, m);
		cli_json_key(j, "path");
		cli_json_str(j, g->path);
		cli_json_key(j, "prefix");
		cli_json_bool(j, g->prefix);
	}
	cli_json_key(j, "name");
	cli_json_str(j, g->name);
	cli_json_key(j, "rate");
	cli_json_int(j, g->rate);
	cli_json_key(j, "created");
	cli_json_str(j, when[0]);
	cli_json_key(j, "expires");
	cli_json_str(j, when[1]);
	cli_json_key(j, "last_used");
	cli_json_str(j, when[2]);
	cli_json_key(j, "expired");
	cli_json_bool(j, g->expires != 0 && g->expires <= gl->now);
	cli_json_close(j, '}');
}

static void
grantlist_row(const struct grant *g, void *arg)
{
	struct grantlist	*gl = arg;
	char			 when[3][32];
	char			 what[GRANT_MAXSCOPES * (GRANT_SCOPEMAX + 1) + 1];

	if (gl->org != NULL && strcmp(g->org, gl->org) != 0)
		return;
	grantlist_when(g->created, when[0], sizeof(when[0]));
	grantlist_when(g->expires, when[1], sizeof(when[1]));
	grantlist_when(g->last_used, when[2], sizeof(when[2]));
	if (gl->c->json) {
		grantlist_json(gl, g, when);
		return;
	}
	printf("%s\t%s\t", g->id, g->org[0] != '\0' ? g->org : "-");
	if (g->kind == GRANT_APIKEY) {
		grantlist_scopes(g, what, sizeof(what));
		printf("%s\t", what);
	} else {
		grant_methods_string(g->methods, what, sizeof(what));
		printf("%s\t%s\t%s%s\t", g->app, what, g->path,
		    g->prefix ? "/**" : "");
	}
	printf("%s\t%s%s\t%s\t%s\n", when[0], when[1][0] != '\0' ? when[1] :
	    "never", g->expires != 0 && g->expires <= gl->now ?
	    " (expired)" : "", when[2][0] != '\0' ? when[2] : "never",
	    g->name[0] != '\0' ? g->name : "-");
}

int
grantlist_run(struct cli *c, enum grant_kind kind, const char *org)
{
	struct grantlist	gl;
	char			err[STORE_ERRLEN];
	int			rc;

	memset(&gl, 0, sizeof(gl));
	gl.c = c;
	gl.org = org;
	gl.now = (int64_t)time(NULL);
	cli_json_init(&gl.j, stdout);
	if (c->json)
		cli_json_open(&gl.j, '[');
	else if (kind == GRANT_APIKEY)
		printf("ID\tORG\tSCOPES\tCREATED\tEXPIRES\tLAST_USED\tNAME\n");
	else
		printf("ID\tORG\tAPP\tMETHODS\tPATH\tCREATED\tEXPIRES\t"
		    "LAST_USED\tNAME\n");
	rc = grant_list_sync(c->ss, kind, grantlist_row, &gl, err,
	    sizeof(err));
	if (c->json)
		cli_json_close(&gl.j, ']');
	if (rc == -1)
		return cli_fail(c, "%s", err);
	return 0;
}
