/*
 * QR codes as inline SVG (see qr.h).  Each row's runs of dark modules
 * become "M x y h n v 1 h -n z" path segments.
 */
#include <stdio.h>
#include <string.h>

#include <event2/buffer.h>
#include <qrencode.h>

#include "qr.h"

#define QR_QUIET	4

int
qr_svg(const char *text, struct evbuffer *out)
{
	QRcode	*q;
	int	 x, y, run, w, rc = 0;

	if ((q = QRcode_encodeString(text, 0, QR_ECLEVEL_M, QR_MODE_8,
	    1)) == NULL)
		return -1;
	w = q->width + 2 * QR_QUIET;
	rc |= evbuffer_add_printf(out, "<svg class=\"qr\" xmlns=\"http://www."
	    "w3.org/2000/svg\" viewBox=\"0 0 %d %d\" role=\"img\" "
	    "aria-labelledby=\"qrtitle\" shape-rendering=\"crispEdges\">"
	    "<title id=\"qrtitle\">QR code for your authenticator app</title>"
	    "<rect width=\"%d\" height=\"%d\" fill=\"#fff\"/><path fill=\"#000\" "
	    "d=\"", w, w, w, w) < 0;
	for (y = 0; y < q->width; y++) {
		for (x = 0; x < q->width; x += run > 0 ? run : 1) {
			run = 0;
			while (x + run < q->width &&
			    (q->data[y * q->width + x + run] & 1))
				run++;
			if (run > 0)
				rc |= evbuffer_add_printf(out, "M%d %dh%dv1h-%dz",
				    x + QR_QUIET, y + QR_QUIET, run, run) < 0;
		}
	}
	rc |= evbuffer_add_printf(out, "\"/></svg>\n") < 0;
	QRcode_free(q);
	return rc ? -1 : 0;
}
