/*
 * Deleting a user, resetting its second factor, and storing an
 * invitation's token (see useradmin.h).  The scripts derive the user's
 * keys from the id they read with key() (STORE_LAYOUT_SCRIPT); the id is
 * read first and checked again inside the script, so a user replaced
 * meanwhile is never half deleted.
 */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/sha.h>

#include "acctstore.h"
#include "encode.h"
#include "session.h"
#include "sso.h"
#include "store.h"
#include "user.h"
#include "useradmin.h"

#define UA_TRIES	5	/* reads raced by a concurrent change */
#define UA_LINKSMAX	64	/* linked identities of one user */

/* KEYS: email index, users set, tombstones.  ARGV: prefix, the id read,
 * n, then n triples (provider, sub, SHA-256 hex of sub): the user's
 * linked identities as read.  Sessions revoked; -1 no user; -3 the index
 * or the links changed since they were read (read them again). */
static struct store_script ua_lua_delete = STORE_LAYOUT_SCRIPT(
	"user delete",
	USER_LUA_REVOKE
	"local id = redis.call('GET', KEYS[1])\n"
	"if not id then return -1 end\n"
	"if id ~= ARGV[2] then return -3 end\n"
	"local n = tonumber(ARGV[3])\n"
	"local lk = key('" SSO_KEY_LINKS "', id)\n"
	"if redis.call('HLEN', lk) ~= n then return -3 end\n"
	"for i = 0, n - 1 do\n"
	"  local p, sub = ARGV[4 + 3 * i], ARGV[5 + 3 * i]\n"
	"  if redis.call('HGET', lk, p) ~= sub then return -3 end\n"
	"end\n"
	"for i = 0, n - 1 do\n"
	"  local ik = key('" SSO_KEY_ID "', ARGV[4 + 3 * i], ARGV[6 + 3 * i])\n"
	"  if redis.call('GET', ik) == id then redis.call('DEL', ik) end\n"
	"end\n"
	"local count = revoke(id)\n"
	"local ok = key('" USER_LAYOUT_USER_ORGS "', id)\n"
	"local o = redis.call('HGETALL', ok)\n"
	"for i = 1, #o - 1, 2 do\n"
	"  redis.call('HDEL', key('" USER_LAYOUT_ORG_MEMBERS "', o[i]), id)\n"
	"end\n"
	"redis.call('DEL', ok, lk, key('" ACCTSTORE_KEY_BACKUP "', id),\n"
	"  key('" ACCTSTORE_KEY_MFA_FAIL "', id),\n"
	"  key('" SESSION_LAYOUT_DEVICES "', id),\n"
	"  key('" USER_LAYOUT_USER "', id), KEYS[1])\n"
	"redis.call('SREM', KEYS[2], id)\n"
	"redis.call('SADD', KEYS[3], id)\n"
	"return count\n");

/* KEYS: email index.  ARGV: prefix.  Sessions revoked, or -1. */
static struct store_script ua_lua_reset_mfa = STORE_LAYOUT_SCRIPT(
	"user reset 2fa",
	USER_LUA_REVOKE
	"local id = redis.call('GET', KEYS[1])\n"
	"if not id then return -1 end\n"
	"redis.call('HDEL', key('" USER_LAYOUT_USER "', id), 'totp',\n"
	"  'totp_step', 'totp_pending')\n"
	"redis.call('DEL', key('" ACCTSTORE_KEY_BACKUP "', id),\n"
	"  key('" ACCTSTORE_KEY_MFA_FAIL "', id))\n"
	"return revoke(id)\n");

/* The id <kemail> names into <id> (USER_IDLEN + 1): 0, 1 none, or -1. */
static int
ua_id(struct store_sync *ss, const char *kemail, char *id, char *err,
    size_t errlen)
{
	redisReply	*r;
	int		 rc = 1;

	if ((r = store_sync_command(ss, err, errlen, "GET %s", kemail)) ==
	    NULL)
		return -1;
	if (r->type == REDIS_REPLY_STRING && r->len == USER_IDLEN) {
		memcpy(id, r->str, USER_IDLEN + 1);
		rc = 0;
	}
	freeReplyObject(r);
	return rc;
}

/* The linked identities of <id>: an HGETALL reply, or NULL. */
static redisReply *
ua_links(struct store_sync *ss, const char *id, char *err, size_t errlen)
{
	char		 key[STORE_KEYLEN];
	redisReply	*r;

	if (store_layout_key(key, sizeof(key), store_sync_prefix(ss),
	    SSO_KEY_LINKS, id) == -1) {
		(void)snprintf(err, errlen, "key too long");
		return NULL;
	}
	if ((r = store_sync_command(ss, err, errlen, "HGETALL %s", key)) ==
	    NULL)
		return NULL;
	if (r->type != REDIS_REPLY_ARRAY || r->elements / 2 > UA_LINKSMAX) {
		(void)snprintf(err, errlen, "user %s: unexpected linked "
		    "identities", id);
		freeReplyObject(r);
		return NULL;
	}
	return r;
}

/* One try of the delete script for <id>: its result, or -1 with <err>. */
static int
ua_delete_once(struct store_sync *ss, const char **keys, const char *id,
    long long *res, char *err, size_t errlen)
{
	const char	*argv[6 + 3 * UA_LINKSMAX];
	char		 hex[UA_LINKSMAX][SHA256_DIGEST_LENGTH * 2 + 1];
	unsigned char	 md[SHA256_DIGEST_LENGTH];
	char		 n[24];
	redisReply	*links;
	size_t		 i;
	int		 argc = 6, rc;

	if ((links = ua_links(ss, id, err, errlen)) == NULL)
		return -1;
	(void)snprintf(n, sizeof(n), "%zu", links->elements / 2);
	argv[0] = keys[0];
	argv[1] = keys[1];
	argv[2] = keys[2];
	argv[3] = store_sync_prefix(ss);
	argv[4] = id;
	argv[5] = n;
	for (i = 0; i + 1 < links->elements; i += 2) {
		(void)SHA256((const unsigned char *)links->element[i + 1]->str,
		    links->element[i + 1]->len, md);
		encode_hex(md, sizeof(md), hex[i / 2]);
		argv[argc++] = links->element[i]->str;
		argv[argc++] = links->element[i + 1]->str;
		argv[argc++] = hex[i / 2];
	}
	rc = user_eval(ss, &ua_lua_delete, 3, argc, argv, res, err, errlen);
	freeReplyObject(links);
	return rc;
}

int
user_delete(struct store_sync *ss, const char *email, long *nrevoked,
    char *err, size_t errlen)
{
	const char	*prefix = store_sync_prefix(ss);
	char		 kemail[STORE_KEYLEN], kusers[STORE_KEYLEN];
	char		 kdel[STORE_KEYLEN], id[USER_IDLEN + 1];
	const char	*keys[3] = { kemail, kusers, kdel };
	long long	 res = -3;
	int		 tries, rc;

	if (user_key(kemail, sizeof(kemail), prefix, USER_KEY_EMAIL, email) ==
	    -1 || user_key(kusers, sizeof(kusers), prefix, USER_KEY_USERS,
	    NULL) == -1 || user_key(kdel, sizeof(kdel), prefix,
	    USER_KEY_DELETED, NULL) == -1) {
		(void)snprintf(err, errlen, "key too long");
		return -1;
	}
	for (tries = 0; res == -3 && tries < UA_TRIES; tries++) {
		if ((rc = ua_id(ss, kemail, id, err, errlen)) == -1)
			return -1;
		if (rc == 1)
			return USER_NOTFOUND;
		if (ua_delete_once(ss, keys, id, &res, err, errlen) == -1)
			return -1;
	}
	if (res == -3) {
		(void)snprintf(err, errlen, "the user %s keeps changing", email);
		return -1;
	}
	if (res < 0)
		return USER_NOTFOUND;
	if (nrevoked != NULL)
		*nrevoked = (long)res;
	return 0;
}

int
user_reset_mfa(struct store_sync *ss, const char *email, long *nrevoked,
    char *err, size_t errlen)
{
	return user_by_email(ss, &ua_lua_reset_mfa, email, NULL, NULL,
	    nrevoked, err, errlen);
}

int
user_invite_put(struct store_sync *ss, const char *id, const char *hash,
    uint64_t ttl_s, char *err, size_t errlen)
{
	const char	*prefix = store_sync_prefix(ss);
	char		 key[STORE_KEYLEN], cur[STORE_KEYLEN], ttl[24];
	long long	 res;

	if (store_layout_key(key, sizeof(key), prefix, ACCTSTORE_KEY_OTK,
	    "reset", hash) == -1 || store_layout_key(cur, sizeof(cur), prefix,
	    ACCTSTORE_KEY_OTK_USER, "reset", id) == -1) {
		(void)snprintf(err, errlen, "key too long");
		return -1;
	}
	(void)snprintf(ttl, sizeof(ttl), "%" PRIu64, ttl_s);
	return user_eval(ss, &acctstore_lua_otk_put, 2, 7, (const char *[]){
	    key, cur, prefix, id, ttl, "reset", hash }, &res, err, errlen);
}
