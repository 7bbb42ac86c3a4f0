/*
 * `postern mail test`: send the `test` template through the configured
 * SMTP server once, for operators checking mail: settings.
 */
#ifndef POSTERN_MAILCMD_H
#define POSTERN_MAILCMD_H

#define MAILCMD_USAGE	"test [-c FILE] --to ADDRESS"

/* argv[0] is "mail".  Returns the exit status: 0 sent, 1 not, 2 usage. */
int	mailcmd_main(int argc, char **argv);

#endif
