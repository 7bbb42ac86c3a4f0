// The browser tests' harness: a real redis-server, the demo upstream, an
// SMTP sink (Debian's python3-aiosmtpd), a self-signed certificate, a real
// `postern serve` with one user, and headless Chromium (Debian's, driven by
// playwright-core), all on free loopback ports, all stopped by stop(), pass
// or fail.  Each test file makes its own Stack.
//
// POSTERN_BIN names the binary (scripts/test sets it).  POSTERN_BROWSER_SHOTS
// =DIR keeps screenshots in DIR; POSTERN_BROWSER_KEEP keeps the temp dir.
import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import crypto from 'node:crypto';
import fs from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

import { chromium } from 'playwright-core';

const HERE = path.dirname(fileURLToPath(import.meta.url));
const ROOT = path.resolve(HERE, '..', '..');
const BIN = path.resolve(process.env.POSTERN_BIN ??
    path.join(ROOT, 'build', 'gateway', 'postern'));
const UPSTREAM = path.join(ROOT, 'scripts', 'demo-upstream.py');
const SMTP_SINK = path.join(HERE, 'smtp_sink.py');
const FRONTPROXY = path.join(ROOT, 'tests', 'integration', 'frontproxy.py');
const CHROMIUM = process.env.CHROMIUM ?? '/usr/bin/chromium';

export const PASSWORD = 'correct horse battery staple 9';
export const COOKIE = '__Host-postern';
export const STEP = 10_000;	// one browser step (navigation, click, wait)
export const TEST = 20_000;	// one test

export const NO_APP_HOST = 'no-app.postern.test';	// resolves to the gateway
export const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

// The whole file is bounded: a hung step past <ms> kills everything.
export function watchdog(file, ms) {
	setTimeout(() => {
		console.error(`${file}: still running after ${ms} ms; stopping`);
		process.exit(1);
	}, ms).unref();
}

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

async function stopProc(p, timeout = 5_000) {
	if (p.exitCode !== null || p.signalCode !== null)
		return;
	const gone = new Promise((r) => p.once('exit', r));
	p.kill('SIGTERM');
	const t = setTimeout(() => p.kill('SIGKILL'), timeout);
	await gone;
	clearTimeout(t);
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

export class Stack {
	constructor(name) {
		this.name = name;
		this.procs = [];	// every child we start, stopped in stop()
		this.email = `${name}-${crypto.randomBytes(5).toString('hex')}` +
		    '@example.com';
		// Belt and braces: no child outlives the file.
		process.on('exit', () => {
			for (const p of this.procs)
				if (p.exitCode === null && p.signalCode === null)
					p.kill('SIGKILL');
		});
	}

	spawn(what, cmd, args, logFile) {
		const out = logFile ? fs.openSync(logFile, 'w') : 'ignore';
		const p = spawn(cmd, args, { cwd: this.tmp,
		    stdio: ['ignore', out, out] });
		if (logFile)
			fs.closeSync(out);
		p.what = what;
		p.on('error', (e) => { p.spawnError = e; });
		this.procs.push(p);
		return p;
	}

	run(cmd, args, input) {
		const r = spawnSync(cmd, args, { cwd: this.tmp, input,
		    encoding: 'utf8', timeout: 30_000 });
		if (r.error || r.status !== 0)
			throw new Error(`${path.basename(cmd)} ${args.join(' ')} ` +
			    `failed (${r.error ?? r.status}): ${r.stderr}`);
		return r;
	}

	// postern with <args> (the config added), for CLI steps.
	postern(args, input) {
		return this.run(BIN, [...args.slice(0, 2), '-c', this.cfg,
		    ...args.slice(2)], input);
	}

	gatewayLog() {
		try {
			return fs.readFileSync(this.gw.log, 'utf8').split('\n')
			    .slice(-40).join('\n');
		} catch {
			return '';
		}
	}

	// Start everything.  <app> is the policy's text after "upstream:",
	// <extra> more postern.yaml lines; <smtp> adds the sink and mail:;
	// <forwardAuth>: the plain listener is a `mode: forward_auth` one
	// (this.gw.plainPort), 127.0.0.1 a trusted proxy.
	// <files>: name -> contents, written beside the configuration.
	async start({ app = '  protect: true', extra = [], smtp = false,
	    forwardAuth = false, files = {} } = {}) {
		assert.ok(fs.existsSync(BIN), `build postern first: ${BIN}`);
		this.tmp = fs.mkdtempSync(path.join(os.tmpdir(),
		    `postern-browser-${this.name}-`));
		for (const [name, data] of Object.entries(files))
			fs.writeFileSync(path.join(this.tmp, name), data);
		this.shots = process.env.POSTERN_BROWSER_SHOTS ??
		    path.join(this.tmp, 'shots');
		fs.mkdirSync(this.shots, { recursive: true });

		// Redis: private, nothing on disk.
		const redisPort = await freePort();
		fs.mkdirSync(path.join(this.tmp, 'redis'));
		const redis = this.spawn('redis-server', 'redis-server',
		    ['--port', String(redisPort), '--bind', '127.0.0.1',
		    '--dir', path.join(this.tmp, 'redis'), '--save', '',
		    '--appendonly', 'no', '--protected-mode', 'yes']);
		// The demo upstream.
		const upPort = this.upPort = await freePort();
		const up = this.spawn('demo upstream', '/usr/bin/python3',
		    [UPSTREAM, '--port', String(upPort)]);
		let smtpPort, sink;
		if (smtp) {
			smtpPort = await freePort();
			this.mailDir = path.join(this.tmp, 'mail');
			fs.mkdirSync(this.mailDir);
			sink = this.spawn('smtp sink', '/usr/bin/python3',
			    [SMTP_SINK, String(smtpPort), this.mailDir]);
		}

		// A self-signed EC P-256 certificate for localhost, 127.0.0.1.
		const crt = this.crt = path.join(this.tmp, 'cert.pem');
		const key = this.key = path.join(this.tmp, 'key.pem');
		this.run('openssl', ['req', '-x509', '-newkey', 'ec', '-pkeyopt',
		    'ec_paramgen_curve:prime256v1', '-nodes', '-days', '30',
		    '-subj', '/CN=localhost', '-addext',
		    'subjectAltName=DNS:localhost,IP:127.0.0.1', '-keyout', key,
		    '-out', crt]);
		fs.chmodSync(key, 0o600);
		// The gateway's 32-byte secret.
		const secret = path.join(this.tmp, 'secret');
		fs.writeFileSync(secret, crypto.randomBytes(32), { mode: 0o600 });
		fs.chmodSync(secret, 0o600);

		const [https, http, admin] = [await freePort(), await freePort(),
		    await freePort()];
		fs.writeFileSync(path.join(this.tmp, 'app.yaml'), [
			'app:',
			'  name: demo',
			'  hosts: [localhost, 127.0.0.1]',
			`  upstream: http://127.0.0.1:${upPort}`,
			app,
			''].join('\n'));
		this.cfg = path.join(this.tmp, 'postern.yaml');
		fs.writeFileSync(this.cfg, [
			'server:',
			'  workers: 2',
			'  listen:',
			`    - address: "127.0.0.1:${https}"`,
			'      tls: true',
			`    - address: "127.0.0.1:${http}"`,
			'      tls: false',
			...(forwardAuth ? ['      mode: forward_auth',
			    '  trusted_proxies: ["127.0.0.1"]'] : []),
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
			`  key_file: ${path.join(this.tmp, 'assertion.pem')}`,
			'  issuer: https://gw.test',
			...(smtp ? ['mail:', `  url: smtp://127.0.0.1:${smtpPort}`,
			    '  starttls: none', '  from: postern@example.com'] : []),
			...extra,
			''].join('\n'));

		await waitPort(redisPort, redis, 'redis-server');
		await waitPort(upPort, up, 'demo upstream');
		if (sink)
			await waitPort(smtpPort, sink, 'smtp sink');
		this.run(BIN, ['keys', 'generate', '-c', this.cfg]);
		this.run(BIN, ['user', 'add', '-c', this.cfg, this.email],
		    `${PASSWORD}\n${PASSWORD}\n`);

		this.gw = { port: https, url: `https://localhost:${https}`,
		    plainPort: http, log: path.join(this.tmp, 'postern.log') };
		const serve = this.spawn('postern serve', BIN, ['serve', '-c',
		    this.cfg], this.gw.log);
		try {
			await waitPort(https, serve, 'postern serve');
		} catch (e) {
			e.message += '\n' + this.gatewayLog();
			throw e;
		}

		this.browser = await chromium.launch({
			executablePath: CHROMIUM,
			timeout: 20_000,
			args: ['--headless', '--no-sandbox', '--disable-gpu',
			    '--disable-quic', '--no-first-run',
			    '--disable-background-networking',
			    '--disable-component-update', '--disable-sync',
			    '--ignore-certificate-errors',
			    // a host name no app serves, for the 421 page
			    `--host-resolver-rules=MAP ${NO_APP_HOST} 127.0.0.1`],
		});
	}

	// A real front proxy (tests/integration/frontproxy.py: nginx or
	// caddy with the configuration of docs/forward-auth.md) on a free
	// port in front of the upstream, asking the forward_auth listener
	// (start({ forwardAuth: true })).  { port, url }.
	async frontProxy(name) {
		const port = await freePort();
		const dir = path.join(this.tmp, name);
		const p = this.spawn(name, '/usr/bin/python3', [FRONTPROXY, name,
		    dir, this.crt, this.key, String(port),
		    String(this.gw.plainPort), String(this.upPort)],
		    path.join(this.tmp, `${name}.log`));
		await waitPort(port, p, name);
		return { port, url: `https://localhost:${port}` };
	}

	async stop() {
		try {
			if (this.browser)
				await Promise.race([this.browser.close(),
				    sleep(5_000)]);
		} finally {
			// The gateway first (it holds Redis and upstream
			// connections).
			for (const p of [...this.procs].reverse())
				await stopProc(p);
			if (!process.env.POSTERN_BROWSER_KEEP)
				for (const d of [this.tmp, ...(this.cleanup ??
				    [])].filter(Boolean))
					fs.rmSync(d, { recursive: true,
					    force: true });
		}
	}

	// A fresh browser context (own cookies) whose pages record console
	// errors and CSP violations, with bounded waits.
	async newContext(options = {}) {
		const context = await this.browser.newContext({
		    ignoreHTTPSErrors: true, ...options });
		context.setDefaultTimeout(STEP);
		context.setDefaultNavigationTimeout(STEP);
		context.problems = [];
		await context.exposeBinding('__posternCsp', ({ page }, v) => {
			context.problems.push(`CSP violation on ${page.url()}: ` +
			    v);
		});
		await context.addInitScript(() => {
			document.addEventListener('securitypolicyviolation',
			    (e) => {
				window.__posternCsp(`${e.violatedDirective} ` +
				    `blocked ${e.blockedURI || '(inline)'} ` +
				    `at ${e.sourceFile}:${e.lineNumber} ` +
				    `(${e.disposition})`);
			});
		});
		context.on('page', (page) => watch(context, page));
		return context;
	}

	async withContext(options, fn) {
		const context = await this.newContext(options);
		try {
			return await fn(context, await context.newPage());
		} catch (e) {
			e.message += '\n--- problems: ' +
			    JSON.stringify(context.problems) +
			    `\n--- gateway log tail:\n${this.gatewayLog()}`;
			throw e;
		} finally {
			await Promise.race([context.close(), sleep(5_000)]);
		}
	}

	// The next mail the sink received for <to> that was not taken yet,
	// and whose subject matches <subject> if given: { to, subject, text }
	// (the text part, decoded).
	async mailFor(to, { subject = null, timeout = 10_000 } = {}) {
		this.taken ??= new Set();
		const deadline = Date.now() + timeout;
		while (Date.now() < deadline) {
			for (const f of fs.readdirSync(this.mailDir).sort()) {
				if (!f.endsWith('.json') || this.taken.has(f))
					continue;
				const m = JSON.parse(fs.readFileSync(
				    path.join(this.mailDir, f), 'utf8'));
				if (m.to.includes(to) &&
				    (subject === null || subject.test(m.subject))) {
					this.taken.add(f);
					return m;
				}
			}
			await sleep(100);
		}
		throw new Error(`no mail to ${to} within ${timeout} ms`);
	}

	// Sign in from the sign-in page with <email>/<password> (this stack's
	// user by default) asking to go to <rd>, and wait for the page the
	// gateway sends the browser to: <to> (a path; rd's path by default).
	async signIn(page, { email = this.email, password = PASSWORD, rd = '/',
	    to } = {}) {
		await page.goto(`${this.gw.url}/.postern/login?rd=` +
		    encodeURIComponent(rd));
		const resp = await submitLogin(page, email, password);
		assert.equal(resp.status(), 303, 'sign-in answers 303');
		const want = to ?? new URL(rd, this.gw.url).pathname;
		await page.waitForURL((u) => u.pathname === want);
	}

	// Sign out with the "Sign out" button of the signed-in sign-in page;
	// resolves once the browser is back on the sign-in form with no
	// session cookie.
	async signOut(page) {
		await page.goto(`${this.gw.url}/.postern/login`);
		await Promise.all([
			page.waitForResponse((r) =>
			    new URL(r.url()).pathname === '/.postern/logout' &&
			    r.status() === 303),
			page.getByRole('button', { name: 'Sign out' }).click(),
		]);
		await page.waitForURL((u) => u.pathname === '/.postern/login');
		await page.getByLabel('Email').waitFor();
		assert.ok(!(await page.context().cookies(this.gw.url)).some((c) =>
		    c.name === COOKIE), 'the session cookie is gone');
	}
}

// A context's recorded problems less Chromium's log line for each 4xx
// document load (those statuses are the point of an error page, not an
// error in it).
export function realProblems(context) {
	return context.problems.filter((p) =>
	    !/Failed to load resource: the server responded with a status of 4\d\d/
		.test(p));
}

// Fill the sign-in form in place and submit it with Enter; resolves with
// the response to the POST.
export async function submitLogin(page, email, password) {
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

export function pageHeaders(resp, what) {
	const h = resp.headers();
	assert.match(h['content-security-policy'] ?? '',
	    /frame-ancestors 'none'/, `${what}: CSP with frame-ancestors`);
	assert.match(h['cache-control'] ?? '', /no-store/,
	    `${what}: Cache-Control: no-store`);
	assert.match(h['content-type'] ?? '', /^text\/html/,
	    `${what}: an HTML page`);
}

// A real OpenID Provider (tests/oidc/op.mjs: npm oidc-provider, installed
// by `npm ci` in tests/oidc) on a free loopback port, started as a child of
// <stack> (stack.stop() stops it) before stack.start(), since the gateway's
// sso: section names its issuer.  <accounts>: {login name: claims}.
// Returns { issuer, dir, register(name, clientId, secret) }: register()
// (after stack.start()) makes the client for the gateway's provider <name>
// with the gateway's callback and back-channel logout URIs.
export async function startProvider(stack, accounts) {
	const opDir = path.join(ROOT, 'tests', 'oidc');
	assert.ok(fs.existsSync(path.join(opDir, 'node_modules',
	    'oidc-provider')), 'npm ci in tests/oidc first');
	const dir = fs.mkdtempSync(path.join(os.tmpdir(),
	    `postern-op-${stack.name}-`));
	const port = await freePort();
	const issuer = `http://127.0.0.1:${port}`;
	const jwk = (kp, kid) => ({ ...kp.privateKey.export({ format: 'jwk' }),
	    kid, use: 'sig' });
	const conf = path.join(dir, 'op.json');
	fs.writeFileSync(conf, JSON.stringify({ port, issuer, accounts,
	    clients: [], jwks: { keys: [
		jwk(crypto.generateKeyPairSync('rsa',
		    { modulusLength: 2048 }), 'rsa1'),
		jwk(crypto.generateKeyPairSync('ec',
		    { namedCurve: 'P-256' }), 'ec1'),
	    ] } }), { mode: 0o600 });
	const op = stack.spawn('openid provider', process.execPath,
	    [path.join(opDir, 'op.mjs'), conf], path.join(dir, 'op.log'));
	await waitPort(port, op, 'openid provider');
	stack.cleanup ??= [];
	stack.cleanup.push(dir);
	return {
		issuer,
		dir,
		log: () => fs.readFileSync(path.join(dir, 'op.log'), 'utf8'),
		async register(name, clientId, secret) {
			const base = [`https://localhost:${stack.gw.port}`,
			    `https://127.0.0.1:${stack.gw.port}`];
			const sso = `/.postern/sso/${name}/`;
			const r = await fetch(`${issuer}/__test/clients`, {
				method: 'POST',
				headers: { 'content-type': 'application/json' },
				body: JSON.stringify({ clients: [{
				    client_id: clientId, client_secret: secret,
				    redirect_uris: base.map((b) =>
					`${b}${sso}callback`),
				    post_logout_redirect_uris: base.map((b) =>
					`${b}/.postern/login`),
				    backchannel_logout_uri:
					`${base[1]}${sso}backchannel-logout`,
				    backchannel_logout_session_required: true,
				    response_types: ['code'],
				    grant_types: ['authorization_code'],
				    token_endpoint_auth_method:
					'client_secret_basic' }] }),
			});
			assert.equal(r.status, 200, 'client registered');
		},
	};
}
