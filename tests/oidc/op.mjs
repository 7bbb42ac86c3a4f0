// A real OpenID Provider for Postern's SSO tests: the npm package
// oidc-provider (a certified implementation), on loopback, configured by a
// JSON file the test fixture writes (tests/integration/oidcop.py).
//
//   node tests/oidc/op.mjs CONFIG.json
//
// prints "READY <issuer>" once it listens on 127.0.0.1:<port>, and stops on
// SIGTERM or SIGINT.  Plain HTTP: Postern allows http:// issuers only on
// loopback, which is where this runs.
//
// The configuration:
//   port, issuer              where it listens, what it calls itself
//   jwks                      {keys: [...]} the signing keys, WITH their
//                             private parts (the fixture keeps them too, to
//                             sign forgeries the way this provider would)
//   clients                   [oidc-provider client metadata, snake_case:
//                             client_id, client_secret, redirect_uris,
//                             post_logout_redirect_uris,
//                             backchannel_logout_uri,
//                             token_endpoint_auth_method (private_key_jwt
//                             with a public jwks), id_token_signed_response_alg]
//   accounts                  {login name: {sub, email, email_verified, name,
//                             hd, groups, amr, acr, any other claim}}; the
//                             login name is what the sign-in page asks for
//   ca_file                   (optional) CAs for back-channel logout POSTs to
//                             an https:// RP with a self-signed certificate
//   ttl                       (optional) oidc-provider ttl overrides, seconds
//
// Every claim of an account except amr and acr is in the id_token (like
// Google's hd): the relying party under test reads only the id_token.
// amr and acr are the sign-in's, from the account; auth_time is always
// there, sid when the client has a backchannel_logout_uri.  PKCE S256 is required
// of every client.  The sign-in pages are this file's own (below): a login
// form whose "Login" is an account's login name, a consent form, both plain
// HTML without scripts, fonts or other outside resources.
//
// Test controls, under /__test/ (loopback only, JSON in and out):
//   POST /__test/clients        {clients}: these clients from now on (the
//                               RP's redirect URIs are known once it runs)
//   POST /__test/reset          {clients, jwks}: as if just started with
//                               these (up, nothing queued, counted or
//                               issued), for a provider shared by tests
//   POST /__test/rotate         {jwks}: the signing keys from now on (the
//                               first key of an alg signs; JWKS shows all)
//   POST /__test/next-id-token  {id_token}: the token endpoint's next
//                               successful answer carries this id_token
//                               verbatim (queued; {id_token: null} clears)
//   GET  /__test/hits           {path: requests} since start or reset
//   POST /__test/hits/reset
//   POST /__test/down           {status: 503} every other request gets that
//                               status; {hang: true}: no answer at all
//   POST /__test/up             back to normal (hung requests stay hung
//                               until their client gives up)
//   POST /__test/cache          {cache_control}: that Cache-Control header on
//                               discovery and JWKS answers (null: none,
//                               the default)
//   GET  /__test/issued         the claims of every id_token the token
//                               endpoint answered with, oldest first
//   POST /__test/backchannel-logout {client_id, sub, sid}: send the client
//                               a logout token now (sid omitted: the sid of
//                               the last id_token issued to sub for it);
//                               answers {status} of the RP's reply, or
//                               {error}
import fs from 'node:fs';
import http from 'node:http';
import https from 'node:https';
import crypto from 'node:crypto';

import Provider from 'oidc-provider';
import initializeKeystore from
    'oidc-provider/lib/helpers/initialize_keystore.js';

const conf = JSON.parse(fs.readFileSync(process.argv[2], 'utf8'));
const { issuer, port } = conf;
const cookieKey = crypto.randomBytes(32).toString('base64url');
const NOT_IN_ID_TOKEN = new Set(['amr', 'acr', 'sub', 'login']);

const accounts = new Map();	// sub -> account
const logins = new Map();	// login name -> sub
for (const [login, a] of Object.entries(conf.accounts ?? {})) {
	const sub = a.sub ?? login;
	accounts.set(sub, a);
	logins.set(login, sub);
}
const extraClaims = [...new Set([...accounts.values()].flatMap((a) =>
    Object.keys(a)).filter((c) => !NOT_IN_ID_TOKEN.has(c) &&
    !['email', 'email_verified', 'name'].includes(c)))];

const state = {
	down: null,		// null, or {status} or {hang: true}
	cacheControl: null,	// on discovery and JWKS answers
	nextIdTokens: [],
	hits: {},
	issued: [],		// id_token claims, oldest first
};

const esc = (s) => String(s).replace(/[&<>"']/g, (c) =>
    `&#${c.charCodeAt(0)};`);

function page(res, status, title, body) {
	res.statusCode = status;
	res.setHeader('Content-Type', 'text/html; charset=utf-8');
	res.setHeader('Cache-Control', 'no-store');
	res.end(`<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8"><title>${esc(title)}</title>
</head><body><main><h1>${esc(title)}</h1>
${body}
</main></body></html>
`);
}

function findAccount(ctx, sub) {
	const a = accounts.get(sub);
	if (!a)
		return undefined;
	return {
		accountId: sub,
		async claims() {
			const c = { sub };
			for (const [k, v] of Object.entries(a))
				if (!NOT_IN_ID_TOKEN.has(k))
					c[k] = v;
			return c;
		},
	};
}

function httpOptions(url) {
	if (url.protocol === 'https:' && conf.ca_file)
		return { agent: new https.Agent({
		    ca: fs.readFileSync(conf.ca_file) }) };
	return {};
}

// A provider for <clients> and the current signing keys.  /__test/clients
// builds a new one; sessions, grants and codes live in oidc-provider's
// memory adapter, which is shared by all, so a flow under way survives.
function makeProvider(clients) {
	const p = new Provider(issuer, {
		clients,
		jwks: conf.jwks,
		findAccount,
		claims: {
			sid: null,
			iss: null,
			openid: ['sub', 'acr', 'amr', 'auth_time',
			    ...extraClaims],
			email: ['email', 'email_verified'],
			profile: ['name'],
		},
		// Scope-requested claims go into the id_token, not only
		// userinfo.
		conformIdTokenClaims: false,
		clientBasedCORS: () => false,
		cookies: { keys: [cookieKey] },
		features: {
			devInteractions: { enabled: false },
			rpInitiatedLogout: {
				enabled: true,
				logoutSource,
				postLogoutSuccessSource,
			},
			backchannelLogout: { enabled: true },
		},
		pkce: { methods: ['S256'], required: () => true },
		responseTypes: ['code'],
		interactions: {
			url: (ctx, i) => `/interaction/${i.uid}`,
		},
		httpOptions,
		renderError,
		ttl: { ...(conf.ttl ?? {}) },
	});
	p.proxy = false;
	p.use(deliver);
	p.on('server_error', (ctx, e) =>
	    console.error(`op: server_error: ${e.stack ?? e}`));
	p.on('backchannel.error', (ctx, e) =>
	    console.error(`op: backchannel.error: ${e.message}`));
	return p;
}

// Record every id_token issued; deliver the queued forgery, if any.  Give
// discovery and JWKS the Cache-Control asked for.
async function deliver(ctx, next) {
	await next();
	if (state.cacheControl !== null && ctx.status === 200 &&
	    (ctx.path === '/jwks' ||
	    ctx.path === '/.well-known/openid-configuration'))
		ctx.set('Cache-Control', state.cacheControl);
	if (ctx.method !== 'POST' || ctx.path !== '/token' ||
	    ctx.status !== 200 || typeof ctx.body?.id_token !== 'string')
		return;
	const [, payload] = ctx.body.id_token.split('.');
	state.issued.push(JSON.parse(Buffer.from(payload, 'base64url')));
	if (state.nextIdTokens.length > 0)
		ctx.body = { ...ctx.body, id_token: state.nextIdTokens.shift() };
}

async function logoutSource(ctx, form) {
	ctx.body = `<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8"><title>Sign out</title></head>
<body><main><h1>Sign out</h1>${form}
<button type="submit" form="op.logoutForm" name="logout" value="yes">Yes, sign me out</button>
<button type="submit" form="op.logoutForm">No, stay signed in</button>
</main></body></html>`;
}

async function postLogoutSuccessSource(ctx) {
	ctx.body = `<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8"><title>Signed out</title></head>
<body><main><h1>Signed out</h1></main></body></html>`;
}

async function renderError(ctx, out) {
	ctx.type = 'html';
	ctx.body = `<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8"><title>Error</title></head>
<body><main><h1>Error</h1><p id="error">${esc(out.error)}</p>
<p id="error_description">${esc(out.error_description ?? '')}</p>
</main></body></html>`;
}

// The sign-in pages: GET /interaction/UID shows the login or consent form,
// POST /interaction/UID/{login,consent,abort} finishes that step.
function readForm(req) {
	return new Promise((resolve, reject) => {
		let body = '';
		req.setEncoding('utf8');
		req.on('data', (d) => {
			body += d;
			if (body.length > 65536)
				reject(new Error('form too large'));
		});
		req.on('end', () => resolve(new URLSearchParams(body)));
		req.on('error', reject);
	});
}

function loginForm(uid, error) {
	return `${error ? `<p role="alert">${esc(error)}</p>` : ''}
<form method="post" action="/interaction/${esc(uid)}/login">
<label for="login">Login</label>
<input id="login" name="login" autocomplete="username" autofocus required>
<button type="submit">Sign in</button>
</form>
<form method="post" action="/interaction/${esc(uid)}/abort">
<button type="submit">Cancel</button>
</form>`;
}

function consentForm(uid, client, details) {
	const scopes = details.missingOIDCScope ?? [];
	return `<p>${esc(client?.clientName ?? client?.clientId ?? '')} asks for:
${esc(scopes.join(' '))}</p>
<form method="post" action="/interaction/${esc(uid)}/consent">
<button type="submit">Allow</button>
</form>
<form method="post" action="/interaction/${esc(uid)}/abort">
<button type="submit">Deny</button>
</form>`;
}

async function interaction(req, res, path) {
	const [, , uid, action] = path.split('/');
	const details = await provider.interactionDetails(req, res);
	if (details.uid !== uid)
		return page(res, 400, 'Error', '<p>Wrong interaction.</p>');
	const { prompt, params, session, grantId } = details;
	if (req.method === 'GET' && action === undefined) {
		if (prompt.name === 'login')
			return page(res, 200, 'Sign in', loginForm(uid));
		const client = await provider.Client.find(params.client_id);
		return page(res, 200, 'Authorize',
		    consentForm(uid, client, prompt.details));
	}
	if (req.method !== 'POST')
		return page(res, 405, 'Error', '<p>Method not allowed.</p>');
	const form = await readForm(req);
	if (action === 'abort')
		return provider.interactionFinished(req, res, {
		    error: 'access_denied',
		    error_description: 'End-User aborted interaction' },
		    { mergeWithLastSubmission: false });
	if (action === 'login' && prompt.name === 'login') {
		const sub = logins.get(form.get('login') ?? '');
		if (sub === undefined)
			return page(res, 200, 'Sign in',
			    loginForm(uid, 'No such account.'));
		const a = accounts.get(sub);
		return provider.interactionFinished(req, res, { login: {
		    accountId: sub, amr: a.amr, acr: a.acr } },
		    { mergeWithLastSubmission: false });
	}
	if (action === 'consent' && prompt.name === 'consent') {
		const grant = grantId ? await provider.Grant.find(grantId) :
		    new provider.Grant({ accountId: session.accountId,
		    clientId: params.client_id });
		const d = prompt.details;
		if (d.missingOIDCScope)
			grant.addOIDCScope(d.missingOIDCScope.join(' '));
		if (d.missingOIDCClaims)
			grant.addOIDCClaims(d.missingOIDCClaims);
		for (const [ind, sc] of Object.entries(
		    d.missingResourceScopes ?? {}))
			grant.addResourceScope(ind, sc.join(' '));
		return provider.interactionFinished(req, res,
		    { consent: { grantId: await grant.save() } },
		    { mergeWithLastSubmission: true });
	}
	return page(res, 400, 'Error', '<p>Not this step.</p>');
}

// The test controls.
function json(res, status, obj) {
	res.statusCode = status;
	res.setHeader('Content-Type', 'application/json');
	res.end(JSON.stringify(obj));
}

async function readJson(req) {
	const form = [];
	for await (const chunk of req)
		form.push(chunk);
	const text = Buffer.concat(form).toString('utf8');
	return text ? JSON.parse(text) : {};
}

async function backchannelLogout({ client_id: clientId, sub, sid }) {
	const client = await provider.Client.find(clientId);
	if (!client || !client.backchannelLogoutUri)
		return { error: 'no such client with a backchannel_logout_uri' };
	if (sid === undefined) {
		const last = state.issued.findLast((c) => c.sub === sub &&
		    c.aud === clientId);
		sid = last?.sid;
	}
	try {
		await client.backchannelLogout(sub, sid);
		return { status: 200, sid };
	} catch (e) {
		return { status: e.response?.statusCode ?? null, sid,
		    error: e.message };
	}
}

async function control(req, res, path) {
	const body = req.method === 'POST' ? await readJson(req) : {};
	switch (`${req.method} ${path}`) {
	case 'POST /__test/clients':
		provider = makeProvider(body.clients);
		handler = provider.callback();
		return json(res, 200, { clients: body.clients.length });
	case 'POST /__test/reset':
		Object.assign(state, { down: null, nextIdTokens: [], hits: {},
		    issued: [], cacheControl: null });
		conf.jwks = body.jwks;
		provider = makeProvider(body.clients);
		handler = provider.callback();
		return json(res, 200, {});
	case 'POST /__test/rotate':
		initializeKeystore.call(provider, body.jwks);
		conf.jwks = body.jwks;
		return json(res, 200, { kids: body.jwks.keys.map((k) => k.kid) });
	case 'POST /__test/next-id-token':
		if (body.id_token === null)
			state.nextIdTokens = [];
		else
			state.nextIdTokens.push(body.id_token);
		return json(res, 200, { queued: state.nextIdTokens.length });
	case 'GET /__test/hits':
		return json(res, 200, state.hits);
	case 'POST /__test/hits/reset':
		state.hits = {};
		return json(res, 200, {});
	case 'POST /__test/down':
		state.down = body.hang ? { hang: true } :
		    { status: body.status ?? 503 };
		return json(res, 200, state.down);
	case 'POST /__test/up':
		state.down = null;
		return json(res, 200, {});
	case 'POST /__test/cache':
		state.cacheControl = body.cache_control ?? null;
		return json(res, 200, {});
	case 'GET /__test/issued':
		return json(res, 200, state.issued);
	case 'POST /__test/backchannel-logout':
		return json(res, 200, await backchannelLogout(body));
	default:
		return json(res, 404, { error: 'no such control' });
	}
}

let provider = makeProvider(conf.clients ?? []);
let handler = provider.callback();
const server = http.createServer((req, res) => {
	const path = new URL(req.url, issuer).pathname;
	const from = req.socket.remoteAddress;
	const work = async () => {
		if (path.startsWith('/__test/')) {
			if (from !== '127.0.0.1' && from !== '::1' &&
			    from !== '::ffff:127.0.0.1')
				return json(res, 403, { error: 'loopback only' });
			return control(req, res, path);
		}
		state.hits[path] = (state.hits[path] ?? 0) + 1;
		if (state.down?.hang)
			return undefined;
		if (state.down)
			return json(res, state.down.status,
			    { error: 'temporarily_unavailable' });
		if (path.startsWith('/interaction/'))
			return interaction(req, res, path);
		return handler(req, res);
	};
	work().catch((e) => {
		console.error(`op: ${req.method} ${path}: ${e.stack ?? e}`);
		if (!res.headersSent)
			page(res, 500, 'Error', `<p>${esc(e.message)}</p>`);
		else
			res.destroy();
	});
});

server.listen(port, '127.0.0.1', () => {
	console.log(`READY ${issuer}`);
});
for (const sig of ['SIGTERM', 'SIGINT'])
	process.on(sig, () => {
		server.closeAllConnections();
		server.close(() => process.exit(0));
		setTimeout(() => process.exit(0), 1000).unref();
	});
