/*
 * libFuzzer target: the message catalogue's parser (catalog.c) and the
 * page templates' check (pagetmpl.c).  A catalogue file is accepted or
 * refused with a position inside it, never half-merged; an accepted one
 * renders through pages.c with every value escaped.  A template is
 * accepted or refused with a position inside it.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <event2/buffer.h>

#include "catalog.h"
#include "pages.h"
#include "pagetmpl.h"

int	LLVMFuzzerTestOneInput(const uint8_t *, size_t);

static const char *const fuzz_keys[] = { "login.title", "login.heading",
    "error.footer", "wait.minutes", "sso.unavailable.text", "error.account" };

/* Count the lines of <d>, <n> bytes, as the parser does. */
static size_t
fuzz_lines(const uint8_t *d, size_t n)
{
	size_t	i, lines = 1;

	for (i = 0; i < n; i++)
		if (d[i] == '\n')
			lines++;
	return lines;
}

static void
fuzz_catalogue(const uint8_t *data, size_t size)
{
	struct catalog	*c = catalog_new();
	struct catalog_err e;
	struct evbuffer	*b;
	struct pages_frame f = { .product = "P" };
	const struct pages_var v[] = { { "product", "<&>", 0 },
	    { "n", "3", 0 }, { "status", "4", 0 }, { "provider", "\"", 0 },
	    { "email", "'", 0 } };
	size_t		 i;

	if (c == NULL)
		return;
	if (catalog_parse(c, "xx", (const char *)data, size, &e) == -1) {
		if (e.line == 0 || e.line > fuzz_lines(data, size) ||
		    e.col == 0)
			abort();
		if (catalog_find(c, "xx") != CATALOG_NONE)
			abort();	/* a refused file left a language */
	} else if ((b = evbuffer_new()) != NULL) {
		f.cat = c;
		f.lang = catalog_find(c, "xx");
		for (i = 0; i < sizeof(fuzz_keys) / sizeof(fuzz_keys[0]); i++)
			if (pages_render_text(b, &f, fuzz_keys[i], v, 5) == -1)
				abort();
		evbuffer_add(b, "", 1);
		if (strpbrk((const char *)evbuffer_pullup(b, -1), "<>\"'") !=
		    NULL)
			abort();	/* unescaped markup */
		evbuffer_free(b);
	}
	catalog_free(c);
}

static void
fuzz_template(const uint8_t *data, size_t size)
{
	struct catalog_err e;

	if (pagetmpl_check(PAGETMPL_ERROR, (const char *)data, size,
	    &e) == -1 && (e.line == 0 || e.line > fuzz_lines(data, size) ||
	    e.col == 0))
		abort();
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	fuzz_catalogue(data, size);
	fuzz_template(data, size);
	return 0;
}
