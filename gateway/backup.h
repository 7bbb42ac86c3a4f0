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
#define BACKUP_CODE_LEN		(BACKUP_CHARS + 3)	/* with dashes */

/* BACKUP_CODES new codes, for display; 0 or -1. */
int	backup_generate(char codes[BACKUP_CODES][BACKUP_CODE_LEN + 1]);
/*
 * The normalised form of a typed code (lower case, no spaces or dashes,
 * exactly BACKUP_CHARS of the alphabet) into <out>; 0 or -1.
 */
int	backup_normalize(const char *in, char *out, size_t size);
/* The hex SHA-256 of normalised code <norm> into <hex> (65 bytes). */
void	backup_hash(const char *norm, char *hex);

#endif
