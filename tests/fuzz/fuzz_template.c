/*
 * libFuzzer target: mail templates (mailtmpl.c) and the message built
 * from them (mailmsg.c).  The input's first line is a value; the rest is a
 * template.  Checks: a parsed template renders; HTML rendering leaves no
 * markup character of the value; a rendered subject that passes
 * mailmsg_header_ok() builds a message with CRLF-only lines, none over 998
 * bytes, and exactly one Subject header (no injection).
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "mail.h"
#include "mailmsg.h"
#include "mailtmpl.h"

int	LLVMFuzzerTestOneInput(const uint8_t *, size_t);

/*
 * Every line ends in CRLF and is at most 998 bytes; the head (up to the
 * first empty line) has exactly one "Subject:" line.
 */
static void
fuzz_check_message(const char *m, size_t len)
{
	size_t	i, col = 0, subjects = 0;
	int	head = 1;

	for (i = 0; i < len; i++) {
		if (m[i] == '\n') {
			if (i == 0 || m[i - 1] != '\r')
				abort();
			if (col == 1)		/* just "\r": the empty line */
				head = 0;
			col = 0;
			continue;
		}
		if (m[i] == '\r' && (i + 1 == len || m[i + 1] != '\n'))
			abort();
		if (head && col == 0 && strncmp(m + i, "Subject:", 8) == 0)
			subjects++;
		if (++col > 998)
			abort();
	}
	if (subjects != 1)
		abort();
}

static void
fuzz_build(const char *subject, const char *body)
{
	struct mailmsg_head	 h = {
		.from = "postern@example.com", .from_name = subject,
		.to = "a@example.com", .subject = subject,
		.msgid = "<0@example.com>", .date = 0,
	};
	char			 err[160], *m;
	size_t			 len;

	m = mailmsg_build(&h, body, body, &len, err, sizeof(err));
	if (m == NULL && mailmsg_header_ok(subject, 200))
		abort();		/* a valid subject builds */
	if (m != NULL)
		fuzz_check_message(m, len);
	free(m);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const char		*nl = memchr(data, '\n', size);
	struct mailtmpl_err	 e;
	struct mailtmpl		*t;
	struct mail_var		 vars[3];
	char			*value, *out;
	size_t			 vlen, len;
	char			 err[128];

	if (nl == NULL)
		return 0;
	vlen = (size_t)(nl - (const char *)data);
	if ((value = strndup((const char *)data, vlen)) == NULL)
		return 0;
	vars[0] = (struct mail_var){ "a", value };
	vars[1] = (struct mail_var){ "link", value };
	vars[2] = (struct mail_var){ "x_1", value };
	t = mailtmpl_parse(nl + 1, size - vlen - 1, &e);
	if (t == NULL && (e.line == 0 || e.col == 0 || e.msg[0] == '\0'))
		abort();
	if (t != NULL && (out = mailtmpl_render(t, MAILTMPL_HTML, vars, 3,
	    &len, err, sizeof(err))) != NULL) {
		if (strlen(value) == vlen && strpbrk(value, "<>\"'") == NULL &&
		    strchr(value, '&') == NULL)
			fuzz_build(value, out);
		free(out);
	}
	if (t != NULL && (out = mailtmpl_render(t, MAILTMPL_RAW, vars, 3,
	    &len, err, sizeof(err))) != NULL) {
		if (strlen(out) == len)
			fuzz_build(out, value);
		free(out);
	}
	mailtmpl_free(t);
	free(value);
	return 0;
}
