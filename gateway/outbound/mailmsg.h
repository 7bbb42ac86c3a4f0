/*
 * Internet messages for the mailer (RFC 5322, MIME RFC 2045-2047): the
 * checks that keep values out of header syntax, RFC 2047 encoded words for
 * non-ASCII subjects and names, quoted-printable bodies and one
 * multipart/alternative message with CRLF line endings.  Dot-stuffing is
 * left to libcurl's SMTP transfer.
 */
#ifndef POSTERN_MAILMSG_H
#define POSTERN_MAILMSG_H

#include <stddef.h>
#include <time.h>

struct evbuffer;

#define MAILMSG_ADDR_MAX	254	/* RFC 5321 path limit less <> */
#define MAILMSG_MSGID_MAX	320	/* "<" hex "@" domain ">" */

/*
 * 1 if <addr> is an address the gateway sends to or from: "local@domain"
 * with a dot-atom local part (letters, digits and !#$%&'*+-/=?^_`{|}~,
 * single dots inside) and a host-name domain, at most MAILMSG_ADDR_MAX
 * bytes.  No quoted local parts, comments, brackets or line breaks: such
 * a value could change the SMTP envelope or the headers.
 */
int	mailmsg_addr_valid(const char *addr);

/*
 * The length (1-4) of the UTF-8 character at <s> (of <n> bytes), or 0 if
 * it is not valid UTF-8 (overlong forms, surrogates, > U+10FFFF).
 */
size_t	mailmsg_utf8_len(const unsigned char *s, size_t n);

/*
 * 1 if <s> may go into a header: valid UTF-8 without control characters
 * (no CR, LF, TAB, NUL or DEL), at most <max> bytes.
 */
int	mailmsg_header_ok(const char *s, size_t max);

/* The fields of one message; strings are checked by mailmsg_build(). */
struct mailmsg_head {
	const char	*from;		/* addr-spec */
	const char	*from_name;	/* display name or NULL */
	const char	*to;		/* addr-spec */
	const char	*subject;	/* UTF-8, one line */
	const char	*msgid;		/* "<...@...>" (mailmsg_msgid) */
	time_t		 date;
};

/*
 * The whole message: headers (Date, From, To, Subject, Message-ID,
 * MIME-Version, Content-Type, Auto-Submitted), then a multipart/alternative
 * body of <text> and <html> (UTF-8, quoted-printable), every line ending in
 * CRLF.  Returns a buffer of *<lenp> bytes that the caller frees, or NULL
 * with a reason in <err> (an invalid address, a subject or name with a line
 * break or control character, RAND_bytes failing).
 */
char	*mailmsg_build(const struct mailmsg_head *h, const char *text,
	    const char *html, size_t *lenp, char *err, size_t errlen);

/* "<32 random hex digits@domain of from>" into <buf>; 0, or -1. */
int	mailmsg_msgid(char *buf, size_t size, const char *from);

/* RFC 5322 date ("Tue, 04 Mar 2025 10:00:00 +0000") of <t> in UTC. */
void	mailmsg_date(char *buf, size_t size, time_t t);

/* Quoted-printable (RFC 2045 6.7) of <len> bytes, CRLF lines; 0 or -1. */
int	mailmsg_qp(struct evbuffer *out, const char *s, size_t len);

/*
 * <s> as header text: as is when printable ASCII without "=?", else RFC
 * 2047 "=?UTF-8?B?...?=" words of at most 75 bytes, split between UTF-8
 * characters and folded with CRLF SP.  With <phrase> (a display name), an
 * ASCII value is written as a quoted-string.  0, or -1.
 */
int	mailmsg_header_text(struct evbuffer *out, const char *s, int phrase);

#endif
