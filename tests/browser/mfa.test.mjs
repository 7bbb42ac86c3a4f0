// Two-step verification and password reset in a real browser: enrol TOTP
// from the QR page (the code computed by Debian's oathtool from the key the
// page shows), sign in again with password + code, use a backup code once
// (and only once), and reset the password from the link of a real mail
// (harness.mjs: SMTP sink, Redis, upstream, gateway, Chromium).
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';

import { PASSWORD, Stack, TEST, pageHeaders, sleep, submitLogin,
    watchdog } from './harness.mjs';

watchdog('mfa.test.mjs', 110_000);

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

function totp(offset = 0) {
	const now = Math.floor(Date.now() / 1000) + offset;
	const r = spawnSync('oathtool', ['--totp', '-b', key, '--now',
	    `@${now}`], { encoding: 'utf8' });
	assert.equal(r.status, 0, r.stderr);
	return { code: r.stdout.trim(), step: Math.floor(now / 30) };
}

// A code of a step not used yet (waits for the next step if needed).
async function freshCode() {
	let c = totp();
	if (c.step <= lastStep) {
		await sleep((30 - (Date.now() / 1000) % 30) * 1000 + 300);
		c = totp();
	}
	lastStep = c.step;
	return c.code;
}

// Problems other than Chromium's log line for each 4xx document load.
function problems(context) {
	return context.problems.filter((p) => !/Failed to load resource: the server responded with a status of 4\d\d/.test(p));
}

async function signInTo2fa(page, password = PASSWORD) {
	await page.goto(`${gw.url}/.postern/login?rd=%2Fhome`);
	const resp = await submitLogin(page, EMAIL, password);
	assert.equal(resp.status(), 303);
	await page.waitForURL((u) => u.pathname === '/.postern/2fa');
}

test('enrol two-step verification from the QR page, keyboard only',
    { timeout: 60_000 }, () => stack.withContext({},
    async (context, page) => {
	await page.goto(`${gw.url}/.postern/login?rd=%2F.postern%2F2fa%2Fsetup`);
	await submitLogin(page, EMAIL, PASSWORD);
	await page.waitForURL((u) => u.pathname === '/.postern/2fa/setup');
	const resp = await page.reload();
	pageHeaders(resp, 'setup page');
	// The QR code renders under the page's CSP, and is labelled.
	const qr = page.locator('svg.qr');
	const box = await qr.boundingBox();
	assert.ok(box && box.width > 100 && box.height > 100,
	    `QR code drawn: ${JSON.stringify(box)}`);
	assert.match(await qr.locator('title').textContent(), /QR code/);
	key = (await page.locator('p', { hasText: 'by hand' })
	    .locator('strong').textContent()).replace(/\s/g, '');
	assert.match(key, /^[A-Z2-7]{32}$/);
	const field = page.getByLabel('Authentication code');
	assert.equal(await field.getAttribute('autocomplete'),
	    'one-time-code');
	assert.equal(await field.getAttribute('inputmode'), 'numeric');
	assert.equal(await page.evaluate(() => document.activeElement?.id),
	    'code', 'focus starts in the code field');
	await page.keyboard.type(await freshCode());
	await Promise.all([
		page.waitForResponse((r) => r.request().method() === 'POST'),
		page.keyboard.press('Enter'),
	]);
	await page.getByRole('heading', { name: 'Your backup codes' })
	    .waitFor();
	codes = await page.locator('ul.codes code').allTextContents();
	assert.equal(codes.length, 10);
	assert.equal(new Set(codes).size, 10);
	for (const c of codes)
		assert.match(c, /^[a-z2-7]{6}(-[a-z2-7]{6}){3}$/);
	await page.getByRole('link', { name: 'Continue' }).click();
	await page.waitForLoadState('load');
	assert.deepEqual(problems(context), []);
}));

test('a new sign-in asks for the code, then reaches the app',
    { timeout: 60_000 }, () => stack.withContext({},
    async (context, page) => {
	assert.ok(key, 'enrolled in the previous test');
	await signInTo2fa(page);
	pageHeaders(await page.reload(), '2fa page');
	// Not yet through: the app still sends us back here.
	await page.goto(`${gw.url}/home`);
	assert.equal(new URL(page.url()).pathname, '/.postern/2fa');
	// A wrong code: an alert tied to the field.
	await page.getByLabel('Authentication code').fill('000000');
	await page.getByLabel('Authentication code').press('Enter');
	const alert = page.getByRole('alert');
	await alert.waitFor();
	assert.match(await alert.textContent(), /not right/);
	assert.equal(await page.getByLabel('Authentication code')
	    .getAttribute('aria-invalid'), 'true');
	// The right one.
	await page.getByLabel('Authentication code').fill(await freshCode());
	await Promise.all([
		page.waitForURL((u) => u.pathname === '/home'),
		page.getByLabel('Authentication code').press('Enter'),
	]);
	const row = page.locator('tr').filter({ has:
	    page.locator('th', { hasText: /^x-postern-email$/i }) });
	assert.equal((await row.first().locator('td').textContent()).trim(),
	    EMAIL);
	assert.deepEqual(problems(context), []);
}));

test('a backup code works once', { timeout: TEST }, async () => {
	assert.ok(codes, 'enrolled');
	await stack.withContext({}, async (context, page) => {
		await signInTo2fa(page);
		await page.getByLabel('Backup code').fill(codes[2].toUpperCase());
		await Promise.all([
			page.waitForURL((u) => u.pathname === '/home'),
			page.getByRole('button', { name: 'Use backup code' })
			    .click(),
		]);
		assert.deepEqual(problems(context), []);
	});
	await stack.withContext({}, async (context, page) => {
		await signInTo2fa(page);
		await page.getByLabel('Backup code').fill(codes[2]);
		await page.getByRole('button', { name: 'Use backup code' })
		    .click();
		const alert = page.getByRole('alert');
		await alert.waitFor();
		assert.match(await alert.textContent(), /already used/);
		assert.equal(new URL(page.url()).pathname, '/.postern/2fa');
	});
});

test('reset the password from the mailed link', { timeout: 30_000 },
    () => stack.withContext({}, async (context, page) => {
	await page.goto(`${gw.url}/.postern/login`);
	await Promise.all([
		page.waitForURL((u) => u.pathname === '/.postern/reset'),
		page.getByRole('link', { name: 'Forgot your password?' })
		    .click(),
	]);
	await page.getByLabel('Email').fill(EMAIL);
	await page.getByRole('button', { name: 'Send link' }).click();
	await page.getByText('If an account exists').waitFor();
	const mail = await stack.mailFor(EMAIL);
	const link = mail.text.match(/https:\/\/\S+\/\.postern\/reset\?token=[A-Za-z0-9_-]{43}/);
	assert.ok(link, mail.text);
	// The link's host is the gateway's own; open it here.
	const url = new URL(link[0]);
	assert.equal(url.hostname, 'localhost');
	await page.goto(link[0]);
	const pw = page.getByLabel('New password', { exact: true });
	assert.equal(await pw.getAttribute('autocomplete'), 'new-password');
	await pw.fill(NEWPW);
	await page.getByLabel('New password again').fill(NEWPW);
	await page.getByRole('button', { name: 'Set password' }).click();
	await page.getByText('was changed').waitFor();
	// The same link does not work twice.
	await page.goto(link[0]);
	await page.getByText('expired or was already used').waitFor();
	// The old password fails, the new one leads to the second step.
	await page.goto(`${gw.url}/.postern/login`);
	let resp = await submitLogin(page, EMAIL, PASSWORD);
	assert.equal(resp.status(), 401);
	resp = await submitLogin(page, EMAIL, NEWPW);
	assert.equal(resp.status(), 303);
	await page.waitForURL((u) => u.pathname === '/.postern/2fa');
	assert.deepEqual(problems(context), []);
}));
