/*
 * The mail: section of the configuration (loader/configmail.c reads it).
 */
#ifndef POSTERN_CONFMAIL_H
#define POSTERN_CONFMAIL_H

#include <stdint.h>

/* mail.starttls: CURLOPT_USE_SSL for smtp:// (smtps:// is always TLS). */
enum config_starttls {
	CONFIG_STARTTLS_REQUIRED = 0,
	CONFIG_STARTTLS_OPTIONAL,
	CONFIG_STARTTLS_NONE,
};

struct mailtmpl_set;

/* The mail: section (configmail.c); owned by its snapshot. */
struct config_mail {
	char		*url;		/* smtp://host[:port], smtps://... */
	int		 smtps;		/* implicit TLS */
	enum config_starttls starttls;
	char		*ca_file;	/* PEM CAs; NULL: system trust store */
	char		*username;	/* SMTP AUTH, or NULL */
	char		*password;	/* password_file's bytes, or the
					 * opened sealed password; wiped */
	char		*sealed;	/* password: "sealed:v1..." */
	char		*from;		/* envelope and From: addr-spec */
	char		*from_name;	/* From: display name, or NULL */
	char		*templates_dir;	/* resolved */
	struct mailtmpl_set *templates;	/* parsed at load */
	uint64_t	 queue_max;	/* messages per worker */
	uint64_t	 timeout;	/* ms, one delivery attempt */
	uint64_t	 retries;	/* attempts after the first */
	uint64_t	 retry_backoff;	/* ms before the first retry */
};

#endif
