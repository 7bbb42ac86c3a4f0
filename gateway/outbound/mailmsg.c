/*
 * Internet messages for the mailer (see mailmsg.h).  Everything a caller
 * passes is checked before it reaches header syntax: addresses against a
 * strict addr-spec, header text against control characters (so no value
 * can start a header or end the head: RFC 5322 2.2), and bodies are
 * quoted-printable, whose output never holds "=_" (our boundary's prefix,
 * RFC 2045 6.7 and RFC 2046 5.1.1) nor lines over 76 bytes.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <event2/buffer.h>
#include <openssl/evp.h>
#include <openssl/rand.h>

#include "encode.h"
#include "mailmsg.h"
#include "parse.h"

#define MAILMSG_SUBJECT_MAX	900	/* bytes; a header line is < 998 */
#define MAILMSG_NAME_MAX	200	/* bytes of from_name */
#define MAILMSG_WORD_BYTES	45	/* UTF-8 bytes per encoded word: 60
					 * base64 + 12 = 72 < 75 (RFC 2047 2) */
#define MAILMSG_QP_LINE		76

size_t
mailmsg_utf8_len(const unsigned char *s, size_t n)
{
	return encode_utf8_len(s, n);
}

int
mailmsg_header_ok(const char *s, size_t max)
{
	const unsigned char	*p = (const unsigned char *)s;
	size_t			 len = strlen(s), i = 0, n;

	if (len > max)
		return 0;
	while (i < len) {
		if (p[i] < 0x20 || p[i] == 0x7f)
			return 0;
		if ((n = mailmsg_utf8_len(p + i, len - i)) == 0)
			return 0;
		i += n;
	}
	return 1;
}

/* RFC 5322 3.2.3 atext: what a dot-atom's atoms are made of. */
static int
mailmsg_atext(char c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
	    (c >= '0' && c <= '9') || (c != '\0' &&
	    strchr("!#$%&'*+-/=?^_`{|}~", c) != NULL);
}

int
mailmsg_addr_valid(const char *addr)
{
	const char	*at, *p;
	char		 err[PARSE_ERRLEN];

	if (addr == NULL || strlen(addr) > MAILMSG_ADDR_MAX ||
	    (at = strrchr(addr, '@')) == NULL || at == addr ||
	    at - addr > 64 || addr[0] == '.' || at[-1] == '.')
		return 0;
	for (p = addr; p < at; p++)
		if (!mailmsg_atext(*p) && !(*p == '.' && p[1] != '.'))
			return 0;
	if (at[1] == '\0' || strchr(at + 1, '[') != NULL ||
	    parse_host(at + 1, 0, err, sizeof(err)) == -1)
		return 0;
	return 1;
}

void
mailmsg_date(char *buf, size_t size, time_t t)
{
	static const char *const days[] = { "Sun", "Mon", "Tue", "Wed",
	    "Thu", "Fri", "Sat" };
	static const char *const months[] = { "Jan", "Feb", "Mar", "Apr",
	    "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec" };
	struct tm	tm;

	if (gmtime_r(&t, &tm) == NULL)
		memset(&tm, 0, sizeof(tm));
	(void)snprintf(buf, size, "%s, %02d %s %04d %02d:%02d:%02d +0000",
	    days[tm.tm_wday % 7], tm.tm_mday, months[tm.tm_mon % 12],
	    tm.tm_year + 1900, tm.tm_hour, tm.tm_min, tm.tm_sec);
}

static int
mailmsg_random_hex(char *out, size_t nbytes)
{
	unsigned char		 r[32];

	if (nbytes > sizeof(r) || RAND_bytes(r, (int)nbytes) != 1)
		return -1;
	encode_hex(r, nbytes, out);
	return 0;
}

int
mailmsg_msgid(char *buf, size_t size, const char *from)
{
	const char	*at = from != NULL ? strrchr(from, '@') : NULL;
	char		 hex[33];

	if (at == NULL || mailmsg_random_hex(hex, 16) == -1 ||
	    snprintf(buf, size, "<%s@%s>", hex, at + 1) >= (int)size)
		return -1;
	return 0;
}

/* One QP token: a literal byte, or "=XX". */
static size_t
mailmsg_qp_token(char *tok, const unsigned char *s, size_t len, size_t i,
    size_t col)
{
	unsigned char		 c = s[i];
	int			 eol, lit;

	eol = i + 1 == len || s[i + 1] == '\n' ||
	    (s[i + 1] == '\r' && i + 2 < len && s[i + 2] == '\n');
	lit = (c >= 33 && c <= 126 && c != '=') ||
	    ((c == ' ' || c == '\t') && !eol);
	if (c == '.' && col == 0)
		lit = 0;	/* a lone "." line must never reach SMTP */
	if (lit) {
		tok[0] = (char)c;
		return 1;
	}
	tok[0] = '=';
	tok[1] = encode_hex_upper[c >> 4];
	tok[2] = encode_hex_upper[c & 0xf];
	return 3;
}

int
mailmsg_qp(struct evbuffer *out, const char *str, size_t len)
{
	const unsigned char	*s = (const unsigned char *)str;
	char			 tok[3];
	size_t			 i, col = 0, n;

	for (i = 0; i < len; i++) {
		if (s[i] == '\n' || (s[i] == '\r' && i + 1 < len &&
		    s[i + 1] == '\n')) {
			if (s[i] == '\r')
				i++;
			if (evbuffer_add(out, "\r\n", 2) == -1)
				return -1;
			col = 0;
			continue;
		}
		n = mailmsg_qp_token(tok, s, len, i, col);
		if (col + n > MAILMSG_QP_LINE - 1) {	/* room for "=" */
			if (evbuffer_add(out, "=\r\n", 3) == -1)
				return -1;
			col = 0;
			n = mailmsg_qp_token(tok, s, len, i, col);
		}
		if (evbuffer_add(out, tok, n) == -1)
			return -1;
		col += n;
	}
	return 0;
}

static int
mailmsg_plain_ascii(const char *s)
{
	for (; *s != '\0'; s++)
		if (*s < 0x20 || *s > 0x7e)
			return 0;
	return 1;
}

/* "=?UTF-8?B?...?=" words of whole characters, folded with CRLF SP. */
static int
mailmsg_encoded_words(struct evbuffer *out, const char *s)
{
	const unsigned char	*p = (const unsigned char *)s;
	unsigned char		 b64[4 * ((MAILMSG_WORD_BYTES + 2) / 3) + 1];
	size_t			 len = strlen(s), i = 0, chunk, n;

	while (i < len) {
		chunk = 0;
		while (i + chunk < len && (n = mailmsg_utf8_len(p + i + chunk,
		    len - i - chunk)) > 0 && chunk + n <= MAILMSG_WORD_BYTES)
			chunk += n;
		if (chunk == 0)
			return -1;	/* invalid UTF-8: checked earlier */
		(void)EVP_EncodeBlock(b64, p + i, (int)chunk);
		if (evbuffer_add_printf(out, "%s=?UTF-8?B?%s?=",
		    i > 0 ? "\r\n " : "", b64) < 0)
			return -1;
		i += chunk;
	}
	return 0;
}

int
mailmsg_header_text(struct evbuffer *out, const char *s, int phrase)
{
	if (!mailmsg_plain_ascii(s) || strstr(s, "=?") != NULL)
		return mailmsg_encoded_words(out, s);
	if (!phrase)
		return evbuffer_add(out, s, strlen(s));
	if (evbuffer_add(out, "\"", 1) == -1)
		return -1;
	for (; *s != '\0'; s++) {
		if (*s == '"' || *s == '\\')
			if (evbuffer_add(out, "\\", 1) == -1)
				return -1;
		if (evbuffer_add(out, s, 1) == -1)
			return -1;
	}
	return evbuffer_add(out, "\"", 1);
}

static int
mailmsg_check(const struct mailmsg_head *h, char *err, size_t errlen)
{
	const char	*why = NULL;

	if (!mailmsg_addr_valid(h->from))
		why = "from: not a plain address";
	else if (!mailmsg_addr_valid(h->to))
		why = "to: not a plain address (local@domain)";
	else if (h->subject == NULL ||
	    !mailmsg_header_ok(h->subject, MAILMSG_SUBJECT_MAX))
		why = "subject: a line break, control character or invalid "
		    "UTF-8, or longer than 900 bytes";
	else if (h->from_name != NULL &&
	    !mailmsg_header_ok(h->from_name, MAILMSG_NAME_MAX))
		why = "from_name: a line break, control character or invalid "
		    "UTF-8";
	else if (h->msgid == NULL || !mailmsg_plain_ascii(h->msgid) ||
	    strlen(h->msgid) > MAILMSG_MSGID_MAX)
		why = "message id";
	if (why != NULL)
		(void)snprintf(err, errlen, "%s", why);
	return why == NULL ? 0 : -1;
}

static int
mailmsg_head(struct evbuffer *b, const struct mailmsg_head *h,
    const char *boundary)
{
	char	date[64];

	mailmsg_date(date, sizeof(date), h->date);
	if (evbuffer_add_printf(b, "Date: %s\r\nFrom: ", date) < 0)
		return -1;
	if (h->from_name != NULL && h->from_name[0] != '\0') {
		if (mailmsg_header_text(b, h->from_name, 1) == -1 ||
		    evbuffer_add_printf(b, " <%s>\r\n", h->from) < 0)
			return -1;
	} else if (evbuffer_add_printf(b, "%s\r\n", h->from) < 0)
		return -1;
	if (evbuffer_add_printf(b, "To: %s\r\nSubject: ", h->to) < 0 ||
	    mailmsg_header_text(b, h->subject, 0) == -1 ||
	    evbuffer_add_printf(b, "\r\nMessage-ID: %s\r\nMIME-Version: 1.0"
	    "\r\nContent-Type: multipart/alternative;\r\n boundary=\"%s\"\r\n"
	    "Auto-Submitted: auto-generated\r\n\r\n", h->msgid,
	    boundary) < 0)
		return -1;
	return 0;
}

static int
mailmsg_part(struct evbuffer *b, const char *boundary, const char *type,
    const char *body)
{
	if (evbuffer_add_printf(b, "--%s\r\nContent-Type: %s; charset=UTF-8"
	    "\r\nContent-Transfer-Encoding: quoted-printable\r\n\r\n",
	    boundary, type) < 0 || mailmsg_qp(b, body, strlen(body)) == -1 ||
	    evbuffer_add(b, "\r\n", 2) == -1)
		return -1;
	return 0;
}

char *
mailmsg_build(const struct mailmsg_head *h, const char *text,
    const char *html, size_t *lenp, char *err, size_t errlen)
{
	struct evbuffer	*b;
	char		 boundary[64], *out = NULL;
	size_t		 len;

	if (mailmsg_check(h, err, errlen) == -1)
		return NULL;
	memcpy(boundary, "=_postern_", 10);
	if (mailmsg_random_hex(boundary + 10, 16) == -1) {
		(void)snprintf(err, errlen, "RAND_bytes failed");
		return NULL;
	}
	if ((b = evbuffer_new()) == NULL)
		goto oom;
	if (mailmsg_head(b, h, boundary) == -1 ||
	    mailmsg_part(b, boundary, "text/plain", text) == -1 ||
	    mailmsg_part(b, boundary, "text/html", html) == -1 ||
	    evbuffer_add_printf(b, "--%s--\r\n", boundary) < 0)
		goto oom;
	len = evbuffer_get_length(b);
	if ((out = malloc(len + 1)) == NULL ||
	    evbuffer_remove(b, out, len) != (int)len)
		goto oom;
	out[len] = '\0';
	*lenp = len;
	evbuffer_free(b);
	return out;
oom:
	free(out);
	if (b != NULL)
		evbuffer_free(b);
	(void)snprintf(err, errlen, "out of memory");
	return NULL;
}
