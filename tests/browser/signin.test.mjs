// The sign-in flow in a real browser: Debian's headless Chromium driven by
// playwright-core, against a real `postern serve` in front of the demo
// upstream, with a real redis-server.  Everything is started here on free
// loopback ports and stopped at the end, pass or fail.
//
// Run: POSTERN_BIN=build/gateway/postern node --test tests/browser/
// (scripts/test does this).  POSTERN_BROWSER_SHOTS=DIR keeps the
// screenshots in DIR; otherwise they go to the run's temp dir, removed at
// the end.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import crypto from 'node:crypto';
import fs from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

import { chromium } from 'playwright-core';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)),
    '..', '..');
const BIN = path.resolve(process.env.POSTERN_BIN ??
    path.join(ROOT, 'build', 'gateway', 'postern'));
const UPSTREAM = path.join(ROOT, 'scripts', 'demo-upstream.py');
const CHROMIUM = process.env.CHROMIUM ?? '/usr/bin/chromium';

const PASSWORD = 'correct horse battery staple 9';
const EMAIL = `browser-${crypto.randomBytes(5).toString('hex')}@example.com`;
const COOKIE = '__Host-postern';
const STEP = 10_000;		// one browser step (navigation, click, wait)
const TEST = 20_000;		// one test

const procs = [];		// every child we start, stopped in after()
let tmp;			// this run's private directory
let shots;			// where screenshots go
let gw;				// { port, url, log }
let browser;

// The whole file is bounded: a hung step past this kills everything.
const WATCHDOG = 75_000;
setTimeout(() => {
	console.error(`signin.test.mjs: still running after ${WATCHDOG} ms; ` +
	    'stopping');
	process.exit(1);
}, WATCHDOG).unref();

// Belt and braces: if the file dies without reaching after(), no child
// outlives it.
process.on('exit', () => {
	for (const p of procs)
		if (p.exitCode === null && p.signalCode === null)
			p.kill('SIGKILL');
});

function freePort() {
	return new Promise((resolve, reject) => {
		const s = net.createServer();
		s.unref();
		s.on('error', reject);
		s.listen(0, '127.0.0.1', () => {
			const { port } = s.address();
			s.close(() => resolve(port));
		});
	});
}

const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

function canConnect(port) {
	return new Promise((resolve) => {
		const s = net.connect({ host: '127.0.0.1', port });
		const done = (ok) => { s.destroy(); resolve(ok); };
		s.setTimeout(200, () => done(false));
		s.once('connect', () => done(true));
		s.once('error', () => done(false));
	});
}

async function waitPort(port, proc, what, timeout = 10_000) {
	const deadline = Date.now() + timeout;
	while (Date.now() < deadline) {
		if (proc.exitCode !== null || proc.signalCode !== null)
			throw new Error(`${what} exited (${proc.exitCode ?? proc.signalCode}) before listening on ${port}`);
		if (await canConnect(port))
			return;
		await sleep(50);
	}
	throw new Error(`${what} not listening on ${port} after ${timeout} ms`);
}

function start(what, cmd, args, logFile) {
	const out = logFile ? fs.openSync(logFile, 'w') : 'ignore';
	const p = spawn(cmd, args, { cwd: tmp, stdio: ['ignore', out, out] });
	if (logFile)
		fs.closeSync(out);
	p.what = what;
	p.on('error', (e) => { p.spawnError = e; });
	procs.push(p);
	return p;
}

async function stop(p, timeout = 5_000) {
	if (p.exitCode !== null || p.signalCode !== null)
		return;
	const gone = new Promise((r) => p.once('exit', r));
	p.kill('SIGTERM');
	const t = setTimeout(() => p.kill('SIGKILL'), timeout);
	await gone;
	clearTimeout(t);
}

function run(cmd, args, input) {
	const r = spawnSync(cmd, args, { cwd: tmp, input, encoding: 'utf8',
	    timeout: 30_000 });
	if (r.error || r.status !== 0)
		throw new Error(`${path.basename(cmd)} ${args.join(' ')} failed ` +
		    `(${r.error ?? r.status}): ${r.stderr}`);
	return r;
}

function gatewayLog() {
	try {
		return fs.readFileSync(gw.log, 'utf8').split('\n').slice(-40)
		    .join('\n');
	} catch {
		return '';
	}
}

before(async () => {
	assert.ok(fs.existsSync(BIN), `build postern first: ${BIN}`);
	tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'postern-browser-'));
	shots = process.env.POSTERN_BROWSER_SHOTS ?? path.join(tmp, 'shots');
	fs.mkdirSync(shots, { recursive: true });

	// Redis: private, nothing on disk.
	const redisPort = await freePort();
	fs.mkdirSync(path.join(tmp, 'redis'));
	const redis = start('redis-server', 'redis-server', ['--port',
	    String(redisPort), '--bind', '127.0.0.1', '--dir',
	    path.join(tmp, 'redis'), '--save', '', '--appendonly', 'no',
	    '--protected-mode', 'yes']);
	// The demo upstream.
	const upPort = await freePort();
	const up = start('demo upstream', '/usr/bin/python3', [UPSTREAM,
	    '--port', String(upPort)]);

	// A self-signed EC P-256 certificate for localhost and 127.0.0.1.
	const crt = path.join(tmp, 'cert.pem'), key = path.join(tmp, 'key.pem');
	run('openssl', ['req', '-x509', '-newkey', 'ec', '-pkeyopt',
	    'ec_paramgen_curve:prime256v1', '-nodes', '-days', '2', '-subj',
	    '/CN=localhost', '-addext',
	    'subjectAltName=DNS:localhost,IP:127.0.0.1', '-keyout', key,
	    '-out', crt]);
	fs.chmodSync(key, 0o600);
	// The gateway's 32-byte secret.
	const secret = path.join(tmp, 'secret');
	fs.writeFileSync(secret, crypto.randomBytes(32), { mode: 0o600 });
	fs.chmodSync(secret, 0o600);

	const [https, http, admin] = [await freePort(), await freePort(),
	    await freePort()];
	fs.writeFileSync(path.join(tmp, 'app.yaml'), [
		'app:',
		'  name: demo',
		'  hosts: [localhost, 127.0.0.1]',
		`  upstream: http://127.0.0.1:${upPort}`,
		'  protect: true',
		''].join('\n'));
	const cfg = path.join(tmp, 'postern.yaml');
	fs.writeFileSync(cfg, [
		'server:',
		'  workers: 2',
		'  listen:',
		`    - address: "127.0.0.1:${https}"`,
		'      tls: true',
		`    - address: "127.0.0.1:${http}"`,
		'      tls: false',
		`  admin: "127.0.0.1:${admin}"`,
		'tls:',
		'  certificates:',
		`    - cert: ${crt}`,
		`      key: ${key}`,
		'redis:',
		`  address: "127.0.0.1:${redisPort}"`,
		'log:',
		'  level: debug',
		'policies:',
		'  - app.yaml',
		`secret_file: ${secret}`,
		'assertion:',
		`  key_file: ${path.join(tmp, 'assertion.pem')}`,
		'  issuer: https://gw.test',
		''].join('\n'));

	await waitPort(redisPort, redis, 'redis-server');
	await waitPort(upPort, up, 'demo upstream');
	run(BIN, ['keys', 'generate', '-c', cfg]);
	run(BIN, ['user', 'add', '-c', cfg, EMAIL], `${PASSWORD}\n${PASSWORD}\n`);

	gw = { port: https, url: `https://localhost:${https}`,
	    log: path.join(tmp, 'postern.log') };
	const serve = start('postern serve', BIN, ['serve', '-c', cfg], gw.log);
	try {
		await waitPort(https, serve, 'postern serve');
	} catch (e) {
		e.message += '\n' + gatewayLog();
		throw e;
	}

	browser = await chromium.launch({
		executablePath: CHROMIUM,
		timeout: 20_000,
		args: ['--headless', '--no-sandbox', '--disable-gpu',
		    '--disable-quic', '--no-first-run',
		    '--disable-background-networking',
		    '--disable-component-update', '--disable-sync',
		    '--ignore-certificate-errors'],
	});
}, { timeout: 45_000 });

after(async () => {
	try {
		if (browser)
			await Promise.race([browser.close(), sleep(5_000)]);
	} finally {
		// The gateway first (it holds Redis and upstream connections).
		for (const p of [...procs].reverse())
			await stop(p);
		if (tmp && !process.env.POSTERN_BROWSER_KEEP)
			fs.rmSync(tmp, { recursive: true, force: true });
	}
}, { timeout: 30_000 });

// A fresh browser context (own cookies) whose pages record console errors
// and CSP violations, with bounded waits.
async function newContext(options = {}) {
	const context = await browser.newContext({ ignoreHTTPSErrors: true,
	    ...options });
	context.setDefaultTimeout(STEP);
	context.setDefaultNavigationTimeout(STEP);
	context.problems = [];
	await context.exposeBinding('__posternCsp', ({ page }, v) => {
		context.problems.push(`CSP violation on ${page.url()}: ${v}`);
	});
	await context.addInitScript(() => {
		document.addEventListener('securitypolicyviolation', (e) => {
			window.__posternCsp(`${e.violatedDirective} blocked ` +
			    `${e.blockedURI || '(inline)'} ` +
			    `at ${e.sourceFile}:${e.lineNumber} ` +
			    `(${e.disposition})`);
		});
	});
	context.on('page', (page) => watch(context, page));
	return context;
}

function watch(context, page) {
	page.on('console', (msg) => {
		if (msg.type() === 'error' || msg.type() === 'warning')
			context.problems.push(`console ${msg.type()} on ` +
			    `${page.url()}: ${msg.text()}`);
	});
	page.on('pageerror', (err) => {
		context.problems.push(`page error on ${page.url()}: ${err}`);
	});
}

async function withContext(options, fn) {
	const context = await newContext(options);
	try {
		return await fn(context, await context.newPage());
	} catch (e) {
		e.message += `\n--- problems: ${JSON.stringify(context.problems)}` +
		    `\n--- gateway log tail:\n${gatewayLog()}`;
		throw e;
	} finally {
		await Promise.race([context.close(), sleep(5_000)]);
	}
}

// Fill the sign-in form in place and submit it with Enter; resolves with
// the response to the POST.
async function submitLogin(page, email, password) {
	await page.getByLabel('Email').fill(email);
	await page.getByLabel('Password').fill(password);
	const [resp] = await Promise.all([
		page.waitForResponse((r) =>
		    new URL(r.url()).pathname === '/.postern/login' &&
		    r.request().method() === 'POST'),
		page.getByLabel('Password').press('Enter'),
	]);
	await page.waitForLoadState('load');
	return resp;
}

async function signIn(page, rd = '/') {
	await page.goto(`${gw.url}/.postern/login?rd=${encodeURIComponent(rd)}`);
	const resp = await submitLogin(page, EMAIL, PASSWORD);
	assert.equal(resp.status(), 303, 'sign-in answers 303');
	await page.waitForURL((u) => u.pathname === new URL(rd, gw.url).pathname);
}

function pageHeaders(resp, what) {
	const h = resp.headers();
	assert.match(h['content-security-policy'] ?? '',
	    /frame-ancestors 'none'/, `${what}: CSP with frame-ancestors`);
	assert.match(h['cache-control'] ?? '', /no-store/,
	    `${what}: Cache-Control: no-store`);
	assert.match(h['content-type'] ?? '', /^text\/html/,
	    `${what}: an HTML page`);
}

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
	const problems = context.problems.filter((p) =>
	    // Chromium logs every 4xx document load; those statuses are the
	    // point of these pages, not an error in them.
	    !/Failed to load resource: the server responded with a status of 4\d\d/
		.test(p));
	assert.deepEqual(problems, []);

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
	const button = page.getByRole('button', { name: 'Sign out' });
	await Promise.all([
		page.waitForResponse((r) =>
		    new URL(r.url()).pathname === '/.postern/logout' &&
		    r.status() === 303),
		button.click(),
	]);
	await page.waitForURL((u) => u.pathname === '/.postern/login');
	await page.getByLabel('Email').waitFor();
	await page.getByLabel('Password').waitFor();
	assert.ok(!(await context.cookies(gw.url)).some((c) =>
	    c.name === COOKIE), 'the session cookie is gone');
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
