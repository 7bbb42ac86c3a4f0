/*
 * `postern mail test` (see mailcmd.h): one event loop, one mailer with a
 * single attempt (no retries: the operator wants the answer now), the
 * `test` template; exit 0 once the SMTP server accepted the message.
 */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <event2/event.h>

#include "config.h"
#include "diag.h"
#include "loader.h"
#include "log.h"
#include "mail.h"
#include "mailcmd.h"
#include "metrics.h"

#define DEFAULT_CONFIG	"/etc/postern/postern.yaml"

/* The state of one run; on mailcmd_main()'s stack. */
struct mailcmd {
	struct config		*cfg;
	struct event_base	*base;
	int			 done;
	int			 ok;
	char			 reason[32];
	char			 msgid[400];
};

static struct config *
mailcmd_config(void *arg)
{
	struct mailcmd	*mc = arg;

	return config_ref(mc->cfg);
}

static void
mailcmd_on_done(void *arg, const char *msgid, int ok, const char *reason)
{
	struct mailcmd	*mc = arg;

	mc->done = 1;
	mc->ok = ok;
	(void)snprintf(mc->reason, sizeof(mc->reason), "%s",
	    reason != NULL ? reason : "");
	(void)snprintf(mc->msgid, sizeof(mc->msgid), "%s", msgid);
	(void)event_base_loopexit(mc->base, NULL);
}

/* What an operator should look at, by reason. */
static const char *
mailcmd_hint(const char *reason)
{
	static const struct {
		const char	*reason;
		const char	*hint;
	} hints[] = {
		{ "connect", "cannot reach the SMTP server (mail.url)" },
		{ "tls", "TLS failed: STARTTLS not offered, a handshake or "
		    "certificate problem (mail.starttls, mail.ca_file)" },
		{ "auth", "the server refused mail.username and "
		    "mail.password_file" },
		{ "timeout", "no answer within mail.timeout" },
		{ "rejected", "the server refused the message (5xx): check "
		    "mail.from and the address" },
		{ "tempfail", "the server deferred the message (4xx)" },
	};
	size_t	i;

	for (i = 0; i < sizeof(hints) / sizeof(hints[0]); i++)
		if (strcmp(hints[i].reason, reason) == 0)
			return hints[i].hint;
	return "the SMTP transfer failed";
}

static int
mailcmd_args(int argc, char **argv, const char **path, const char **to)
{
	static const struct option longopts[] = {
		{ "config", required_argument, NULL, 'c' },
		{ "to", required_argument, NULL, 't' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	int	ch;

	*path = DEFAULT_CONFIG;
	*to = NULL;
	optind = 1;
	while ((ch = getopt_long(argc, argv, "c:t:h", longopts, NULL)) != -1)
		switch (ch) {
		case 'c':
			*path = optarg;
			break;
		case 't':
			*to = optarg;
			break;
		case 'h':
			printf("usage: postern mail " MAILCMD_USAGE "\n");
			exit(0);
		default:
			return -1;
		}
	if (optind != argc || *to == NULL)
		return -1;
	return 0;
}

/* Send and wait; returns the exit status. */
static int
mailcmd_run(struct mailcmd *mc, const char *to)
{
	struct metrics	 metrics;
	struct mailer	*m;
	struct mail_var	 vars[] = {
		{ "product", mc->cfg->brand_product },
		{ "email", to },
	};
	int		 rc = 1;

	memset(&metrics, 0, sizeof(metrics));
	if ((mc->base = event_base_new()) == NULL ||
	    (m = mailer_new(mc->base, &metrics, mailcmd_config, mc,
	    MAILER_ONE_ATTEMPT)) == NULL) {
		fprintf(stderr, "postern mail test: cannot set up the event "
		    "loop or libcurl\n");
		goto out;
	}
	mailer_on_done(m, mailcmd_on_done, mc);
	if (mailer_send(m, to, "test", vars, sizeof(vars) / sizeof(vars[0]))
	    == -1)
		fprintf(stderr, "postern mail test: not sent: the message was "
		    "refused (see the reason above)\n");
	else if (event_base_dispatch(mc->base) == -1 || !mc->done)
		fprintf(stderr, "postern mail test: the event loop failed\n");
	else if (!mc->ok)
		fprintf(stderr, "postern mail test: not sent: %s: %s\n",
		    mc->reason, mailcmd_hint(mc->reason));
	else {
		printf("postern mail test: %s accepted the message to %s "
		    "(Message-ID %s)\n", mc->cfg->mail->url, to, mc->msgid);
		rc = 0;
	}
	mailer_free(m);
out:
	if (mc->base != NULL)
		event_base_free(mc->base);
	return rc;
}

int
mailcmd_main(int argc, char **argv)
{
	struct mailcmd	 mc;
	struct diag	 d = { 0 };
	const char	*path, *to;
	int		 rc;

	if (argc < 2 || strcmp(argv[1], "test") != 0 ||
	    mailcmd_args(argc - 1, argv + 1, &path, &to) == -1) {
		fprintf(stderr, "usage: postern mail " MAILCMD_USAGE "\n");
		return 2;
	}
	memset(&mc, 0, sizeof(mc));
	mc.cfg = config_load(path, &d);
	diag_print(&d, stderr);
	diag_free(&d);
	if (mc.cfg == NULL) {
		fprintf(stderr, "%s: configuration has errors\n", path);
		return 1;
	}
	if (!mail_configured(mc.cfg)) {
		fprintf(stderr, "postern mail test: %s has no mail: section; "
		    "mail is not configured\n", path);
		config_unref(mc.cfg);
		return 1;
	}
	log_setlevel(LOG_LEVEL_WARN);	/* the outcome, not the chatter */
	rc = mailcmd_run(&mc, to);
	config_unref(mc.cfg);
	return rc;
}
