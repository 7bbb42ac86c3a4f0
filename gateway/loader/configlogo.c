/*
 * branding.logo_file (see configlogo.h).  The pages then show
 * "/.postern/static/logo?v=<hash>" (a new file is a new URL, so browsers
 * may cache one for long) and their CSP allows img-src 'self'.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include <openssl/evp.h>

#include "config.h"
#include "config-int.h"
#include "configlogo.h"
#include "encode.h"
#include "yconf.h"

/* The content type of image <b> (<len> bytes), or NULL if it is none of
 * the three. */
static const char *
config_logo_type(const unsigned char *b, size_t len)
{
	size_t	i = 0;

	if (len >= 8 && memcmp(b, "\x89PNG\r\n\x1a\n", 8) == 0)
		return "image/png";
	if (len >= 12 && memcmp(b, "RIFF", 4) == 0 &&
	    memcmp(b + 8, "WEBP", 4) == 0)
		return "image/webp";
	if (len >= 3 && memcmp(b, "\xef\xbb\xbf", 3) == 0)
		i = 3;
	while (i < len && strchr(" \t\r\n", b[i]) != NULL)
		i++;
	if (len - i >= 5 && (memcmp(b + i, "<?xml", 5) == 0 ||
	    memcmp(b + i, "<svg", 4) == 0) && memchr(b, '\0', len) == NULL)
		return "image/svg+xml";
	return NULL;
}

/* Read <path> whole into a new buffer (*<len> bytes); NULL with <why>. */
static unsigned char *
config_logo_read(struct yconf *y, yaml_node_t *n, const char *path,
    size_t *len)
{
	struct stat	 st;
	FILE		*f;
	unsigned char	*b = NULL;

	if ((f = config_open_file(y, n, path, 0, &st)) == NULL)
		return NULL;
	if (st.st_size <= 0 || st.st_size > CONFIG_LOGO_MAX)
		yconf_error(y, n, "%s: %s: expected 1 to %d bytes, it has %lld",
		    y->key, path, CONFIG_LOGO_MAX, (long long)st.st_size);
	else if ((b = malloc((size_t)st.st_size)) == NULL)
		yconf_nomem(y, n);
	else if (fread(b, 1, (size_t)st.st_size, f) != (size_t)st.st_size) {
		yconf_error(y, n, "%s: %s: could not be read", y->key, path);
		free(b);
		b = NULL;
	}
	*len = (size_t)st.st_size;
	(void)fclose(f);
	return b;
}

void
config_on_logo_file(struct yconf *y, yaml_node_t *n, void *obj)
{
	struct config_ctx *cx = y->arg;
	struct config	*cfg = obj;
	unsigned char	*b, md[EVP_MAX_MD_SIZE];
	const char	*s, *type;
	char		*path, hex[2 * 8 + 1], url[64];
	size_t		 len = 0;
	unsigned int	 mdlen;

	if (yconf_is_null(n) || yconf_str(y, n, &s) == -1)
		return;
	if (cfg->brand_logo_url != NULL) {
		yconf_error(y, n, "%s: give logo_url or logo_file, not both",
		    y->key);
		return;
	}
	if ((path = config_path(cx->cfg, s)) == NULL) {
		yconf_nomem(y, n);
		return;
	}
	b = config_logo_read(y, n, path, &len);
	if (b != NULL && (type = config_logo_type(b, len)) == NULL)
		yconf_error(y, n, "%s: %s: expected a PNG, WebP or SVG "
		    "image", y->key, path);
	else if (b != NULL && EVP_Digest(b, len, md, &mdlen, EVP_sha256(),
	    NULL) == 1) {
		encode_hex(md, 8, hex);
		(void)snprintf(url, sizeof(url), "/.postern/static/logo?v=%s",
		    hex);
		free(cfg->brand_logo);
		cfg->brand_logo = b;
		cfg->brand_logo_len = len;
		cfg->brand_logo_type = type;
		(void)snprintf(cfg->brand_logo_etag,
		    sizeof(cfg->brand_logo_etag), "\"%s\"", hex);
		b = NULL;
		if ((cfg->brand_logo_url = strdup(url)) == NULL ||
		    (cfg->brand_img_src = strdup("'self'")) == NULL)
			yconf_nomem(y, n);
	}
	free(b);
	free(path);
}
