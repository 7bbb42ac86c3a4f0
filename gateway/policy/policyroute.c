/*
 * The routes: list of a policy file (part of the policy file reader, see
 * policy-int.h): each route's path pattern, methods and requirements into
 * a struct route of the app's table; route.c checks the list as a whole
 * once the configuration is read.
 */
#include <stddef.h>
#include <stdlib.h>
#include <string.h>

#include "parse.h"
#include "policy-int.h"
#include "route.h"
#include "yconf.h"

#define NITEMS(a)	(sizeof(a) / sizeof((a)[0]))

/* The route being read. */
struct policy_route {
	struct policy_ctx	*pc;
	struct route		 r;
	int			 ok;		/* path parsed */
	int			 said;		/* a requirement was written */
};

static void	policy_on_r_path(struct yconf *, yaml_node_t *, void *);
static void	policy_on_r_methods(struct yconf *, yaml_node_t *, void *);
static void	policy_on_r_flag(struct yconf *, yaml_node_t *, void *);
static void	policy_on_r_any_org(struct yconf *, yaml_node_t *, void *);
static void	policy_on_r_role(struct yconf *, yaml_node_t *, void *);
static void	policy_on_r_list(struct yconf *, yaml_node_t *, void *);
static void	policy_on_r_auth(struct yconf *, yaml_node_t *, void *);
static void	policy_on_r_fresh(struct yconf *, yaml_node_t *, void *);
static void	policy_on_r_rate(struct yconf *, yaml_node_t *, void *);

/*
 * Keys of one route.  For policy_on_r_flag <off> is the int field of
 * struct route and <min> the index in r->key_pos (or 4: none); for
 * policy_on_r_list <off> is the char ** field, <min> the kind of check
 * (0 user id, 1 email, 2 scope).
 */
#define R_OFF(f)	offsetof(struct route, f)
#define R_NPOS		4

static const struct yconf_key policy_route_keys[] = {
	{ "path", YAML_SCALAR_NODE, 1, policy_on_r_path, 0, 0, 0 },
	{ "methods", YAML_SEQUENCE_NODE, 0, policy_on_r_methods, 0, 0, 0 },
	{ "public", YAML_SCALAR_NODE, 0, policy_on_r_flag, R_OFF(is_public),
	    ROUTE_POS_PUBLIC, 0 },
	{ "authenticated", YAML_SCALAR_NODE, 0, policy_on_r_flag,
	    R_OFF(authenticated), ROUTE_POS_AUTHENTICATED, 0 },
	{ "mfa", YAML_SCALAR_NODE, 0, policy_on_r_flag, R_OFF(mfa), R_NPOS, 0 },
	{ "role", YAML_SCALAR_NODE, 0, policy_on_r_role, 0, 0, 0 },
	{ "users", YAML_SEQUENCE_NODE, 0, policy_on_r_list, R_OFF(users), 0,
	    0 },
	{ "emails", YAML_SEQUENCE_NODE, 0, policy_on_r_list, R_OFF(emails), 1,
	    0 },
	{ "scopes", YAML_SEQUENCE_NODE, 0, policy_on_r_list, R_OFF(scopes), 2,
	    0 },
	{ "auth", YAML_SEQUENCE_NODE, 0, policy_on_r_auth, 0, 0, 0 },
	{ "fresh_auth", YAML_SCALAR_NODE, 0, policy_on_r_fresh, 0, 0, 0 },
	{ "rate_limit", YAML_SCALAR_NODE, 0, policy_on_r_rate, 0, 0, 0 },
	{ "any_org", YAML_SCALAR_NODE, 0, policy_on_r_any_org, 0, 0, 0 },
};

static void
policy_on_route(struct yconf *y, yaml_node_t *n, void *obj)
{
	struct policy_ctx	*pc = obj;
	struct policy_route	 pr;
	char			 section[48];

	(void)snprintf(section, sizeof(section), "app.routes[%zu]",
	    pc->nroute++);
	memset(&pr, 0, sizeof(pr));
	pr.pc = pc;
	pr.r.methods = ROUTE_M_ALL;
	pr.r.auth = ROUTE_AUTH_SESSION;
	pr.r.org_seg = -1;
	pr.r.pos = policy_pos(n);
	yconf_map(y, n, section, policy_route_keys,
	    NITEMS(policy_route_keys), &pr);
	if (pr.ok && !pr.said)
		yconf_error(y, n, "%s: route %s requires nothing: add public, "
		    "authenticated, role, users, emails, scopes or mfa",
		    section, pr.r.pattern);
	if (pr.ok && n->type == YAML_MAPPING_NODE) {
		if (pc->app.routes == NULL &&
		    (pc->app.routes = route_table_new()) == NULL)
			yconf_nomem(y, n);
		else if (route_table_add(pc->app.routes, &pr.r) == -1)
			yconf_nomem(y, n);
		else
			return;
	}
	route_clear(&pr.r);
}

void
policy_on_routes(struct yconf *y, yaml_node_t *n, void *obj)
{
	struct policy_ctx	*pc = obj;

	if (yconf_seq_len(n) == 0) {
		yconf_error(y, n, "%s: an empty list denies everything; remove "
		    "it or add routes", y->key);
		return;
	}
	if (pc->app.routes == NULL &&
	    (pc->app.routes = route_table_new()) == NULL) {
		yconf_nomem(y, n);
		return;
	}
	yconf_seq(y, n, policy_on_route, obj);
}

static void
policy_on_r_path(struct yconf *y, yaml_node_t *n, void *obj)
{
	struct policy_route	*pr = obj;
	const char		*s;
	char			 err[PARSE_ERRLEN], val[80];

	if (yconf_str(y, n, &s) == -1)
		return;
	if (route_pattern_parse(&pr->r, s, err, sizeof(err)) == -1) {
		yconf_error(y, n, "%s: invalid path '%s': %s", y->key,
		    parse_printable(val, sizeof(val), s, 64), err);
		return;
	}
	if ((pr->r.pattern = strdup(s)) == NULL) {
		yconf_nomem(y, n);
		return;
	}
	pr->r.path_pos = policy_pos(n);
	pr->ok = 1;
}

/* methods: GET admits HEAD too (a HEAD is a GET without the body). */
static void
policy_on_r_methods(struct yconf *y, yaml_node_t *n, void *obj)
{
	struct policy_route	*pr = obj;
	yaml_node_item_t	*it;
	yaml_node_t		*item;
	const char		*s;
	char			 val[40];
	unsigned int		 bit;

	pr->r.methods = 0;
	if (yconf_seq_len(n) == 0)
		yconf_error(y, n, "%s: list at least one method (or leave "
		    "methods out for all)", y->key);
	for (it = n->data.sequence.items.start;
	    it < n->data.sequence.items.top; it++) {
		item = yaml_document_get_node(&y->doc, *it);
		if (item == NULL || yconf_str(y, item, &s) == -1)
			continue;
		if ((bit = route_method_bit(s)) == ROUTE_M_OTHER) {
			yconf_error(y, item, "%s: unknown method '%s' (expected "
			    "GET, HEAD, POST, PUT, PATCH, DELETE or OPTIONS, in "
			    "upper case)", y->key,
			    parse_printable(val, sizeof(val), s, 32));
			continue;
		}
		pr->r.methods |= bit | (bit == ROUTE_M_GET ? ROUTE_M_HEAD : 0);
	}
	if (pr->r.methods == 0)
		pr->r.methods = ROUTE_M_ALL;
}

static void
policy_on_r_flag(struct yconf *y, yaml_node_t *n, void *obj)
{
	struct policy_route	*pr = obj;
	int			*field = (int *)(void *)((char *)&pr->r +
				    y->cur->off);

	if (yconf_bool(y, n, field) == -1)
		return;
	if (y->cur->min < R_NPOS)
		pr->r.key_pos[y->cur->min] = policy_pos(n);
	pr->said |= *field;
}

/* any_org: a bool that is no requirement of its own. */
static void
policy_on_r_any_org(struct yconf *y, yaml_node_t *n, void *obj)
{
	struct policy_route	*pr = obj;

	(void)yconf_bool(y, n, &pr->r.any_org);
}

static void
policy_on_r_role(struct yconf *y, yaml_node_t *n, void *obj)
{
	struct policy_route	*pr = obj;

	if (yconf_strdup(y, n, 0, &pr->r.role) == 0) {
		pr->r.role_pos = policy_pos(n);
		pr->said = 1;
	}
}

/* A list item of users (ids), emails ("a@b.c", "@b.c") or scopes. */
static int
policy_item_ok(int kind, const char *s)
{
	const char	*at;

	if (*s == '\0' || strlen(s) > 254)
		return 0;
	switch (kind) {
	case 0:
		return strspn(s, "abcdefghijklmnopqrstuvwxyz0123456789") ==
		    strlen(s);
	case 1:
		return (at = strchr(s, '@')) != NULL && strchr(at + 1, '@') ==
		    NULL && at[1] != '\0' && strpbrk(s, " ,\t") == NULL;
	default:
		return strspn(s, "abcdefghijklmnopqrstuvwxyz0123456789:_.-") ==
		    strlen(s);
	}
}

static void
policy_on_r_list(struct yconf *y, yaml_node_t *n, void *obj)
{
	static const char *const what[] = { "a user id (lower-case letters "
	    "and digits)", "an email address or @domain", "a scope "
	    "([a-z0-9:_.-])" };
	struct policy_route	*pr = obj;
	char			***v = (char ***)(void *)((char *)&pr->r +
				    y->cur->off);
	size_t			*nv = (size_t *)(void *)((char *)&pr->r +
				    y->cur->off + sizeof(char **));
	yaml_node_item_t	*it;
	yaml_node_t		*item;
	const char		*s;
	char			**nl, *c, val[80];

	if (yconf_seq_len(n) == 0)
		yconf_error(y, n, "%s: an empty list admits nobody", y->key);
	for (it = n->data.sequence.items.start;
	    it < n->data.sequence.items.top; it++) {
		item = yaml_document_get_node(&y->doc, *it);
		if (item == NULL || yconf_str(y, item, &s) == -1)
			continue;
		if (!policy_item_ok((int)y->cur->min, s)) {
			yconf_error(y, item, "%s: '%s' is not %s", y->key,
			    parse_printable(val, sizeof(val), s, 64),
			    what[y->cur->min]);
			continue;
		}
		if ((nl = reallocarray(*v, *nv + 1, sizeof(*nl))) == NULL) {
			yconf_nomem(y, item);
			return;
		}
		*v = nl;
		if ((nl[*nv] = strdup(s)) == NULL) {
			yconf_nomem(y, item);
			return;
		}
		for (c = nl[*nv]; *c != '\0'; c++)
			if (*c >= 'A' && *c <= 'Z')
				*c = (char)(*c - 'A' + 'a');
		*v = nl;
		(*nv)++;
	}
	if (y->cur->min < 2)
		pr->r.key_pos[ROUTE_POS_USERS + y->cur->min] = policy_pos(n);
	pr->said = 1;
}

static void
policy_on_r_auth(struct yconf *y, yaml_node_t *n, void *obj)
{
	struct policy_route	*pr = obj;
	yaml_node_item_t	*it;
	yaml_node_t		*item;
	const char		*s;
	char			 val[40];

	pr->r.auth = 0;
	if (yconf_seq_len(n) == 0)
		yconf_error(y, n, "%s: list at least one of session, apikey, "
		    "share", y->key);
	for (it = n->data.sequence.items.start;
	    it < n->data.sequence.items.top; it++) {
		item = yaml_document_get_node(&y->doc, *it);
		if (item == NULL || yconf_str(y, item, &s) == -1)
			continue;
		if (strcmp(s, "session") == 0)
			pr->r.auth |= ROUTE_AUTH_SESSION;
		else if (strcmp(s, "apikey") == 0)
			pr->r.auth |= ROUTE_AUTH_APIKEY;
		else if (strcmp(s, "share") == 0)
			pr->r.auth |= ROUTE_AUTH_SHARE;
		else
			yconf_error(y, item, "%s: unknown kind '%s' (expected "
			    "session, apikey or share)", y->key,
			    parse_printable(val, sizeof(val), s, 32));
	}
	if (pr->r.auth == 0)
		pr->r.auth = ROUTE_AUTH_SESSION;
	pr->said |= (pr->r.auth & (ROUTE_AUTH_SHARE | ROUTE_AUTH_APIKEY)) != 0;
}

/* fresh_auth: the password re-entered within this long (1s to 30d). */
static void
policy_on_r_fresh(struct yconf *y, yaml_node_t *n, void *obj)
{
	struct policy_route	*pr = obj;

	if (yconf_duration(y, n, 1000, 30ULL * 86400 * 1000,
	    &pr->r.fresh_auth) == 0)
		pr->said = 1;
}

static void
policy_on_r_rate(struct yconf *y, yaml_node_t *n, void *obj)
{
	struct policy_route	*pr = obj;
	const char		*s;
	char			 val[40];

	if (yconf_str(y, n, &s) == -1)
		return;
	if (*s == '\0' || strlen(s) > 32 ||
	    strspn(s, "abcdefghijklmnopqrstuvwxyz0123456789_-") != strlen(s)) {
		yconf_error(y, n, "%s: invalid class '%s': use 1 to 32 "
		    "lower-case letters, digits, '_' and '-'", y->key,
		    parse_printable(val, sizeof(val), s, 32));
		return;
	}
	free(pr->r.rate_limit);
	if ((pr->r.rate_limit = strdup(s)) == NULL)
		yconf_nomem(y, n);
}
