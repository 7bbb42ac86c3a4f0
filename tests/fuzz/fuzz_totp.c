/*
 * libFuzzer target: what a person types into the second-factor and
 * recovery forms: a TOTP code, a backup code, a mail token in a form
 * body; and stored values read back (sealed seeds, base32 keys).  Nothing
 * may crash; a code verifies only as six digits of the window; base32
 * decodes only its canonical form; no string but the genuine sealed seed
 * opens, however close to it (the input also edits a real seal).
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "backup.h"
#include "form.h"
#include "session.h"
#include "totp.h"

#define NOW	1700000000

int	LLVMFuzzerTestOneInput(const uint8_t *, size_t);

static const unsigned char key[20] = "12345678901234567890";
static const unsigned char seal_key[32] = { 1, 2, 3 };
/* "12345678901234567890" sealed under <seal_key> for "u1" */
static const char genuine[] =
    "v1.vKJg2HjlLffxHpbtpIfcTXIFkXFj87iqv3o6QyeTDFU0RETCz7Mzoz0W-kHEGyhl";

/* A verified code is six digits (after spaces and '-') of its step. */
static void
check_verify(const char *s)
{
	char	digits[64], want[8];
	size_t	n = 0;
	int64_t	step;

	if (totp_verify(key, sizeof(key), s, NOW, -1, &step) != 0)
		return;
	if (step < NOW / 30 - 1 || step > NOW / 30 + 1)
		abort();
	for (; *s != '\0' && n < sizeof(digits) - 1; s++)
		if (*s != ' ' && *s != '-')
			digits[n++] = *s;
	digits[n] = '\0';
	(void)snprintf(want, sizeof(want), "%06u", (unsigned)totp_code(key,
	    sizeof(key), (uint64_t)step, 6));
	if (strcmp(digits, want) != 0)
		abort();
	/* and once used, never again */
	if (totp_verify(key, sizeof(key), want, NOW, step, &step) != -2)
		abort();
}

static void
check_backup(const char *s)
{
	char	norm[BACKUP_CHARS + 1], again[BACKUP_CHARS + 1];

	if (backup_normalize(s, norm, sizeof(norm)) != 0)
		return;
	if (strlen(norm) != BACKUP_CHARS ||
	    strspn(norm, "abcdefghijklmnopqrstuvwxyz234567") != BACKUP_CHARS ||
	    backup_normalize(norm, again, sizeof(again)) != 0 ||
	    strcmp(norm, again) != 0)
		abort();
}

/* Decoded base32 encodes back to the input, less separators, upper case. */
static void
check_base32(const char *s)
{
	unsigned char	out[TOTP_SECRET_MAX];
	char		b32[TOTP_B32_MAX], canon[TOTP_B32_MAX];
	long		n;
	size_t		i = 0;

	if ((n = totp_base32_decode(s, out, sizeof(out))) < 0)
		return;
	for (; *s != '\0'; s++)
		if (strchr(" -=", *s) == NULL && i < sizeof(canon) - 1)
			canon[i++] = *s >= 'a' && *s <= 'z' ? *s - 32 : *s;
	canon[i] = '\0';
	if (totp_base32(out, (size_t)n, b32, sizeof(b32)) != 0 ||
	    strcmp(b32, canon) != 0)
		abort();
}

/*
 * Edit the genuine seal as <data> says (data[0]: what, data[1]: where,
 * the rest: the bytes) and try to open it: only the unchanged string may.
 */
static void
check_tamper(const uint8_t *data, size_t size)
{
	char		 buf[2 * sizeof(genuine) + 64];
	unsigned char	 out[TOTP_SECRET_MAX];
	size_t		 glen = sizeof(genuine) - 1, pos, n, len;

	if (size < 2 || size - 2 > 64)
		return;
	pos = data[1] % (glen + 1);
	n = size - 2;
	memcpy(buf, genuine, pos);
	switch (data[0] & 3) {
	case 0:		/* overwrite */
		memcpy(buf + pos, data + 2, n);
		if (pos + n < glen)
			memcpy(buf + pos + n, genuine + pos + n,
			    glen - pos - n);
		buf[pos + n > glen ? pos + n : glen] = '\0';
		break;
	case 1:		/* insert */
		memcpy(buf + pos, data + 2, n);
		memcpy(buf + pos + n, genuine + pos, glen - pos + 1);
		break;
	case 2:		/* delete */
		n = n < glen - pos ? n : glen - pos;
		memcpy(buf + pos, genuine + pos + n, glen - pos - n + 1);
		break;
	default:	/* truncate and append */
		memcpy(buf + pos, data + 2, n);
		buf[pos + n] = '\0';
		break;
	}
	if ((totp_open(seal_key, "u1", buf, out, sizeof(out), &len) == 0) !=
	    (strcmp(buf, genuine) == 0))
		abort();
}

/* The mail token read from a reset form (recover.c). */
static void
check_form(const char *s, size_t size)
{
	const char	*why, *tok;
	struct form	 f;

	if (form_parse(s, size, &f, &why) != 0)
		return;
	tok = form_get(&f, "token");
	if (tok != NULL && session_id_valid(tok) &&
	    strlen(tok) != SESSION_ID_LEN)
		abort();
	form_free(&f);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	unsigned char	 out[TOTP_SECRET_MAX];
	char		*s;
	size_t		 len;

	if ((s = malloc(size + 1)) == NULL)
		return 0;
	memcpy(s, data, size);
	s[size] = '\0';
	check_verify(s);
	check_backup(s);
	check_base32(s);
	/* No forged seal opens: the key is not derivable from the input. */
	if (totp_open(seal_key, "u1", s, out, sizeof(out), &len) == 0 &&
	    strcmp(s, genuine) != 0)
		abort();
	check_tamper(data, size);
	check_form(s, size);
	free(s);
	return 0;
}
