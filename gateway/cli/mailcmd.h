/*
 * `postern mail test`: send the `test` template through the configured
 * SMTP server once, for operators checking mail: settings.
 */
#ifndef POSTERN_MAILCMD_H
#define POSTERN_MAILCMD_H

#include <stddef.h>

#define MAILCMD_USAGE	"test [-c FILE] --to ADDRESS"

struct cli;
struct mail_var;

/* argv[0] is "mail".  Returns the exit status: 0 sent, 1 not, 2 usage. */
int	mailcmd_main(int argc, char **argv);

/*
 * Send template <tmpl> with <vars> to <to> through c->cfg's mail: section,
 * one attempt, and wait for the SMTP server's answer: 0 once it accepted
 * the message (its Message-ID in <msgid>), or 1 with the reason and what
 * to look at shown.  The values are never shown.
 */
int	mailcmd_send(struct cli *c, const char *to, const char *tmpl,
	    const struct mail_var *vars, size_t nvars, char *msgid,
	    size_t msgidlen);

#endif
