/*
 * The chunked decoder (see chunked.h): one state per place in the RFC 9112
 * 7.1 grammar, one byte at a time except for chunk data, which is copied
 * in runs.  The state survives between calls, so a body split anywhere
 * decodes exactly as the same body in one piece.
 *
 *   chunked-body    = *chunk last-chunk trailer-section CRLF
 *   chunk           = chunk-size [ chunk-ext ] CRLF chunk-data CRLF
 *   chunk-size      = 1*HEXDIG
 *   chunk-ext       = *( BWS ";" BWS chunk-ext-name
 *                        [ BWS "=" BWS chunk-ext-val ] )
 *   chunk-ext-val   = token / quoted-string
 *   trailer-section = *( field-line CRLF )
 */
#include <stdlib.h>
#include <string.h>

#include <event2/buffer.h>

#include "chunked.h"
#include "encode.h"

/* Hex digits of a size: 16 fill 64 bits, more are refused. */
#define CHUNKED_DIGITS_MAX	16

enum chunked_state {
	CK_SIZE_START = 0,	/* the first digit of a chunk size */
	CK_SIZE,		/* more digits, or what ends the size */
	CK_EXT_SEMI,		/* BWS that only ";" may end */
	CK_EXT_NAME_START,	/* BWS after ";", then a name */
	CK_EXT_NAME,
	CK_EXT_NAME_WS,		/* BWS after a name: "=" or ";" next */
	CK_EXT_VAL_START,	/* BWS after "=", then a value */
	CK_EXT_TOKEN,
	CK_EXT_QUOTED,
	CK_EXT_QPAIR,		/* after "\" in a quoted string */
	CK_EXT_QEND,		/* after the closing quote */
	CK_SIZE_LF,		/* CR seen: the chunk line ends */
	CK_DATA,
	CK_DATA_CR,		/* chunk data read: CRLF next */
	CK_DATA_LF,
	CK_TRAILER,		/* a trailer line, or the final CRLF */
	CK_TRAILER_NAME,
	CK_TRAILER_VALUE,
	CK_TRAILER_LF,
	CK_END_LF,		/* CR of the final CRLF seen */
	CK_DONE,
	CK_ERROR,
};

/* Owned by whoever called chunked_new() (the request). */
struct chunked {
	enum chunked_state state;
	uint64_t	 max_body;	/* 0: no limit */
	size_t		 max_trailer;
	uint64_t	 size;		/* of the chunk whose line is read */
	uint64_t	 left;		/* data bytes of the chunk to come */
	uint64_t	 total;		/* decoded body bytes */
	unsigned	 digits;	/* of the size being read */
	size_t		 ext;		/* bytes after the size, this line */
	int		 has_ext;	/* a ";" on this line */
	size_t		 trailer;	/* bytes of the trailer section */
	char		 name[24];	/* trailer name, lower case, cut */
	size_t		 namelen;	/* may exceed sizeof(name) */
	int		 status;
	const char	*reason;
};

struct chunked *
chunked_new(uint64_t max_body, size_t max_trailer)
{
	struct chunked	*ck;

	if ((ck = calloc(1, sizeof(*ck))) == NULL)
		return NULL;
	ck->state = CK_SIZE_START;
	ck->max_body = max_body;
	ck->max_trailer = max_trailer != 0 ? max_trailer :
	    CHUNKED_TRAILER_MAX;
	return ck;
}

void
chunked_free(struct chunked *ck)
{
	free(ck);
}

uint64_t
chunked_body_bytes(const struct chunked *ck)
{
	return ck->total;
}

int
chunked_status(const struct chunked *ck)
{
	return ck->status;
}

const char *
chunked_reason(const struct chunked *ck)
{
	return ck->reason;
}

static int
chunked_fail(struct chunked *ck, int status, const char *reason)
{
	ck->state = CK_ERROR;
	ck->status = status;
	ck->reason = reason;
	return -1;
}

/* Byte <c> has no place here: a LF is a bare one, else <reason>. */
static int
chunked_bad(struct chunked *ck, unsigned char c, const char *reason)
{
	if (c == '\n')
		return chunked_fail(ck, 400, "smuggling_chunk_bare_lf");
	return chunked_fail(ck, 400, reason);
}

/* RFC 9110 5.6.2 tchar. */
static int
chunked_tchar(unsigned char c)
{
	return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'z') ||
	    (c >= 'A' && c <= 'Z') ||
	    (c != '\0' && strchr("!#$%&'*+-.^_`|~", c) != NULL);
}

/*
 * The state after byte <c> in extension state <s> (CK_SIZE: the size has
 * ended), or CK_ERROR.  BWS is allowed around ";" and "=" only where the
 * grammar has it: whitespace must be followed by ";" or "=", never by the
 * CRLF.  RFC 9110 5.6.4 quoted-string for the values.
 */
static enum chunked_state
chunked_ext_next(enum chunked_state s, unsigned char c)
{
	int	ws = c == ' ' || c == '\t';

	if (c == ';' && (s == CK_SIZE || s == CK_EXT_SEMI || s == CK_EXT_NAME ||
	    s == CK_EXT_NAME_WS || s == CK_EXT_TOKEN || s == CK_EXT_QEND))
		return CK_EXT_NAME_START;
	if (c == '\r' && (s == CK_SIZE || s == CK_EXT_NAME ||
	    s == CK_EXT_TOKEN || s == CK_EXT_QEND))
		return CK_SIZE_LF;
	switch (s) {
	case CK_SIZE:
	case CK_EXT_SEMI:
	case CK_EXT_QEND:
		return ws ? CK_EXT_SEMI : CK_ERROR;
	case CK_EXT_NAME_START:
		return ws ? s : chunked_tchar(c) ? CK_EXT_NAME : CK_ERROR;
	case CK_EXT_NAME:
	case CK_EXT_NAME_WS:
		if (c == '=')
			return CK_EXT_VAL_START;
		return ws ? CK_EXT_NAME_WS : s == CK_EXT_NAME &&
		    chunked_tchar(c) ? s : CK_ERROR;
	case CK_EXT_VAL_START:
		if (c == '"')
			return CK_EXT_QUOTED;
		return ws ? s : chunked_tchar(c) ? CK_EXT_TOKEN : CK_ERROR;
	case CK_EXT_TOKEN:
		return ws ? CK_EXT_SEMI : chunked_tchar(c) ? s : CK_ERROR;
	case CK_EXT_QUOTED:
		if (c == '"' || c == '\\')
			return c == '"' ? CK_EXT_QEND : CK_EXT_QPAIR;
		return ws || (c >= 0x21 && c != 0x7f) ? s : CK_ERROR;
	case CK_EXT_QPAIR:
		return ws || (c >= 0x21 && c != 0x7f) ? CK_EXT_QUOTED :
		    CK_ERROR;
	default:
		return CK_ERROR;
	}
}

/* A byte of a chunk line after the size's digits, bounded. */
static int
chunked_ext_byte(struct chunked *ck, unsigned char c)
{
	enum chunked_state next = chunked_ext_next(ck->state, c);

	if (++ck->ext > CHUNKED_EXT_MAX)
		return chunked_fail(ck, 400, "chunk_ext_too_large");
	if (next == CK_ERROR)	/* "1 \r\n" is a size with whitespace */
		return chunked_bad(ck, c, ck->has_ext || c == ';' ?
		    "smuggling_chunk_ext" : "smuggling_chunk_size");
	if (next == CK_EXT_NAME_START)
		ck->has_ext = 1;
	ck->state = next;
	return 0;
}

/* A byte where a size starts or goes on: no sign, space or "0x". */
static int
chunked_size_byte(struct chunked *ck, unsigned char c)
{
	int	h = encode_hexval(c);

	if (h == -1) {
		if (ck->state == CK_SIZE_START)	/* empty size */
			return chunked_bad(ck, c, "smuggling_chunk_size");
		return chunked_ext_byte(ck, c);
	}
	if (++ck->digits > CHUNKED_DIGITS_MAX)
		return chunked_fail(ck, 400, "smuggling_chunk_size");
	ck->size = ck->size << 4 | (uint64_t)h;
	ck->state = CK_SIZE;
	return 0;
}

/* A LF where one must follow a CR: anything else makes that CR bare. */
static int
chunked_lf(struct chunked *ck, unsigned char c, enum chunked_state next)
{
	if (c != '\n')
		return chunked_fail(ck, 400, "smuggling_chunk_bare_cr");
	ck->state = next;
	return 0;
}

/* The LF of a chunk line: data next, or the trailer after the last. */
static int
chunked_line_end(struct chunked *ck, unsigned char c)
{
	if (chunked_lf(ck, c, CK_DATA) == -1)
		return -1;
	if (ck->size > UINT64_MAX - ck->total)
		return chunked_fail(ck, 400, "smuggling_chunk_size");
	if (ck->max_body != 0 && ck->total + ck->size > ck->max_body)
		return chunked_fail(ck, 413, "body_too_large");
	if (ck->size == 0)
		ck->state = CK_TRAILER;
	ck->left = ck->size;
	ck->size = 0;
	ck->digits = 0;
	ck->ext = 0;
	ck->has_ext = 0;
	return 0;
}

/*
 * A trailer field name ended with ":".  Trailer fields are never
 * forwarded, but one that would frame or route the message (RFC 9110
 * 6.5.1) only makes sense as an attack on a peer that merges trailers.
 */
static int
chunked_trailer_name(struct chunked *ck)
{
	static const char *const framing[] = { "content-length",
	    "transfer-encoding", "host", "trailer", NULL };
	size_t	i;

	if (ck->namelen == 0)
		return chunked_fail(ck, 400, "smuggling_trailer");
	for (i = 0; framing[i] != NULL; i++)
		if (ck->namelen == strlen(framing[i]) &&
		    memcmp(ck->name, framing[i], ck->namelen) == 0)
			return chunked_fail(ck, 400,
			    "smuggling_trailer_field");
	ck->state = CK_TRAILER_VALUE;
	return 0;
}

/* A byte of the trailer section: field-name ":" OWS field-value OWS. */
static int
chunked_trailer_byte(struct chunked *ck, unsigned char c)
{
	if (++ck->trailer > ck->max_trailer)
		return chunked_fail(ck, 431, "trailers_too_large");
	switch (ck->state) {
	case CK_TRAILER:
		if (c == '\r') {
			ck->state = CK_END_LF;
			return 0;
		}
		ck->namelen = 0;
		ck->state = CK_TRAILER_NAME;
		__attribute__((fallthrough));	/* FALLTHROUGH */
	case CK_TRAILER_NAME:
		if (c == ':')
			return chunked_trailer_name(ck);
		if (!chunked_tchar(c))
			break;
		if (ck->namelen < sizeof(ck->name))
			ck->name[ck->namelen] = (char)(c >= 'A' && c <= 'Z' ?
			    c - 'A' + 'a' : c);
		ck->namelen++;
		return 0;
	case CK_TRAILER_VALUE:
		if (c == '\r')
			ck->state = CK_TRAILER_LF;
		else if (c != '\t' && (c < 0x20 || c == 0x7f))
			break;
		return 0;
	default:
		break;
	}
	return chunked_bad(ck, c, "smuggling_trailer");
}

/* One byte of framing (anything but chunk data). */
static int
chunked_byte(struct chunked *ck, unsigned char c)
{
	switch (ck->state) {
	case CK_SIZE_START:
	case CK_SIZE:
		return chunked_size_byte(ck, c);
	case CK_SIZE_LF:
		return chunked_line_end(ck, c);
	case CK_DATA_CR:
		if (c != '\r')	/* data longer than its size said */
			return chunked_bad(ck, c, "smuggling_chunk_crlf");
		ck->state = CK_DATA_LF;
		return 0;
	case CK_DATA_LF:
		return chunked_lf(ck, c, CK_SIZE_START);
	case CK_TRAILER_LF:
		return chunked_lf(ck, c, CK_TRAILER);
	case CK_END_LF:
		return chunked_lf(ck, c, CK_DONE);
	case CK_TRAILER:
	case CK_TRAILER_NAME:
	case CK_TRAILER_VALUE:
		return chunked_trailer_byte(ck, c);
	default:
		return chunked_ext_byte(ck, c);
	}
}

enum chunked_result
chunked_decode(struct chunked *ck, const char *buf, size_t len,
    size_t *used, struct evbuffer *out)
{
	size_t	i = 0, n;

	while (i < len && ck->state != CK_DONE && ck->state != CK_ERROR) {
		if (ck->state != CK_DATA) {
			if (chunked_byte(ck, (unsigned char)buf[i++]) == -1)
				break;
			continue;
		}
		n = ck->left < len - i ? (size_t)ck->left : len - i;
		if (evbuffer_add(out, buf + i, n) == -1) {
			(void)chunked_fail(ck, 500, "nomem");
			break;
		}
		i += n;
		ck->left -= n;
		ck->total += n;
		if (ck->left == 0)
			ck->state = CK_DATA_CR;
	}
	*used = i;
	if (ck->state == CK_ERROR)
		return CHUNKED_ERROR;
	return ck->state == CK_DONE ? CHUNKED_DONE : CHUNKED_MORE;
}

int
chunked_frame(struct evbuffer *out, struct evbuffer *data)
{
	size_t	n = evbuffer_get_length(data);

	if (n == 0)
		return 0;
	if (evbuffer_add_printf(out, "%zx\r\n", n) == -1 ||
	    evbuffer_add_buffer(out, data) == -1 ||
	    evbuffer_add(out, "\r\n", 2) == -1)
		return -1;
	return 0;
}

int
chunked_frame_last(struct evbuffer *out)
{
	return evbuffer_add(out, "0\r\n\r\n", 5);
}
