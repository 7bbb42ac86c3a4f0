/*
 * Character classes of the parsers on the request path, one table lookup
 * per byte: each byte of every request head, cookie and session id is
 * checked, so no search of an alphabet and no chain of comparisons.
 */
#ifndef POSTERN_CHCLASS_H
#define POSTERN_CHCLASS_H

#define CH_TCHAR	0x01	/* RFC 9110 5.6.2 tchar (header names) */
#define CH_B64URL	0x02	/* base64url alphabet (RFC 4648 5) */
#define CH_COOKIE	0x04	/* RFC 6265 cookie-octet */
#define CH_CTL		0x08	/* a control byte but HTAB, or DEL */

/* Filled before main() runs. */
extern unsigned char	chclass[256];

/* Whether byte <c> is of every class in <bits>. */
#define CHCLASS(c, bits)	((chclass[(unsigned char)(c)] & (bits)) == (bits))

#endif
