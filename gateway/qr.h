/*
 * QR codes as inline SVG (libqrencode), for TOTP enrolment: one <path> of
 * the dark modules with a 4-module quiet zone; no scripts, no styles, no
 * external references, so the strict CSP of the gateway's pages allows it.
 */
#ifndef POSTERN_QR_H
#define POSTERN_QR_H

struct evbuffer;

/* Append the QR code of <text> (level M) as <svg> to <out>; 0 or -1. */
int	qr_svg(const char *text, struct evbuffer *out);

#endif
