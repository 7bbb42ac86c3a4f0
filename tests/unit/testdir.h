/*
 * A temporary directory of configuration files for the config tests:
 * certificates, secrets and YAML written where a test's config finds them.
 */
#ifndef POSTERN_TESTDIR_H
#define POSTERN_TESTDIR_H

#include <sys/types.h>

extern char	testdir[64];

/* Create testdir (mkdtemp); 0 or -1. */
int	testdir_make(void);
/* Remove it and everything in it; 0 or -1. */
int	testdir_remove(void);
/* Write <text> to <name> in testdir with <mode>. */
void	testdir_write(const char *name, const char *text, mode_t mode);
/* A self-signed P-256 certificate in <cert>, its key (0600) in <key>. */
void	testdir_cert(const char *cert, const char *key);
/* 256 random bits as hex in <name> (0600), like openssl rand -hex 32. */
void	testdir_secret(const char *name);

#endif
