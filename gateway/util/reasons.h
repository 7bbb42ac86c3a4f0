/*
 * The reason codes (reasons.def): the stable strings logged as "reason",
 * used as policy decisions' reasons and as metrics labels.  log_event()
 * checks every "reason" value that has the form of a code against the
 * table and logs an "unknown_reason" error for one the table lacks;
 * tests/unit/reasons.py finds such codes in the sources before they run.
 */
#ifndef POSTERN_REASONS_H
#define POSTERN_REASONS_H

#include <stddef.h>

/* The number of codes and the <i>th (sorted) code and meaning. */
size_t		 reason_count(void);
const char	*reason_code(size_t i);
const char	*reason_meaning_at(size_t i);
/* The meaning of <code>, or NULL if the table lacks it. */
const char	*reason_meaning(const char *code);
/*
 * 1 if <s> has the form of a code ([a-z][a-z0-9_]*) but is not in the
 * table; 0 for a known code and for any other string (a library's error
 * message passed as a detail).
 */
int		 reason_unknown(const char *s);

#endif
