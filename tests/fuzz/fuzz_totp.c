/*
 * libFuzzer target: what a person types into the second-factor and
 * recovery forms: a TOTP code, a backup code, a mail token in a form
 * body; and stored values read back (sealed seeds, base32 keys).  Nothing
 * may crash, and nothing tampered may open or verify.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "backup.h"
#include "form.h"
#include "session.h"
#include "totp.h"

int	LLVMFuzzerTestOneInput(const uint8_t *, size_t);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const unsigned char key[20] = "12345678901234567890";
	static const unsigned char seal_key[32] = { 1, 2, 3 };
	unsigned char	 out[TOTP_SECRET_MAX];
	char		*s, norm[BACKUP_CHARS + 1];
	const char	*why, *tok;
	struct form	 f;
	int64_t		 step;
	size_t		 len;

	if ((s = malloc(size + 1)) == NULL)
		return 0;
	memcpy(s, data, size);
	s[size] = '\0';
	/* A code verifies only as exactly six digits of the window. */
	if (totp_verify(key, sizeof(key), s, 1700000000, -1, &step) == 0 &&
	    (step < 1700000000 / 30 - 1 || step > 1700000000 / 30 + 1))
		abort();
	if (backup_normalize(s, norm, sizeof(norm)) == 0 &&
	    strlen(norm) != BACKUP_CHARS)
		abort();
	(void)totp_base32_decode(s, out, sizeof(out));
	/* No forged seal opens: the key is not derivable from the input. */
	if (totp_open(seal_key, "u1", s, out, sizeof(out), &len) == 0)
		abort();
	if (form_parse(s, size, &f, &why) == 0) {
		tok = form_get(&f, "token");
		if (tok != NULL && session_id_valid(tok) &&
		    strlen(tok) != SESSION_ID_LEN)
			abort();
		form_free(&f);
	}
	free(s);
	return 0;
}
