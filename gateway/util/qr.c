/*
 * QR codes as inline SVG (see qr.h).  Each row's runs of dark modules
 * become "M x y h n v 1 h -n z" path segments, so a code is one <path>
 * whatever its size.  Colours are fill attributes (presentation
 * attributes, not CSS), which a style-src without 'unsafe-inline' allows.
 */
#include <stdio.h>
#include <string.h>

#include <event2/buffer.h>
#include <qrencode.h>

#include "qr.h"

#define QR_QUIET	4	/* modules of light margin (ISO/IEC 18004) */

/* Append row <y> of <q>'s dark modules as path segments; 0 or -1. */
static int
qr_row(const QRcode *q, int y, struct evbuffer *b)
{
	const unsigned char	*row = q->data + (size_t)y * (size_t)q->width;
	int			 x, run;

	for (x = 0; x < q->width; x += run > 0 ? run : 1) {
		for (run = 0; x + run < q->width && (row[x + run] & 1); run++)
			continue;	/* bit 0 of a module: dark */
		if (run > 0 && evbuffer_add_printf(b, "M%d %dh%dv1h-%dz",
		    x + QR_QUIET, y + QR_QUIET, run, run) < 0)
			return -1;
	}
	return 0;
}

int
qr_svg(const char *text, struct evbuffer *out)
{
	struct evbuffer	*b = NULL;
	QRcode		*q;
	int		 y, w, rc = -1;

	if ((q = QRcode_encodeString(text, 0, QR_ECLEVEL_M, QR_MODE_8,
	    1)) == NULL)
		return -1;
	if ((b = evbuffer_new()) == NULL)
		goto out;
	w = q->width + 2 * QR_QUIET;
	if (evbuffer_add_printf(b, "<svg class=\"qr\" xmlns=\"http://www."
	    "w3.org/2000/svg\" viewBox=\"0 0 %d %d\" role=\"img\" "
	    "aria-labelledby=\"qrtitle\" shape-rendering=\"crispEdges\">"
	    "<title id=\"qrtitle\">QR code for your authenticator app</title>"
	    "<rect width=\"%d\" height=\"%d\" fill=\"#fff\"/><path fill=\"#000\" "
	    "d=\"", w, w, w, w) < 0)
		goto out;
	for (y = 0; y < q->width; y++)
		if (qr_row(q, y, b) == -1)
			goto out;
	if (evbuffer_add_printf(b, "\"/></svg>\n") < 0 ||
	    evbuffer_add_buffer(out, b) == -1)	/* all or nothing */
		goto out;
	rc = 0;
out:
	if (b != NULL)		/* evbuffer_free() is not NULL-safe */
		evbuffer_free(b);
	QRcode_free(q);
	return rc;
}
