// The sign-in flow in a real browser: Debian's headless Chromium driven by
// playwright-core, against a real `postern serve` in front of the demo
// upstream, with a real redis-server (harness.mjs starts and stops them).
//
// Run: POSTERN_BIN=build/gateway/postern node --test tests/browser/
// (scripts/test does this).
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';

import { COOKIE, PASSWORD, Stack, TEST, pageHeaders, realProblems,
    submitLogin, watchdog } from './harness.mjs';

watchdog('signin.test.mjs', 6 * TEST + 60_000);	// 6 tests, each bounded

const stack = new Stack('signin');
const EMAIL = stack.email;
let gw;				// { port, url, log }
let shots;			// where screenshots go

before(async () => {
	await stack.start();
	gw = stack.gw;
	shots = stack.shots;
}, { timeout: 45_000 });

after(() => stack.stop(), { timeout: 30_000 });

const withContext = (options, fn) => stack.withContext(options, fn);
const signIn = (page, rd) => stack.signIn(page, { rd });

test('a protected page sends the browser to sign-in and back, keyboard only',
    { timeout: TEST }, () => withContext({}, async (context, page) => {
	const resp = await page.goto(`${gw.url}/some/page?x=1`);
	const at = new URL(page.url());
	assert.equal(at.pathname, '/.postern/login');
	assert.equal(at.searchParams.get('rd'), '/some/page?x=1');
	assert.equal(resp.status(), 200);

	const email = page.getByLabel('Email');
	const password = page.getByLabel('Password');
	assert.equal(await email.getAttribute('type'), 'email');
	assert.equal(await email.getAttribute('autocomplete'), 'username');
	assert.equal(await password.getAttribute('type'), 'password');
	assert.equal(await password.getAttribute('autocomplete'),
	    'current-password');
	assert.equal(await page.evaluate(() => document.activeElement?.id),
	    'email', 'focus starts in the email field');

	// Type it in, as a person would: email, Tab, password, Enter.
	await page.keyboard.type(EMAIL);
	await page.keyboard.press('Tab');
	assert.equal(await page.evaluate(() => document.activeElement?.id),
	    'password', 'Tab moves to the password');
	await page.keyboard.type(PASSWORD);
	await Promise.all([
		page.waitForURL((u) => u.pathname === '/some/page'),
		page.keyboard.press('Enter'),
	]);
	const back = new URL(page.url());
	assert.equal(back.pathname + back.search, '/some/page?x=1');
	assert.equal(back.origin, gw.url);
	// The upstream's echo shows who the gateway says this is.
	const row = page.locator('tr').filter({ has:
	    page.locator('th', { hasText: /^x-postern-email$/i }) });
	await row.first().waitFor();
	assert.equal((await row.first().locator('td').textContent()).trim(),
	    EMAIL);
	const auth = page.locator('tr').filter({ has:
	    page.locator('th', { hasText: /^x-postern-auth$/i }) });
	assert.equal((await auth.first().locator('td').textContent()).trim(),
	    'session');
	assert.deepEqual(context.problems, []);
}));

test('the session cookie is HttpOnly, Secure, SameSite=Lax, not in document.cookie',
    { timeout: TEST }, () => withContext({}, async (context, page) => {
	await signIn(page, '/cookie-check');
	const cookies = await context.cookies(gw.url);
	const c = cookies.find((x) => x.name === COOKIE);
	assert.ok(c, `${COOKIE} set: ${JSON.stringify(cookies)}`);
	assert.equal(c.httpOnly, true, 'HttpOnly');
	assert.equal(c.secure, true, 'Secure');
	assert.equal(c.sameSite, 'Lax', 'SameSite=Lax');
	assert.equal(c.path, '/', 'Path=/');
	assert.equal(c.domain, 'localhost', 'host-only');
	assert.match(c.value, /^[A-Za-z0-9_-]{43}$/);
	// Scripts on the (upstream) page cannot read it.
	const visible = await page.evaluate(() => document.cookie);
	assert.ok(!visible.includes(COOKIE), `document.cookie: ${visible}`);
	assert.ok(!visible.includes(c.value), 'the session id is not exposed');
	// ...nor on the gateway's own page.
	await page.goto(`${gw.url}/.postern/login`);
	const onGateway = await page.evaluate(() => document.cookie);
	assert.ok(!onGateway.includes(COOKIE), `document.cookie: ${onGateway}`);
}));

test('gateway pages: no console errors, no CSP violations, strict headers',
    { timeout: TEST }, () => withContext({}, async (context, page) => {
	// The sign-in page.
	let resp = await page.goto(`${gw.url}/.postern/login`);
	assert.equal(resp.status(), 200);
	pageHeaders(resp, 'sign-in page');
	// Styles are applied (the nonce matched): the button has the brand
	// colour as background, not the UA default.
	const bg = await page.getByRole('button', { name: 'Sign in' })
	    .evaluate((b) => getComputedStyle(b).backgroundColor);
	assert.notEqual(bg, 'rgb(239, 239, 239)', 'page style applied');
	assert.equal(await page.evaluate(() =>
	    getComputedStyle(document.body).display), 'flex');

	// The page after a wrong password.
	resp = await submitLogin(page, EMAIL, 'not the password 1');
	assert.equal(resp.status(), 401);
	pageHeaders(resp, 'sign-in error page');
	await page.getByRole('alert').waitFor();

	// An error page of the gateway's own (pages.c).
	resp = await page.goto(`${gw.url}/.postern/no-such-page`);
	assert.ok(resp.status() >= 400, `status ${resp.status()}`);
	pageHeaders(resp, 'error page');

	// The signed-in page.
	await signIn(page, '/');
	resp = await page.goto(`${gw.url}/.postern/login`);
	assert.equal(resp.status(), 200);
	pageHeaders(resp, 'signed-in page');
	await page.getByRole('button', { name: 'Sign out' }).waitFor();

	// Give late reports (CSP events are queued) a moment to arrive.
	await page.waitForTimeout(200);
	if (process.env.POSTERN_BROWSER_DEBUG)
		console.log(context.problems);
	// (Chromium logs every 4xx document load; realProblems leaves those
	// out: the statuses are the point of these pages.)
	assert.deepEqual(realProblems(context), []);

	// The detectors work: something this CSP forbids is reported by both.
	const before = context.problems.length;
	await page.evaluate(() => {
		const img = new Image();
		img.src = '/csp-probe.png';
		document.body.append(img);
	});
	await page.waitForTimeout(300);
	const probe = context.problems.slice(before);
	assert.ok(probe.some((p) => p.startsWith('CSP violation') &&
	    p.includes('csp-probe')), `CSP hook saw it: ${probe}`);
	assert.ok(probe.some((p) => p.startsWith('console error')),
	    `console hook saw it: ${probe}`);
}));

test('a wrong password shows an alert, keeps the email, clears the password',
    { timeout: TEST }, () => withContext({}, async (context, page) => {
	await page.goto(`${gw.url}/.postern/login?rd=%2Fsome%2Fpage%3Fx%3D1`);
	const resp = await submitLogin(page, EMAIL, 'wrong password 123');
	assert.equal(resp.status(), 401);
	const alert = page.getByRole('alert');
	await alert.waitFor();
	assert.equal((await alert.textContent()).trim(),
	    'The email or password is incorrect.');
	assert.equal(await page.getByLabel('Email').inputValue(), EMAIL);
	assert.equal(await page.getByLabel('Password').inputValue(), '');
	// Both fields point at the message for screen readers, and the
	// cursor waits in the password field.
	assert.equal(await page.getByLabel('Password')
	    .getAttribute('aria-describedby'), 'error');
	assert.equal(await page.getByLabel('Password')
	    .getAttribute('aria-invalid'), 'true');
	assert.equal(await page.evaluate(() => document.activeElement?.id),
	    'password');
	assert.ok(!(await context.cookies(gw.url)).some((c) =>
	    c.name === COOKIE), 'no session after a failure');
	// The way back survives the failure.
	assert.equal(await page.locator('input[name="rd"]').inputValue(),
	    '/some/page?x=1');
	await page.getByLabel('Password').fill(PASSWORD);
	await Promise.all([
		page.waitForURL((u) => u.pathname === '/some/page'),
		page.getByLabel('Password').press('Enter'),
	]);
	assert.equal(new URL(page.url()).search, '?x=1');
}));

test('sign out ends the session and protected pages ask to sign in again',
    { timeout: TEST }, () => withContext({}, async (context, page) => {
	await signIn(page, '/before-logout');
	await page.goto(`${gw.url}/.postern/login`);
	assert.ok((await page.textContent('main')).includes(EMAIL),
	    'the signed-in page names the user');
	// The button POSTs to /.postern/logout (303), back to the sign-in
	// form, no session cookie left (stack.signOut checks each).
	await stack.signOut(page);
	await page.getByLabel('Password').waitFor();
	await page.goto(`${gw.url}/after/logout?y=2`);
	const at = new URL(page.url());
	assert.equal(at.pathname, '/.postern/login');
	assert.equal(at.searchParams.get('rd'), '/after/logout?y=2');
	await page.getByLabel('Email').waitFor();
}));

test('the sign-in page fits a phone screen without horizontal scrolling',
    { timeout: TEST }, () => withContext({ viewport: { width: 390,
    height: 844 }, deviceScaleFactor: 2, isMobile: true, hasTouch: true },
    async (context, page) => {
	await page.goto(`${gw.url}/.postern/login`);
	const fits = async (what) => {
		const m = await page.evaluate(() => ({
			scroll: document.documentElement.scrollWidth,
			inner: window.innerWidth,
		}));
		assert.ok(m.scroll <= m.inner,
		    `${what}: scrollWidth ${m.scroll} > innerWidth ${m.inner}`);
		for (const el of [page.getByLabel('Email'),
		    page.getByLabel('Password'),
		    page.getByRole('button', { name: 'Sign in' })]) {
			const b = await el.boundingBox();
			assert.ok(b && b.x >= 0 && b.x + b.width <= m.inner,
			    `${what}: control inside the viewport: ` +
			    JSON.stringify(b));
		}
	};
	await fits('sign-in page');
	const shot = path.join(shots, 'signin-390x844.png');
	await page.screenshot({ path: shot, fullPage: true });
	assert.ok(fs.statSync(shot).size > 1000, 'screenshot written');

	// The error variant (longer text) fits too.
	await submitLogin(page, EMAIL, 'wrong password 123');
	await page.getByRole('alert').waitFor();
	await fits('sign-in error page');
	const shot2 = path.join(shots, 'signin-error-390x844.png');
	await page.screenshot({ path: shot2, fullPage: true });
	assert.ok(fs.statSync(shot2).size > 1000, 'screenshot written');
}));
