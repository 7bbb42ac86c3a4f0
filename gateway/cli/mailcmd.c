/*
 * `postern mail test` (see mailcmd.h): one event loop, one mailer with a
 * single attempt (no retries: the operator wants the answer now), the
 * `test` template; exit 0 once the SMTP server accepted the message.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <event2/event.h>

#include "cli.h"
#include "config.h"
#include "log.h"
#include "mail.h"
#include "mailcmd.h"
#include "metrics.h"

/* The state of one run; on mailcmd_main()'s stack. */
struct mailcmd {
	struct cli		 cli;
	const char		*to;		/* --to */
};

/* One message being sent; on mailcmd_send()'s stack. */
struct mailcmd_wait {
	struct cli		*cli;
	struct event_base	*base;
	int			 done;
	int			 ok;
	char			 reason[32];
	char			 msgid[400];
};

static const struct cli_opt mailcmd_opts[] = {
	CLI_OPT_CONFIG,
	CLI_OPT("to", 't', CLI_STR, struct mailcmd, to),
	CLI_OPT_HELP,
	CLI_OPT_END,
};

static const struct cli_spec mailcmd_spec = {
	"mail", MAILCMD_USAGE, NULL, mailcmd_opts, "configuration has errors",
};

static struct config *
mailcmd_config(void *arg)
{
	struct mailcmd_wait	*mc = arg;

	return config_ref(mc->cli->cfg);
}

static void
mailcmd_on_done(void *arg, const char *msgid, int ok, const char *reason)
{
	struct mailcmd_wait	*mc = arg;

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

int
mailcmd_send(struct cli *c, const char *to, const char *tmpl,
    const struct mail_var *vars, size_t nvars, char *msgid, size_t msgidlen)
{
	struct mailcmd_wait	 mc;
	struct metrics		 metrics;
	struct mailer		*m;
	int			 rc = 1;

	memset(&mc, 0, sizeof(mc));
	memset(&metrics, 0, sizeof(metrics));
	mc.cli = c;
	if ((mc.base = event_base_new()) == NULL ||
	    (m = mailer_new(mc.base, &metrics, mailcmd_config, &mc,
	    MAILER_ONE_ATTEMPT)) == NULL) {
		(void)cli_fail(c, "cannot set up the event loop or libcurl");
		goto out;
	}
	mailer_on_done(m, mailcmd_on_done, &mc);
	if (mailer_send(m, to, tmpl, vars, nvars) == -1)
		(void)cli_fail(c, "not sent: the message was refused (see the "
		    "reason above)");
	else if (event_base_dispatch(mc.base) == -1 || !mc.done)
		(void)cli_fail(c, "the event loop failed");
	else if (!mc.ok)
		(void)cli_fail(c, "not sent: %s: %s", mc.reason,
		    mailcmd_hint(mc.reason));
	else {
		(void)snprintf(msgid, msgidlen, "%s", mc.msgid);
		rc = 0;
	}
	mailer_free(m);
out:
	if (mc.base != NULL)
		event_base_free(mc.base);
	return rc;
}

/* `mail test`: send and wait; returns the exit status. */
static int
mailcmd_run(struct mailcmd *mc, const char *to)
{
	struct mail_var	 vars[] = {
		{ "product", mc->cli.cfg->brand_product },
		{ "email", to },
	};
	char		 msgid[400];

	if (mailcmd_send(&mc->cli, to, "test", vars, sizeof(vars) /
	    sizeof(vars[0]), msgid, sizeof(msgid)) != 0)
		return 1;
	printf("postern mail test: %s accepted the message to %s "
	    "(Message-ID %s)\n", mc->cli.cfg->mail->url, to, msgid);
	return 0;
}

int
mailcmd_main(int argc, char **argv)
{
	struct mailcmd	mc;
	int		rc;

	memset(&mc, 0, sizeof(mc));
	cli_init(&mc.cli, &mailcmd_spec);
	if (argc < 2 || strcmp(argv[1], "test") != 0)
		return cli_usage(&mc.cli, stderr);
	if (cli_parse(&mc.cli, argc - 1, argv + 1, &mc) == -1)
		return mc.cli.rc;
	if (mc.cli.nargs != 0 || mc.to == NULL)
		return cli_usage(&mc.cli, stderr);
	mc.cli.action = "test";
	if (cli_load(&mc.cli) != 0)
		return 1;
	if (!mail_configured(mc.cli.cfg)) {
		rc = cli_fail(&mc.cli, "%s has no mail: section; mail is not "
		    "configured", mc.cli.config);
		cli_close(&mc.cli);
		return rc;
	}
	log_setlevel(LOG_LEVEL_WARN);	/* the outcome, not the chatter */
	rc = mailcmd_run(&mc, mc.to);
	cli_close(&mc.cli);
	return rc;
}
