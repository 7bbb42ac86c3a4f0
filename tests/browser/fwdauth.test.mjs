// Forward-auth mode in a real browser: headless Chromium through Debian's
// nginx (auth_request, the configuration of docs/forward-auth.md, started
// by tests/integration/frontproxy.py), Postern as its decision service on
// a `mode: forward_auth` listener (harness.mjs starts the rest).
//
// Run: POSTERN_BIN=build/gateway/postern node --test tests/browser/
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';

import { COOKIE, PASSWORD, Stack, TEST, watchdog } from './harness.mjs';

watchdog('fwdauth.test.mjs', 3 * TEST + 60_000);	// 1 test, bounded

const stack = new Stack('fwdauth');
let front;			// { port, url }: nginx

before(async () => {
	await stack.start({ forwardAuth: true,
	    app: '  routes:\n    - path: /public/**\n      public: true\n' +
	    '    - path: /**\n      authenticated: true' });
	front = await stack.frontProxy('nginx');
}, { timeout: 45_000 });

after(() => stack.stop(), { timeout: 30_000 });

// The value the upstream's echo page shows for request header <name>.
async function echoed(page, name) {
	const row = page.locator('tr').filter({ has:
	    page.locator('th', { hasText: new RegExp(`^${name}$`, 'i') }) });
	if (await row.count() === 0)
		return null;
	return (await row.first().locator('td').textContent()).trim();
}

test('through nginx: sign-in page, signed in, back at the original URL',
    { timeout: 3 * TEST }, () => stack.withContext({}, async (context, page) => {
	// A client's own identity header never reaches the app.
	await context.setExtraHTTPHeaders({ 'X-Postern-Email':
	    'forged@example.com' });
	let resp = await page.goto(`${front.url}/public/page`);
	assert.equal(resp.status(), 200);
	assert.ok(!(await echoed(page, 'x-postern-email') ?? '')
	    .includes('forged'));

	resp = await page.goto(`${front.url}/some/page?x=1`);
	const at = new URL(page.url());
	assert.equal(at.origin, front.url, 'the sign-in page is nginx\'s');
	assert.equal(at.pathname, '/.postern/login');
	assert.equal(at.searchParams.get('rd'), `${front.url}/some/page?x=1`);
	assert.equal(resp.status(), 200);

	await page.getByLabel('Email').fill(stack.email);
	await page.getByLabel('Password').fill(PASSWORD);
	await Promise.all([
		page.waitForURL((u) => u.pathname === '/some/page'),
		page.getByRole('button', { name: 'Sign in' }).click(),
	]);
	const back = new URL(page.url());
	assert.equal(back.origin, front.url);
	assert.equal(back.pathname + back.search, '/some/page?x=1');
	assert.equal(await echoed(page, 'x-postern-email'), stack.email);
	assert.equal(await echoed(page, 'x-postern-auth'), 'session');
	const cookies = await context.cookies(front.url);
	const c = cookies.find((x) => x.name === COOKIE);
	assert.ok(c && c.httpOnly && c.secure, JSON.stringify(cookies));

	// Signed out, the page is closed again.
	await page.goto(`${front.url}/.postern/login`);
	await Promise.all([
		page.waitForURL((u) => u.pathname === '/.postern/login'),
		page.getByRole('button', { name: 'Sign out' }).click(),
	]);
	await page.goto(`${front.url}/some/page`);
	assert.equal(new URL(page.url()).pathname, '/.postern/login');
}));
