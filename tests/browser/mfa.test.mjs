// Two-step verification, the account page and password reset in a real
// browser: enrol TOTP from the QR page (the code computed by Debian's
// oathtool from the key the page shows), sign out and in again with
// password + code, use a backup code once (and only once), and reset the
// password from the link of a real mail, which signs every session out
// (harness.mjs: SMTP sink, Redis, upstream, gateway, Chromium).
//
// Every gateway page on the way is checked for console errors and CSP
// violations (the pages run under a nonce-based CSP), strict headers,
// labelled fields and the right autocomplete tokens, and the forms are
// filled with the keyboard.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';

import { COOKIE, PASSWORD, Stack, TEST, pageHeaders, realProblems, sleep,
    submitLogin, watchdog } from './harness.mjs';

watchdog('mfa.test.mjs', 4 * TEST + 60_000);	// 4 tests, each bounded

const stack = new Stack('mfa');
const EMAIL = stack.email;
const NEWPW = 'a brand new passphrase for the browser 7';
let gw;
let key;			// the TOTP key read from the setup page
let codes;			// the backup codes shown once
let lastStep = -1;		// TOTP steps are single-use

before(async () => {
	await stack.start({ smtp: true,
	    app: ['  routes:', '    - path: /**', '      authenticated: true']
		.join('\n') });
	gw = stack.gw;
}, { timeout: 45_000 });

after(() => stack.stop(), { timeout: 30_000 });

function totp() {
	const now = Math.floor(Date.now() / 1000);
	const r = spawnSync('oathtool', ['--totp', '-b', key, '--now',
	    `@${now}`], { encoding: 'utf8', timeout: 5_000 });
	assert.equal(r.status, 0, `oathtool: ${r.error ?? r.stderr}`);
	return { code: r.stdout.trim(), step: Math.floor(now / 30) };
}

// A code of a step not used yet: the gateway takes each step's code once,
// so if this step's was used, wait for the next step (the only sleep here).
async function freshCode() {
	let c = totp();
	if (c.step <= lastStep) {
		await sleep((30 - (Date.now() / 1000) % 30) * 1000 + 300);
		c = totp();
	}
	lastStep = c.step;
	return c.code;
}

// At 390 px wide (a phone), <what> does not scroll sideways.
async function fitsPhone(page, what) {
	await page.setViewportSize({ width: 390, height: 844 });
	const [sw, cw] = await page.evaluate(() => [
	    document.documentElement.scrollWidth,
	    document.documentElement.clientWidth]);
	assert.ok(sw <= cw, `${what}: no horizontal scroll at 390 px ` +
	    `(${sw} > ${cw})`);
}

const focused = (page) => page.evaluate(() => document.activeElement?.id);

async function autocomplete(locator, want, what) {
	assert.equal(await locator.getAttribute('autocomplete'), want,
	    `${what}: autocomplete="${want}"`);
}

// Password sign-in of an enrolled user: stops at the second step.
async function signInTo2fa(page, password = PASSWORD, rd = '/home') {
	await stack.signIn(page, { password, rd, to: '/.postern/2fa' });
	assert.equal(new URL(page.url()).searchParams.get('rd'), rd);
}

// The second step with a backup code, typed; lands on <to>.
async function useBackupCode(page, code, to = '/home') {
	const field = page.getByLabel('Backup code');
	await autocomplete(field, 'off', 'backup code');
	await field.focus();
	await page.keyboard.type(code);
	await Promise.all([
		page.waitForURL((u) => u.pathname === to),
		page.keyboard.press('Enter'),
	]);
}

// The upstream's echo of who the gateway says this is.
async function upstreamSees(page) {
	const row = page.locator('tr').filter({ has:
	    page.locator('th', { hasText: /^x-postern-email$/i }) });
	return (await row.first().locator('td').textContent()).trim();
}

test('enrol two-step verification from the QR page, keyboard only',
    { timeout: 60_000 }, () => stack.withContext({},
    async (context, page) => {
	await stack.signIn(page, { rd: '/' });
	const resp = await page.goto(
	    `${gw.url}/.postern/2fa/setup?rd=%2Fwelcome`);
	assert.equal(resp.status(), 200);
	pageHeaders(resp, 'setup page');
	assert.match(resp.headers()['content-security-policy'],
	    /'nonce-[^']+'/, 'a nonce-based CSP');
	// The QR code renders under the page's CSP, and is labelled.
	const qr = page.locator('svg.qr');
	const box = await qr.boundingBox();
	assert.ok(box && box.width > 100 && box.height > 100,
	    `QR code drawn: ${JSON.stringify(box)}`);
	assert.match(await qr.locator('title').textContent(), /QR code/);
	// ...with dark modules painted: some <path>/<rect> has a fill.
	assert.ok(await qr.evaluate((svg) => [...svg.querySelectorAll(
	    'path, rect')].some((e) => getComputedStyle(e).fill !== 'none')),
	    'QR modules are painted');
	key = (await page.locator('code.key').textContent())
	    .replace(/\s/g, '');
	assert.match(key, /^[A-Z2-7]{32}$/);
	// The key is shown in groups of four, and the page fits a phone.
	assert.match(await page.locator('code.key').textContent(),
	    /^([A-Z2-7]{4} )+[A-Z2-7]{1,4}$/);
	await fitsPhone(page, 'setup page');
	assert.ok(!(await page.content()).includes('otpauth://'),
	    'the key URI is not in the page text');
	const field = page.getByLabel('Authentication code');
	await autocomplete(field, 'one-time-code', 'setup code');
	assert.equal(await field.getAttribute('inputmode'), 'numeric');
	assert.equal(await focused(page), 'code',
	    'focus starts in the code field');
	await page.keyboard.type(await freshCode());
	const [shown] = await Promise.all([
		page.waitForResponse((r) => r.request().method() === 'POST' &&
		    new URL(r.url()).pathname === '/.postern/2fa/setup'),
		page.keyboard.press('Enter'),
	]);
	assert.equal(shown.status(), 200);
	pageHeaders(shown, 'backup codes page');
	await page.getByRole('heading', { name: 'Your backup codes' })
	    .waitFor();
	codes = await page.locator('ul.codes li code').allTextContents();
	assert.equal(codes.length, 10);
	assert.equal(new Set(codes).size, 10);
	for (const c of codes)
		assert.match(c, /^[a-z2-7]{6}(-[a-z2-7]{6}){3}$/);
	// One column, on a phone too; Copy puts them on the clipboard...
	const xs = await page.locator('ul.codes li').evaluateAll((li) =>
	    li.map((e) => e.getBoundingClientRect().left));
	assert.equal(new Set(xs).size, 1, `one column: ${xs}`);
	await fitsPhone(page, 'backup codes page');
	await context.grantPermissions(['clipboard-read', 'clipboard-write'],
	    { origin: gw.url });
	await page.getByRole('button', { name: 'Copy' }).click();
	await page.getByRole('button', { name: 'Copied' }).waitFor();
	assert.deepEqual((await page.evaluate(() =>
	    navigator.clipboard.readText())).trim().split('\n'), codes);
	// ...and "Download as text" gives them as a file.
	const [dl] = await Promise.all([
		page.waitForEvent('download'),
		page.getByRole('button', { name: 'Download as text' }).click(),
	]);
	assert.equal(dl.suggestedFilename(), 'backup-codes.txt');
	const text = readFileSync(await dl.path(), 'utf8');
	for (const c of codes)
		assert.ok(text.includes(c), `download has ${c}`);
	await page.setViewportSize({ width: 1280, height: 800 });
	// Continue, by keyboard, to where the setup was asked to return.
	await page.getByRole('link', { name: 'Continue' }).focus();
	await Promise.all([
		page.waitForURL((u) => u.pathname === '/welcome'),
		page.keyboard.press('Enter'),
	]);
	assert.equal(await upstreamSees(page), EMAIL,
	    'this session goes on, now with two steps');
	assert.deepEqual(realProblems(context), []);
	// The user is told by mail, with where to turn if it was not them.
	const notice = await stack.mailFor(EMAIL,
	    { subject: /account was changed/ });
	assert.match(notice.text, /Two-step verification was turned on/);
	assert.match(notice.text, /https:\/\/\S+\/\.postern\/reset/);
	assert.ok(!notice.text.includes(key), 'never the seed');

	// Sign out with the button; the codes page is gone for good.
	await stack.signOut(page);
	assert.deepEqual(realProblems(context), []);
}));

test('after signing out, a password sign-in asks for the code, then reaches the app',
    { timeout: 60_000 }, () => stack.withContext({},
    async (context, page) => {
	assert.ok(key, 'enrolled in the previous test');
	await signInTo2fa(page);
	pageHeaders(await page.reload(), '2fa page');
	// Two labelled forms, the code field focused.
	const code = page.getByLabel('Authentication code');
	await autocomplete(code, 'one-time-code', '2fa code');
	assert.equal(await code.getAttribute('inputmode'), 'numeric');
	await page.getByRole('button', { name: 'Verify' }).waitFor();
	await page.getByRole('button', { name: 'Use backup code' }).waitFor();
	// Not yet through: the app still sends us back here.
	await page.goto(`${gw.url}/home`);
	assert.equal(new URL(page.url()).pathname, '/.postern/2fa');
	assert.equal(await focused(page), 'code');
	// A wrong code: an alert tied to the field, focus back in it.
	await page.keyboard.type('000000');
	await page.keyboard.press('Enter');
	const alert = page.getByRole('alert');
	await alert.waitFor();
	assert.match(await alert.textContent(), /not right/);
	assert.equal(await code.getAttribute('aria-invalid'), 'true');
	assert.equal(await code.getAttribute('aria-describedby'), 'error');
	assert.equal(await focused(page), 'code');
	// The right one, typed.
	await code.fill('');
	await page.keyboard.type(await freshCode());
	await Promise.all([
		page.waitForURL((u) => u.pathname === '/home'),
		page.keyboard.press('Enter'),
	]);
	assert.equal(await upstreamSees(page), EMAIL);
	assert.ok((await context.cookies(gw.url)).some((c) =>
	    c.name === COOKIE));

	// The account page of a two-step session.
	const resp = await page.goto(`${gw.url}/.postern/account`);
	assert.equal(resp.status(), 200);
	pageHeaders(resp, 'account page');
	await page.getByRole('heading', { name: 'Your account' }).waitFor();
	assert.ok((await page.textContent('main')).includes(EMAIL));
	await page.getByText('Two-step verification is on.').waitFor();
	await autocomplete(page.getByLabel('Current password'),
	    'current-password', 'current password');
	await autocomplete(page.getByLabel('New password', { exact: true }),
	    'new-password', 'new password');
	await autocomplete(page.getByLabel('New password again'),
	    'new-password', 'new password again');
	await page.getByRole('button', { name: 'Change password' }).waitFor();
	await page.getByRole('button', { name: 'New backup codes' }).waitFor();
	await page.getByRole('button',
	    { name: 'Turn off two-step verification' }).waitFor();
	// This session is listed, as a two-step one, with its browser.
	await page.getByText(/with two-step verification/).first().waitFor();
	await page.getByText('(this device)').waitFor();
	assert.match(await page.locator('ul.sessions li').first()
	    .textContent(), /(Chrome|Chromium) on Linux \(this device\)/);
	// The destructive form stands apart, and the page fits a phone.
	await page.locator('section.danger').getByRole('button',
	    { name: 'Turn off two-step verification' }).waitFor();
	await fitsPhone(page, 'account page');
	await page.setViewportSize({ width: 1280, height: 800 });
	assert.deepEqual(realProblems(context), []);
}));

test('a backup code works once', { timeout: TEST }, async () => {
	assert.ok(codes, 'enrolled');
	await stack.withContext({}, async (context, page) => {
		await signInTo2fa(page);
		// Upper case, as someone might copy it: still the code.
		await useBackupCode(page, codes[2].toUpperCase());
		assert.equal(await upstreamSees(page), EMAIL);
		assert.deepEqual(realProblems(context), []);
	});
	await stack.withContext({}, async (context, page) => {
		await signInTo2fa(page);
		const field = page.getByLabel('Backup code');
		await field.fill(codes[2]);
		const [resp] = await Promise.all([
			page.waitForResponse((r) =>
			    r.request().method() === 'POST'),
			page.getByRole('button', { name: 'Use backup code' })
			    .click(),
		]);
		assert.ok(resp.status() >= 400, `refused: ${resp.status()}`);
		const alert = page.getByRole('alert');
		await alert.waitFor();
		assert.match(await alert.textContent(), /already used/);
		assert.equal(new URL(page.url()).pathname, '/.postern/2fa');
		await page.goto(`${gw.url}/home`);
		assert.equal(new URL(page.url()).pathname, '/.postern/2fa',
		    'still not through');
		assert.deepEqual(realProblems(context), []);
	});
});

test('reset the password from the mailed link: every session signed out',
    { timeout: 30_000 }, () => stack.withContext({},
    async (other, otherPage) => {
	// A session elsewhere, fully signed in, before the reset.
	await signInTo2fa(otherPage);
	await useBackupCode(otherPage, codes[3]);
	assert.equal(await upstreamSees(otherPage), EMAIL);

	await stack.withContext({}, async (context, page) => {
		await page.goto(`${gw.url}/.postern/login`);
		const [req] = await Promise.all([
			page.waitForResponse((r) =>
			    new URL(r.url()).pathname === '/.postern/reset'),
			page.getByRole('link', { name: 'Forgot your password?' })
			    .click(),
		]);
		pageHeaders(req, 'reset request page');
		const email = page.getByLabel('Email');
		await autocomplete(email, 'username', 'reset email');
		assert.equal(await email.getAttribute('type'), 'email');
		assert.equal(await focused(page), 'email');
		await page.keyboard.type(EMAIL);
		await page.keyboard.press('Enter');
		await page.getByText('If an account exists').waitFor();

		const mail = await stack.mailFor(EMAIL,
		    { subject: /Reset your .* password/ });
		assert.equal(mail.from, 'postern@example.com');
		const link = mail.text.match(
		    /https:\/\/\S+\/\.postern\/reset\?token=[A-Za-z0-9_-]{43}/);
		assert.ok(link, mail.text);
		// The link's host is the gateway's own; open it here.
		const url = new URL(link[0]);
		assert.equal(url.hostname, 'localhost');
		const resp = await page.goto(link[0]);
		assert.equal(resp.status(), 200);
		pageHeaders(resp, 'new password page');
		const pw = page.getByLabel('New password', { exact: true });
		const again = page.getByLabel('New password again');
		await autocomplete(pw, 'new-password', 'new password');
		await autocomplete(again, 'new-password', 'new password again');
		assert.equal(await pw.getAttribute('type'), 'password');
		assert.equal(await again.getAttribute('type'), 'password');
		assert.equal(await focused(page), 'new_password');
		await page.keyboard.type(NEWPW);
		await page.keyboard.press('Tab');
		assert.equal(await focused(page), 'confirm');
		await page.keyboard.type(NEWPW);
		await page.keyboard.press('Enter');
		await page.getByText('every session was signed out').waitFor();
		await page.getByRole('link', { name: 'Sign in' }).waitFor();

		// The other session is gone: the app asks it to sign in.
		await otherPage.goto(`${gw.url}/home`);
		assert.equal(new URL(otherPage.url()).pathname,
		    '/.postern/login', 'the other session was signed out');

		// The same link does not work twice.
		await page.goto(link[0]);
		await page.getByText('expired or was already used').waitFor();
		// The old password fails; the new one leads to the second
		// step, and through it to the app.
		await page.goto(`${gw.url}/.postern/login`);
		const old = await submitLogin(page, EMAIL, PASSWORD);
		assert.equal(old.status(), 401, 'the old password fails');
		await page.getByRole('alert').waitFor();
		await signInTo2fa(page, NEWPW);
		await useBackupCode(page, codes[4]);
		assert.equal(await upstreamSees(page), EMAIL);
		assert.deepEqual(realProblems(context), []);
	});
	assert.deepEqual(realProblems(other), []);
}));
