// Single sign-on in a real browser: a protected page sends Chromium to
// Postern's sign-in page, "Sign in with Corp SSO" to a real OpenID Provider
// (tests/oidc/op.mjs, npm oidc-provider, on loopback), whose sign-in and
// consent pages are filled in; the provider sends the browser back to
// Postern's callback, which signs the (provisioned) user in and returns to
// the page first asked for, the upstream seeing who it is.
//
// Run: POSTERN_BIN=build/gateway/postern node --test tests/browser/
// (scripts/test does this, after `npm ci` in tests/oidc and tests/browser).
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import crypto from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';

import { COOKIE, Stack, TEST, pageHeaders, realProblems, startProvider,
    watchdog } from './harness.mjs';

watchdog('sso.test.mjs', 2 * TEST + 60_000);	// 1 test, its provider's start

const stack = new Stack('sso');
const LOGIN = `sso-${crypto.randomBytes(4).toString('hex')}`;
const EMAIL = `${LOGIN}@corp.example`;
const CLIENT_ID = 'postern-corp';
const SECRET = crypto.randomBytes(32).toString('base64url');
let gw;
let op;

before(async () => {
	op = await startProvider(stack, { [LOGIN]: {
	    email: EMAIL, email_verified: true, name: 'Sso Browser',
	    groups: ['staff'], amr: ['pwd'] } });
	const secretFile = path.join(op.dir, 'corp.secret');
	fs.writeFileSync(secretFile, SECRET, { mode: 0o600 });
	// The sso: section as docs/sso.md documents it.
	await stack.start({ extra: [
		'sso:',
		'  providers:',
		'    - name: corp',
		'      type: oidc',
		'      display_name: "Corp SSO"',
		`      issuer: ${op.issuer}`,
		`      client_id: ${CLIENT_ID}`,
		`      client_secret_file: ${secretFile}`,
		'      provision: true',
		'      claims:',
		'        - claim: groups',
		'          value: staff',
		'          org: corp',
		'          role: member',
	] });
	gw = stack.gw;
	stack.postern(['org', 'add', 'corp']);
	await op.register('corp', CLIENT_ID, SECRET);
}, { timeout: 45_000 });

after(() => stack.stop(), { timeout: 30_000 });

// The upstream echo's value of request header <name>.
async function echoed(page, name) {
	const row = page.locator('tr').filter({ has: page.locator('th',
	    { hasText: new RegExp(`^${name}$`, 'i') }) });
	await row.first().waitFor();
	return (await row.first().locator('td').textContent()).trim();
}

test('Sign in with Corp SSO: to the provider and back to the page asked for',
    { timeout: TEST }, () => stack.withContext({}, async (context, page) => {
	// A protected page: the sign-in page, with the way back.
	const resp = await page.goto(`${gw.url}/sso/landing?x=1&y=two`);
	let at = new URL(page.url());
	assert.equal(at.pathname, '/.postern/login');
	assert.equal(at.searchParams.get('rd'), '/sso/landing?x=1&y=two');
	assert.equal(resp.status(), 200);
	pageHeaders(resp, 'sign-in page');

	// Every authorization request the browser makes to the provider.
	const authz = [];
	page.on('request', (r) => {
		if (r.url().startsWith(`${op.issuer}/auth?`))
			authz.push(new URL(r.url()).searchParams);
	});
	// The provider's button (a link or a form's button: no script).
	const sso = page.getByRole('button', { name: 'Sign in with Corp SSO' })
	    .or(page.getByRole('link', { name: 'Sign in with Corp SSO' }));
	await sso.waitFor();
	await Promise.all([
		page.waitForURL((u) => u.origin === op.issuer),
		sso.click(),
	]);
	// At the provider's sign-in page.
	await page.getByLabel('Login').waitFor();
	assert.equal(new URL(page.url()).origin, op.issuer);

	await page.getByLabel('Login').fill(LOGIN);
	await Promise.all([
		page.waitForURL((u) => u.pathname.startsWith('/interaction/')),
		page.getByRole('button', { name: 'Sign in', exact: true })
		    .click(),
	]);
	await page.getByRole('button', { name: 'Allow' }).waitFor();
	await Promise.all([
		page.waitForURL((u) => u.origin === gw.url &&
		    u.pathname === '/sso/landing'),
		page.getByRole('button', { name: 'Allow' }).click(),
	]);
	at = new URL(page.url());
	assert.equal(at.pathname + at.search, '/sso/landing?x=1&y=two');

	// The upstream sees who signed in, by a session of the gateway's.
	assert.equal(await echoed(page, 'x-postern-email'), EMAIL);
	assert.ok((await echoed(page, 'x-postern-user')).length > 0);
	assert.equal(await echoed(page, 'x-postern-auth'), 'session');
	const cookies = await context.cookies(gw.url);
	assert.ok(cookies.some((c) => c.name === COOKIE), 'a session cookie');
	// No token of the provider's reaches the upstream: the only JWT in
	// what it received is the gateway's own assertion.
	const body = await page.textContent('body');
	const jwts = body.match(/eyJ[A-Za-z0-9_-]+\.eyJ[A-Za-z0-9_-]+/g) ?? [];
	for (const t of jwts) {
		const claims = JSON.parse(Buffer.from(t.split('.')[1],
		    'base64url'));
		assert.notEqual(claims.iss, op.issuer,
		    'a provider token reached the upstream');
	}
	assert.ok(jwts.length >= 1, 'the gateway\'s assertion is there');
	assert.equal(await page.locator('th', { hasText: /^authorization$/i })
	    .count(), 0, 'no Authorization header upstream');

	// What the browser carried to the provider: one authorization request
	// for our client, with PKCE S256, state and nonce, back to the
	// gateway's callback on the host the browser used.
	assert.ok(authz.length >= 1, 'an authorization request');
	const q = authz[0];
	assert.equal(q.get('client_id'), CLIENT_ID);
	assert.equal(q.get('response_type'), 'code');
	assert.equal(q.get('code_challenge_method'), 'S256');
	assert.match(q.get('code_challenge') ?? '', /^[A-Za-z0-9_-]{43}$/);
	assert.ok(q.get('state') && q.get('nonce'), 'state and nonce');
	assert.equal(q.get('redirect_uri'),
	    `${gw.url}/.postern/sso/corp/callback`);
	assert.ok(q.get('scope').split(' ').includes('openid'));

	// Signed in: the next protected page goes straight through.
	await page.goto(`${gw.url}/sso/again`);
	assert.equal(new URL(page.url()).pathname, '/sso/again');
	assert.equal(await echoed(page, 'x-postern-email'), EMAIL);
	// Gateway pages on the way: no console errors, no CSP violations.
	assert.deepEqual(realProblems(context), []);
}));
