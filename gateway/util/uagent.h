/*
 * A User-Agent header read for people: which browser on which system, to
 * show on the account page ("Firefox on Linux") and in the new-device
 * mail.  A label from a fixed list, never text of the header, so nothing
 * a client sends reaches a page or a mail through it.  Not a security
 * decision: any client can send any User-Agent.
 */
#ifndef POSTERN_UAGENT_H
#define POSTERN_UAGENT_H

#include <stddef.h>

#define UAGENT_LABEL_MAX	40	/* "Unknown browser on ChromeOS" + NUL */
#define UAGENT_STORE_MAX	256	/* bytes of a header kept with a session */

/*
 * The browser of <ua> (NULL for none): "Chrome", "Firefox", "Safari",
 * "Edge", "Opera", "curl", or NULL when it is none of these.
 */
const char	*uagent_browser(const char *ua);
/*
 * The operating system of <ua>: "Windows", "macOS", "iOS", "Android",
 * "Linux", "ChromeOS", or NULL.
 */
const char	*uagent_os(const char *ua);
/*
 * Both as one label into <out> (<size> bytes, UAGENT_LABEL_MAX is
 * enough): "Firefox on Linux", "curl", "Unknown browser on Windows",
 * "Unknown device".  Truncated, always terminated.
 */
void		 uagent_label(const char *ua, char *out, size_t size);
/*
 * The part of header <ua> worth keeping with a session into <out>
 * (<size> bytes, at most UAGENT_STORE_MAX): at most <size> - 1 bytes,
 * every byte outside printable ASCII replaced by '?'.  "" for NULL.
 */
void		 uagent_clean(const char *ua, char *out, size_t size);

#endif
