/*
 * Backup codes for a lost second factor: BACKUP_CODES single-use codes of
 * 120 random bits each (24 base32 characters, shown as four groups of six
 * separated by '-'), stored only as the hex SHA-256 of the normalised code
 * (enough for 120-bit secrets: no salt, no slow hash needed).
 */
#ifndef POSTERN_BACKUP_H
#define POSTERN_BACKUP_H

#include <stddef.h>

#define BACKUP_CODES		10
#define BACKUP_CHARS		24	/* normalised: 120 bits */
#define BACKUP_GROUP		6	/* characters between dashes */
#define BACKUP_CODE_LEN		(BACKUP_CHARS + BACKUP_CHARS / BACKUP_GROUP - 1)

/* At least 112 bits each, so an unsalted SHA-256 is enough to store them. */
_Static_assert(BACKUP_CHARS * 5 >= 112, "backup codes too short");

/*
 * BACKUP_CODES new codes from RAND_bytes, for display ("abcdef-ghijkl-
 * mnopqr-stuvwx"); 0, or -1 (then <codes> is wiped).
 */
int	backup_generate(char codes[BACKUP_CODES][BACKUP_CODE_LEN + 1]);
/*
 * The normalised form of a typed code (ASCII case folded to lower, spaces
 * and dashes dropped, then exactly BACKUP_CHARS of a-z2-7) into <out> (at
 * least BACKUP_CHARS + 1 bytes); 0, or -1 (then <out> is wiped).
 */
int	backup_normalize(const char *in, char *out, size_t size);
/* The hex SHA-256 of normalised code <norm> into <hex> (65 bytes). */
void	backup_hash(const char *norm, char *hex);

#endif
