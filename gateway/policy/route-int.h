/*
 * Shared by route.c (pattern syntax, the trie, matching) and routecheck.c
 * (the checks of a whole list).  Not an API for other modules.
 */
#ifndef POSTERN_ROUTE_INT_H
#define POSTERN_ROUTE_INT_H

#include <stddef.h>
#include <stdint.h>

#include "route.h"

/*
 * One trie node: the routes whose pattern ends here (exact), those whose
 * pattern ends here with "**" (rest: this node and everything below), the
 * literal children sorted by label and the one "*"/"{name}" child.
 * <min> is the lowest route index anywhere in the subtree, so a walk that
 * already holds a better route skips the subtree.
 */
struct route_slot {
	uint32_t		 hash;
	struct route_node	*node;		/* NULL: empty */
};

struct route_node {
	char			*lit;
	size_t			 litlen;
	uint32_t		 hash;		/* of lit */
	struct route_node	**kids;
	size_t			 nkids;
	struct route_slot	*tab;		/* kids hashed, if many */
	size_t			 tabmask;
	struct route_node	*param;
	uint32_t		*exact;
	size_t			 nexact;
	uint32_t		*rest;
	size_t			 nrest;
	size_t			 min;
};

struct route_table {
	struct route		*routes;
	size_t			 nroutes;
	struct route_node	*root;
	char			**roles;	/* the ladder, highest first */
	size_t			 nroles;
	int			 ci;		/* literals compared in any case */
	int			 compiled;
};

/* A pattern split into segments, for building and for the checks. */
enum route_seg_kind {
	SEG_LIT = 0,
	SEG_PARAM,	/* "*" or "{name}" */
	SEG_REST,	/* "**", always last */
};

struct route_pat {
	enum route_seg_kind kind[ROUTE_MAXSEGS];
	const char	*seg[ROUTE_MAXSEGS];
	size_t		 len[ROUTE_MAXSEGS];
	size_t		 n;
};

/* Split pattern <s> (already checked) into <p>. */
void		 route_pat_split(const char *s, struct route_pat *p);
/* Insert route <idx> of <t> into its trie (in increasing order); 0, or
 * -1 when out of memory. */
int		 route_insert(struct route_table *t, size_t idx);
/* Hash the literals under <n> and table its many children; 0, or -1 when
 * out of memory. */
int		 route_node_index(struct route_node *n, int ci);
/* The literal child of <n> for <s>; with <at>, a binary search that sets
 * *<at> to where it would go. */
struct route_node *route_kid_find(const struct route_node *n, const char *s,
		    size_t len, int ci, size_t *at);
/* Free the <n> strings of <v> and <v>; NULL-safe for n == 0. */
void		 route_strv_free(char **v, size_t n);
/* The methods of mask <m> as "GET,POST" into <buf>; returns <buf>. */
const char	*route_methods_text(unsigned int m, char *buf, size_t size);

#endif
