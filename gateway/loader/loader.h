/*
 * Loading a configuration (the files of loader/): a snapshot of config.h
 * from a file or a buffer, and the helpers of the commands that read one
 * key or open a sealed value.  Above every module whose section it reads;
 * what runs on a loaded snapshot is in config.h.
 */
#ifndef POSTERN_LOADER_H
#define POSTERN_LOADER_H

#include <stddef.h>

struct config;
struct diag;
struct password_rules;
struct store_settings;

/*
 * Load <path> and the policy files it names.  Every problem is added to
 * <d> as "file:line:col: message"; returns the snapshot with one reference
 * held by the caller, or NULL if <d> holds errors.
 */
struct config	*config_load(const char *path, struct diag *d);
/*
 * The same for a configuration held in memory (<len> bytes of <buf>, for
 * fuzzing and tests); <path> names it in messages and its directory is
 * where relative file names resolve.
 */
struct config	*config_load_buffer(const char *path, const void *buf,
		    size_t len, struct diag *d);
/*
 * The resolved assertion.key_file of the config file <path>, read without
 * any other check (for `postern keys generate`), or NULL.  Caller frees.
 */
char		*config_assertion_key_path(const char *path, struct diag *d);
/*
 * Open config value <value> ("sealed:v1..." by postern secrets seal) for
 * <purpose> into <out>: 0, 1 if only a previous secret opened it, -1.
 */
int	config_unseal(const struct config *cfg, const char *purpose,
	    const char *value, unsigned char *out, size_t size, size_t *len);
/*
 * The rules for new passwords under <cfg> (password.h): its common-password
 * list (passwords.common_passwords, else the shipped one), minimum length,
 * and context words: branding.product_name and the labels of every app's
 * host names.  NULL with the reason in <err>.  Caller frees.
 */
struct password_rules *config_password_rules(const struct config *cfg,
		    char *err, size_t errlen);
/*
 * The redis section of <cfg> as the store's settings (store.h): <set>
 * points into <cfg>, so it is valid as long as <cfg> is.
 */
void	config_store_settings(const struct config *cfg,
	    struct store_settings *set);

#endif
