/*
 * QR codes as inline SVG (libqrencode), for TOTP enrolment: one <path> of
 * the dark modules with a 4-module quiet zone; no scripts, no styles, no
 * external references, so the strict CSP of the gateway's pages allows it.
 */
#ifndef POSTERN_QR_H
#define POSTERN_QR_H

struct evbuffer;

/*
 * Append the QR code of <text> (8-bit mode, error correction level M) as
 * one inline <svg> element to <out>; 0, or -1 (<text> empty or too long
 * for a QR code, or no memory) with nothing appended.
 */
int	qr_svg(const char *text, struct evbuffer *out);

#endif
