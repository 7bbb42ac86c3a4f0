/*
 * The outbox of the audit trail: the events the command-line tools append
 * (audit_emit_sync(), which has no event loop to deliver webhooks from)
 * wait in Redis (audit:outbox) until one gateway instance takes them for
 * its webhooks.
 */
#ifndef POSTERN_AUDITBOX_H
#define POSTERN_AUDITBOX_H

struct worker;

/*
 * Worker <w>'s poller of the outbox, where audit_emit_sync() leaves each
 * event for the webhooks of whichever gateway instance takes it first.
 * Free it after the worker's store (a pending poll's callback runs then).
 */
struct audit_outbox;
struct audit_outbox *audit_outbox_new(struct worker *w);
void	audit_outbox_free(struct audit_outbox *);

#endif
