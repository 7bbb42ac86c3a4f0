// The pages in German in a real browser (Debian's headless Chromium): a
// context with locale de-DE gets every page in German (html lang="de"),
// a context with locale en-US the English pages.  Every error page
// (404, 421 for a host no app serves, 429, 403, 502, 504 and 503 with
// Redis stopped), the sign-in, sign-out, account and two-step setup
// pages: no horizontal scrolling at 390 px, the logo shown, no console
// error or CSP violation.  Screenshots at desktop and phone width.
//
// Run: POSTERN_BIN=build/gateway/postern node --test tests/browser/
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import path from 'node:path';

import { NO_APP_HOST, PASSWORD, Stack, TEST, realProblems, watchdog } from
    './harness.mjs';

watchdog('i18n.test.mjs', 150_000);

const stack = new Stack('i18n');
let gw;

// A square in the brand colour: the logo the pages show.
const SVG = '<svg xmlns="http://www.w3.org/2000/svg" width="48" ' +
    'height="48"><rect width="48" height="48" fill="#aa3311"/></svg>\n';

before(async () => {
	await stack.start({
		app: ['  routes:', '    - path: /burst/**', '      public: true',
		    '      rate_limit: burst', '    - path: /boss/{org}/**',
		    '      role: executive', '    - path: /**',
		    '      authenticated: true'].join('\n'),
		extra: ['roles: [owner, executive, member]',
		    'branding:', '  product_name: Acme Portal',
		    '  color: "#aa3311"', '  logo_file: logo.svg',
		    'timeouts:', '  upstream_response: 400ms',
		    'rate_limits:', '  classes:',
		    '    burst: {limit: 1, period: 90s}'],
		files: { 'logo.svg': SVG },
	});
	gw = stack.gw;
}, { timeout: 45_000 });

after(() => stack.stop(), { timeout: 30_000 });

const noApp = () => gw.url.replace('localhost', NO_APP_HOST);

// [name, url, status, German heading, English heading]
const PAGES = [
	['signin', () => gw.url + '/.postern/login', 200,
	    'Bei Acme Portal anmelden', 'Sign in to Acme Portal'],
	['404', () => gw.url + '/.postern/nothing-here', 404,
	    'Seite nicht gefunden', 'Page not found'],
	['421', () => noApp() + '/x', 421, 'Keine Anwendung hier',
	    'No app here'],
	['429', () => gw.url + '/burst/x', 429, 'Bitte warten',
	    'Please wait'],
	// signed in from here on
	['403', () => gw.url + '/boss/acme/x', 403, 'Zugriff verweigert',
	    'Access denied'],
	['502', () => gw.url + '/headers?set=X-Bad:a%01b', 502,
	    'Anwendung nicht erreichbar', 'App unreachable'],
	['504', () => gw.url + '/slow?ms=3000', 504,
	    'Anwendung antwortet nicht', 'App did not answer'],
	['signout', () => gw.url + '/.postern/logout?rd=/', 200,
	    'Von Acme Portal abmelden?', 'Sign out of Acme Portal?'],
	['account', () => gw.url + '/.postern/account', 200, 'Ihr Konto',
	    'Your account'],
	['2fa-setup', () => gw.url + '/.postern/2fa/setup', 200,
	    'Zwei-Faktor-Anmeldung einrichten', 'Set up two-step verification'],
];

async function checkPage(context, page, p, lang, w) {
	const [name, url, status] = p;
	const heading = lang === 'de' ? p[3] : p[4];
	const resp = await page.goto(url());
	assert.equal(resp.status(), status, `${name}: status`);
	if (heading !== null)
		assert.equal(await page.locator('h1').first().textContent(),
		    heading, `${name}: heading`);
	const m = await page.evaluate(() => ({
		lang: document.documentElement.lang,
		scroll: document.documentElement.scrollWidth,
		logo: document.querySelector('img.logo')?.naturalWidth ?? -1,
	}));
	assert.equal(m.lang, lang, `${name}: <html lang>`);
	assert.equal(resp.headers()['content-language'], lang,
	    `${name}: Content-Language`);
	assert.ok(m.scroll <= w, `${name}: no horizontal scrolling at ${w} ` +
	    `px (${m.scroll})`);
	assert.ok(m.logo > 0, `${name}: the logo is shown`);
	await page.screenshot({ path: path.join(stack.shots,
	    `i18n-${lang}-${name}-${w}.png`), fullPage: true });
	assert.deepEqual(realProblems(context).filter((x) => !/Failed to load resource: the server responded with a status of 5\d\d/.test(x)), [],
	    `${name}: no problems`);
}

// Sign in through the form in the page's language.
async function signIn(page, lang) {
	const de = lang === 'de';
	await page.goto(gw.url + '/.postern/login?rd=%2F');
	await page.getByLabel(de ? 'E-Mail' : 'Email').fill(stack.email);
	await page.getByLabel(de ? 'Passwort' : 'Password').fill(PASSWORD);
	await Promise.all([
		page.waitForURL((u) => u.pathname === '/'),
		page.getByRole('button', { name: de ? 'Anmelden' :
		    'Sign in' }).click(),
	]);
}

async function everyPage(locale, lang, width) {
	await stack.withContext({ locale, viewport: { width, height: 800 } },
	    async (context, page) => {
		for (const p of PAGES) {
			if (p[0] === '403')
				await signIn(page, lang);
			if (p[0] === '429')	/* the first one passes */
				await page.goto(p[1]());
			await checkPage(context, page, p, lang, width);
		}
	});
}

for (const width of [1280, 390]) {
	test(`German pages at ${width} px by the browser's locale`,
	    { timeout: 3 * TEST }, () => everyPage('de-DE', 'de', width));
}

test('English pages for an English browser', { timeout: 3 * TEST },
    () => everyPage('en-US', 'en', 390));

test('the German sign-in form works and speaks German',
    { timeout: TEST }, () => stack.withContext({ locale: 'de-DE' },
    async (context, page) => {
	await page.goto(gw.url + '/.postern/login');
	await page.getByLabel('E-Mail').fill(stack.email);
	await page.getByLabel('Passwort').fill('wrong password, surely');
	await page.getByRole('button', { name: 'Anmelden' }).click();
	await page.getByRole('alert').waitFor();
	assert.equal(await page.getByRole('alert').textContent(),
	    'E-Mail-Adresse oder Passwort ist falsch.');
	assert.deepEqual(realProblems(context), []);
}));

// Last: it stops this file's Redis.
for (const width of [1280, 390]) {
	test(`503 in German at ${width} px with Redis stopped`,
	    { timeout: 2 * TEST }, () => stack.withContext({ locale: 'de-DE',
	    viewport: { width, height: 800 } }, async (context, page) => {
		if (stack.cookies === undefined)
			await signIn(page, 'de');
		else
			await page.context().addCookies(stack.cookies);
		stack.cookies = await page.context().cookies(gw.url);
		const redis = stack.procs.find((p) => p.what === 'redis-server');
		if (redis.exitCode === null && redis.signalCode === null) {
			redis.kill('SIGTERM');
			await new Promise((r) => redis.once('exit', r));
		}
		await checkPage(context, page, ['503', () => gw.url + '/hello',
		    503, 'Vorübergehend nicht verfügbar', null], 'de', width);
	}));
}
