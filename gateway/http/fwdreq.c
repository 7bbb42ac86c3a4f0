/*
 * The original request of a forward-auth sub-request (see fwdreq.h).
 */
#include <string.h>
#include <strings.h>

#include "fwdreq.h"
#include "request.h"

/*
 * The value of header <name> in *<v> (NULL when absent): every copy must
 * say the same, since the gateway and an app behind the front proxy could
 * otherwise read different ones.  0, or -1 on a conflict.
 */
static int
fwdreq_one(const struct request *req, const char *name, const char **v)
{
	size_t	i;

	*v = NULL;
	for (i = 0; i < req->nheaders; i++) {
		if (!request_name_eq(req->headers[i].name, name))
			continue;
		if (*v != NULL && strcmp(*v, req->headers[i].value) != 0)
			return -1;
		*v = req->headers[i].value;
	}
	return 0;
}

/* One value from two spellings <a> and <b>: absent, equal, or -1. */
static int
fwdreq_either(const struct request *req, const char *a, const char *b,
    const char **v, int *from_b)
{
	const char	*va, *vb;

	if (fwdreq_one(req, a, &va) == -1 || fwdreq_one(req, b, &vb) == -1)
		return -1;
	if (va != NULL && vb != NULL && strcmp(va, vb) != 0)
		return -1;
	*v = va != NULL ? va : vb;
	*from_b = va == NULL && vb != NULL;
	return 0;
}

/* Printable ASCII without space, at most <max> bytes. */
static int
fwdreq_visible(const char *s, size_t max)
{
	size_t	n = 0;

	for (; *s != '\0'; s++, n++)
		if ((unsigned char)*s <= 0x20 || (unsigned char)*s >= 0x7f)
			return 0;
	return n > 0 && n <= max;
}

int
fwdreq_host(const struct request *req, const char **host)
{
	return fwdreq_one(req, "x-forwarded-host", host);
}

int
fwdreq_read(const struct request *req, struct fwdreq *f, const char **reason)
{
	const char	*proto;
	int		 nginx, dummy;

	memset(f, 0, sizeof(*f));
	*reason = "forward_conflict";
	if (fwdreq_either(req, "x-forwarded-uri", "x-original-uri", &f->uri,
	    &nginx) == -1 ||
	    fwdreq_either(req, "x-forwarded-method", "x-original-method",
	    &f->method, &dummy) == -1 ||
	    fwdreq_one(req, "x-forwarded-proto", &proto) == -1 ||
	    fwdreq_host(req, &f->host) == -1)
		return -1;
	*reason = "forward_missing";
	if (f->uri == NULL)
		return -1;
	*reason = "forward_invalid";
	if (!fwdreq_visible(f->uri, req->lim.max_request_line) ||
	    (f->method != NULL && !fwdreq_visible(f->method, 32)) ||
	    (f->host != NULL && !fwdreq_visible(f->host, FWDREQ_HOSTMAX)))
		return -1;
	if (f->method == NULL)
		f->method = req->method_name;
	if (f->host == NULL)
		f->host = request_header(req, "host");
	f->https = -1;
	if (proto != NULL && strcasecmp(proto, "https") == 0)
		f->https = 1;
	else if (proto != NULL && strcasecmp(proto, "http") == 0)
		f->https = 0;
	else if (proto != NULL)
		return -1;
	f->nginx = nginx;
	*reason = NULL;
	return 0;
}

int
fwdreq_status(int status, int nginx)
{
	if (nginx && status >= 300 && status < 400)
		return 401;
	return status;
}
