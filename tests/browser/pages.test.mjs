// The gateway's error pages in a real browser (Debian's headless
// Chromium): every page has the sign-in pages' design, fits a 390 px phone
// without horizontal scrolling, shows the logo the gateway serves from
// branding.logo_file (its CSP allows it: naturalWidth > 0), and raises no
// console error or CSP violation.  Screenshots at desktop and phone width.
//
// Run: POSTERN_BIN=build/gateway/postern node --test tests/browser/
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import zlib from 'node:zlib';

import { Stack, TEST, realProblems, watchdog } from './harness.mjs';

watchdog('pages.test.mjs', 110_000);

const stack = new Stack('pages');
let gw;
let shots;

// A real 8x8 PNG in the brand colour.
function png() {
	const crcTable = Array.from({ length: 256 }, (_, n) => {
		let c = n;
		for (let k = 0; k < 8; k++)
			c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
		return c >>> 0;
	});
	const crc = (b) => {
		let c = 0xffffffff;
		for (const x of b)
			c = crcTable[(c ^ x) & 0xff] ^ (c >>> 8);
		return (c ^ 0xffffffff) >>> 0;
	};
	const chunk = (type, data) => {
		const len = Buffer.alloc(4);
		len.writeUInt32BE(data.length);
		const td = Buffer.concat([Buffer.from(type), data]);
		const c = Buffer.alloc(4);
		c.writeUInt32BE(crc(td));
		return Buffer.concat([len, td, c]);
	};
	const ihdr = Buffer.alloc(13);
	ihdr.writeUInt32BE(8, 0);
	ihdr.writeUInt32BE(8, 4);
	ihdr[8] = 8;
	ihdr[9] = 2;
	const row = Buffer.concat([Buffer.from([0]),
	    Buffer.from(Array(8).fill([0xaa, 0x33, 0x11]).flat())]);
	const raw = Buffer.concat(Array(8).fill(row));
	return Buffer.concat([Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a,
	    0x1a, 0x0a]), chunk('IHDR', ihdr), chunk('IDAT',
	    zlib.deflateSync(raw)), chunk('IEND', Buffer.alloc(0))]);
}

before(async () => {
	await stack.start({
		app: ['  routes:', '    - path: /burst/**', '      public: true',
		    '      rate_limit: burst', '    - path: /boss/{org}/**',
		    '      role: executive', '    - path: /**',
		    '      authenticated: true'].join('\n'),
		extra: ['roles: [owner, executive, member]',
		    'branding:', '  product_name: Acme Portal',
		    '  color: "#aa3311"', '  logo_file: logo.png',
		    'timeouts:', '  upstream_response: 400ms',
		    'rate_limits:', '  classes:',
		    '    burst: {limit: 1, period: 90s}'],
		files: { 'logo.png': png() },
	});
	gw = stack.gw;
	shots = stack.shots;
}, { timeout: 45_000 });

after(() => stack.stop(), { timeout: 30_000 });

const PAGES = [
	// [name, path, status, heading]
	['signin', '/.postern/login', 200, 'Sign in to Acme Portal'],
	['404', '/.postern/nothing-here', 404, 'Page not found'],
	['429', '/burst/x', 429, 'Please wait'],
	// signed in from here on
	['502', '/headers?set=X-Bad:a%01b', 502, 'App unreachable'],
	['504', '/slow?ms=3000', 504, 'App did not answer'],
	['403', '/boss/acme/x', 403, 'Access denied'],
];

async function checkPage(context, page, [name, url, status, heading], w) {
	const resp = await page.goto(gw.url + url);
	assert.equal(resp.status(), status, `${name}: status`);
	assert.equal(await page.locator('h1').first().textContent(), heading);
	const m = await page.evaluate(() => ({
		scroll: document.documentElement.scrollWidth,
		logo: document.querySelector('img.logo')?.naturalWidth ?? -1,
		font: getComputedStyle(document.body).fontFamily,
		brand: getComputedStyle(document.documentElement)
		    .getPropertyValue('--brand').trim(),
	}));
	assert.ok(m.scroll <= w, `${name}: no horizontal scrolling at ${w} ` +
	    `px (${m.scroll})`);
	assert.ok(m.logo > 0, `${name}: the logo is shown`);
	assert.match(m.font, /system-ui/, `${name}: the pages' font`);
	assert.equal(m.brand, '#aa3311', `${name}: the brand colour`);
	await page.screenshot({ path: path.join(shots, `page-${name}-${w}.png`),
	    fullPage: true });
	// a 5xx document load is logged like a 4xx one: the point of the page
	// (the logo's own load is checked by its naturalWidth above)
	assert.deepEqual(realProblems(context).filter((p) => !/Failed to load resource: the server responded with a status of 5\d\d/.test(p)), [],
	    `${name}: no problems`);
}

for (const width of [1280, 390]) {
	test(`every page at ${width} px: one design, logo, no overflow`,
	    { timeout: 2 * TEST }, () => stack.withContext({
		viewport: { width, height: 800 } }, async (context, page) => {
		for (const p of PAGES) {
			if (p[0] === '502')
				await stack.signIn(page, { rd: '/' });
			if (p[0] === '429')	/* the first one passes */
				await page.goto(gw.url + p[1]);
			await checkPage(context, page, p, width);
		}
		// the 403 names the account and offers the way out
		await page.goto(gw.url + '/boss/acme/x');
		assert.match(await page.locator('main').textContent(),
		    new RegExp(`signed in as ${stack.email.replace('.', '\\.')}`));
		assert.equal(await page.getByRole('link', {
		    name: 'Sign out / use another account' })
		    .getAttribute('href'), '/.postern/logout');
		assert.equal(await page.getByRole('link', {
		    name: 'Back to the app' }).getAttribute('href'), '/');
	}));
}

test('the logo is served by the gateway, cacheable by its hash',
    { timeout: TEST }, () => stack.withContext({}, async (context, page) => {
	await page.goto(gw.url + '/.postern/nothing');
	const src = await page.locator('img.logo').getAttribute('src');
	assert.match(src, /^\/\.postern\/static\/logo\?v=[0-9a-f]{16}$/);
	const r = await page.request.get(gw.url + src);
	assert.equal(r.status(), 200);
	assert.equal(r.headers()['content-type'], 'image/png');
	assert.ok(fs.existsSync(path.join(stack.tmp, 'logo.png')));
	assert.deepEqual(Buffer.from(await r.body()),
	    fs.readFileSync(path.join(stack.tmp, 'logo.png')));
}));
