/*
 * Passwords: argon2id hashing into PHC strings, verification of argon2id
 * and imported bcrypt hashes, the rehash decision, and the rules a new
 * password must pass (length in code points, the shipped common-password
 * list, context words).  Hashing and verifying are slow on purpose: the
 * gateway runs them on the hash pool (hashpool.h), never on an event loop.
 * Plaintexts are wiped with OPENSSL_cleanse() by whoever owns the buffer.
 */
#ifndef POSTERN_PASSWORD_H
#define POSTERN_PASSWORD_H

#include <stddef.h>
#include <stdint.h>

#define PASSWORD_MAX_LENGTH	128	/* code points */
#define PASSWORD_MAX_BYTES	(PASSWORD_MAX_LENGTH * 4)
#define PASSWORD_BCRYPT_MAX	72	/* bytes bcrypt reads */
#define PASSWORD_HASHLEN	256	/* room for any PHC string we make */
#define PASSWORD_SALTLEN	16	/* bytes */
#define PASSWORD_TAGLEN		32	/* bytes of argon2 output */
#define PASSWORD_WHYLEN		160

struct password_rules;

/*
 * Argon2id cost of new hashes (passwords.argon2_*: the caller fills it from
 * its configuration).
 */
struct password_params {
	uint32_t	memory_kib;
	uint32_t	iterations;
	uint32_t	parallelism;
};

/* A parsed "$argon2id$v=19$m=..,t=..,p=..$salt$hash" string. */
struct password_phc {
	uint32_t	version;
	uint32_t	memory_kib;
	uint32_t	iterations;
	uint32_t	parallelism;
	unsigned char	salt[64];
	size_t		saltlen;
	unsigned char	hash[64];
	size_t		hashlen;
};

enum password_result {
	PASSWORD_OK = 0,	/* matches */
	PASSWORD_MISMATCH,	/* does not match */
	PASSWORD_TOO_LONG,	/* > 72 bytes against bcrypt: refused */
	PASSWORD_BAD_HASH,	/* stored hash unreadable or unsupported */
};

/*
 * Hash <pw> (<len> bytes) with a fresh random salt into <out> (<outlen>
 * bytes, PASSWORD_HASHLEN is enough) as an argon2id PHC string.  Returns 0,
 * or -1 (out of memory, cost refused by libargon2).
 */
int	password_hash(const struct password_params *p, const char *pw,
	    size_t len, char *out, size_t outlen);

/*
 * Compare <pw> with <hash>: an argon2id PHC string or a bcrypt hash
 * ("$2b$", "$2y$").  bcrypt reads only 72 bytes; a longer password is
 * refused (PASSWORD_TOO_LONG) rather than checked on a truncated prefix,
 * which would let any password sharing those 72 bytes in.  Constant-time
 * comparison of the computed and stored values.
 */
enum password_result password_verify(const char *hash, const char *pw,
	    size_t len);

/* 1 if <hash> is not argon2id with exactly the cost <p> (bcrypt: always). */
int	password_needs_rehash(const struct password_params *p,
	    const char *hash);

/*
 * Parse an argon2id PHC string.  Returns 0, or -1 for anything else
 * (other variants, missing or out-of-range parameters, bad base64, salt or
 * hash lengths outside 8..64 bytes).  Input is untrusted (it comes from
 * Redis, maybe imported): never reads past the terminating NUL.
 */
int	password_phc_parse(const char *s, struct password_phc *out);

/* ---- rules for new passwords ---- */

/*
 * Load the common-password list <path> (one per line, '#' comments;
 * compared case-insensitively), keep <min_length>, and refuse the context
 * word "postern".  Returns NULL with a
 * reason in <err>.
 */
struct password_rules *password_rules_load(const char *path,
		    size_t min_length, char *err, size_t errlen);
/*
 * The list file: <configured> (passwords.common_passwords) unless NULL,
 * else the installed copy, else the source tree's (uninstalled builds).
 */
const char	*password_rules_path(const char *configured);
void		 password_rules_free(struct password_rules *r);
size_t		 password_rules_count(const struct password_rules *r);

#define PASSWORD_WORDMIN	4	/* shorter context words are ignored */

/*
 * Add context word <word> (<what> it is, for the message: "product",
 * "site" or "organisation", or a string that outlives <r>) to the words every new password is checked against.
 * Words shorter than PASSWORD_WORDMIN letters and digits are ignored.
 * 0, or -1 (out of memory).
 */
int	password_rules_word(struct password_rules *r, const char *word,
	    const char *what);
/*
 * Add the labels of host name <host> as context words: every label but
 * the last of a dotted name (the top-level domain), not a "{org}" or "*"
 * label, not an address's (all digits).  0, or -1 (out of memory).
 */
int	password_rules_host(struct password_rules *r, const char *host);

/* What a new password is checked against besides the rules' words. */
struct password_context {
	const char		*email;	/* the account, or NULL */
	const char *const	*words;	/* its organisations' slugs, names */
	size_t			 nwords;
};

/*
 * Check a new password <pw> (<len> bytes) for the account of <cx> (may be
 * NULL): length, the common-password list, and no context word (the
 * rules' and <cx>'s, compared case-insensitively and up to look-alike
 * characters and punctuation: "P0st-ern" holds "postern").  Returns 0 if
 * acceptable, or -1 with a message for the person in <why> (never
 * containing the password).
 */
int	password_check(const struct password_rules *r, const char *pw,
	    size_t len, const struct password_context *cx, char *why,
	    size_t whylen);

/*
 * Why password_judge() refused a password: a stable <code> a page maps to
 * its own words ("utf8", "nul", "length" with <min>, <max> and <has>
 * code points, "common", "word" with the word's kind <what>, "org",
 * "email_name", "email_domain", "oom").  Never holds the password.
 */
struct password_refusal {
	const char	*code;
	const char	*what;		/* "word": "product", "site", ... */
	size_t		 min;
	int		 max;
	long		 has;
};

/* password_check() answering with a code: 0, or -1 and <out> set. */
int	password_judge(const struct password_rules *r, const char *pw,
	    size_t len, const struct password_context *cx,
	    struct password_refusal *out);
/* The English sentence of refusal <f> into <why> (password_check()'s). */
void	password_refusal_text(const struct password_refusal *f, char *why,
	    size_t whylen);

/* Code points in valid UTF-8 <s>, or -1 if <s> is not valid UTF-8. */
long	password_utf8_len(const char *s, size_t len);

#endif
