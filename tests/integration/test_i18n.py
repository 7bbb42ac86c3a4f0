"""The pages' languages and templates (gateway/http/catalog.c,
acceptlang.c, pagetmpl.c; pages: in postern.yaml): German chosen by
Accept-Language, English as the fallback, pages.default_language,
pages.catalogue_dir adding a language, pages.templates_dir replacing the
sign-in and error pages, an override naming an unknown value refused at
load with file:line:col, and a reload reading a changed template.

Real gateways in front of the demo upstream, a real redis-server; users
made with the real command-line tools.
"""
import html
import re
import uuid

import pytest
import requests
import urllib3

from conftest import run_postern
from test_auth import PASSWORD, add_user, auth_extra, login, make_key
from test_mfa import mfagw  # noqa: F401
from test_recover import recgw  # noqa: F401
from test_sso import sso_redis, ssogw  # noqa: F401

urllib3.disable_warnings(urllib3.exceptions.InsecureRequestWarning)

ROUTES = """\
  routes:
    - path: /public/**
      public: true
    - path: /**
      authenticated: true
"""


def start(gateway, redis_server, tmp_path, pages=""):
    make_key(tmp_path)
    gw = gateway(extra=auth_extra(tmp_path) + pages, app_extra=ROUTES,
                 redis=redis_server, protect=None)
    gw.email = "i-%s@example.com" % uuid.uuid4().hex[:8]
    add_user(gw, gw.email)
    return gw


def start_with(gateway, redis_server, tmp_path, name, text):
    """A gateway whose pages.templates_dir overrides template <name>."""
    tpl = tmp_path / "pages"
    tpl.mkdir()
    (tpl / name).write_text(text)
    return start(gateway, redis_server, tmp_path,
                 "pages:\n  templates_dir: %s\n" % tpl)


@pytest.fixture
def gw(gateway, redis_server, tmp_path):
    return start(gateway, redis_server, tmp_path)


def page(gw, path, lang=None, host=None, s=None, accept="text/html"):
    h = {"Accept": accept}
    if lang is not None:
        h["Accept-Language"] = lang
    if host:
        h["Host"] = host
    return (s or requests).get(gw.url + path, headers=h, verify=False,
                               timeout=10, allow_redirects=False)


def lang_of(r):
    m = re.search(r'<html lang="([^"]+)">', r.text)
    return m and m.group(1)


def test_german_sign_in_page_by_header(gw):
    r = page(gw, "/.postern/login", "de-DE,de;q=0.9,en;q=0.8")
    assert r.status_code == 200
    assert lang_of(r) == "de"
    assert r.headers["Content-Language"] == "de"
    assert "Accept-Language" in r.headers["Vary"]
    assert "<title>Anmelden - Postern</title>" in r.text
    assert ">Bei Postern anmelden</h1>" in r.text
    assert '<label for="password">Passwort</label>' in r.text
    assert ">Anmelden</button>" in r.text
    assert "Sign in" not in r.text
    # the form still works: the CSRF token and field names are the same
    token = re.search(r'name="csrf" value="([^"]+)"', r.text)
    assert token


@pytest.mark.parametrize("header", [
    None, "", "fr", "fr-CA, it;q=0.5", "de;q=0", "en;q=0.9, de;q=0.1",
    "*;q=0", "de;q=2", "x" * 7000, ",".join(["it"] * 500) + ",de",
])
def test_english_is_the_fallback(gw, header):
    r = page(gw, "/.postern/login", header)
    assert r.status_code == 200
    assert lang_of(r) == "en"
    assert r.headers["Content-Language"] == "en"
    assert ">Sign in to Postern</h1>" in r.text


@pytest.mark.parametrize("header", ["de", "DE", "de-CH", "de-AT;q=0.5",
                                    "fr;q=0.4, de;q=0.6", "*;q=0.1, de"])
def test_german_by_every_spelling(gw, header):
    assert lang_of(page(gw, "/.postern/login", header)) == "de"


def test_error_pages_in_german(gw):
    r = page(gw, "/nowhere", "de", host="nobody.example")
    assert r.status_code == 421
    assert lang_of(r) == "de"
    assert "<h1>Keine Anwendung hier</h1>" in r.text
    assert "Anfrage-ID: <code>%s</code>" % r.headers["X-Request-Id"] in r.text
    assert r.headers["Content-Language"] == "de"
    r = page(gw, "/.postern/nothing-here", "de")
    assert r.status_code == 404 and "<h1>Seite nicht gefunden</h1>" in r.text
    assert "Zurück zur Anwendung" in r.text
    # a program gets the one JSON shape, in English, whatever it asks
    r = page(gw, "/nowhere", "de", host="nobody.example",
             accept="application/json")
    assert r.status_code == 421
    assert r.json()["message"] == "There is no app at this address."
    assert "Content-Language" not in r.headers


def test_signed_in_pages_and_messages_in_german(gw):
    s = requests.Session()
    s.headers["Accept-Language"] = "de"
    r = page(gw, "/.postern/login", s=s)
    token = re.search(r'name="csrf" value="([^"]+)"', r.text).group(1)
    r = s.post(gw.url + "/.postern/login", verify=False, timeout=30,
               allow_redirects=False, headers={"Origin": gw.url},
               data={"email": gw.email, "password": "wrong" + PASSWORD,
                     "csrf": token, "rd": "/"})
    assert r.status_code == 401
    assert "E-Mail-Adresse oder Passwort ist falsch." in r.text
    r = s.post(gw.url + "/.postern/login", verify=False, timeout=30,
               allow_redirects=False, headers={"Origin": gw.url},
               data={"email": "", "password": "", "csrf": token, "rd": "/"})
    assert "Geben Sie Ihre E-Mail-Adresse und Ihr Passwort ein." in r.text
    s, r = login(gw, s=s)
    assert r.status_code in (302, 303)
    r = page(gw, "/.postern/logout?rd=/", s=s)
    assert r.status_code == 200 and lang_of(r) == "de"
    assert ">Von Postern abmelden?</h1>" in r.text
    assert ">Abbrechen</a>" in r.text
    r = page(gw, "/.postern/login", s=s)
    assert "Sie sind angemeldet als %s." % gw.email in r.text


def test_default_language_and_catalogue_dir(gateway, redis_server, tmp_path):
    cat = tmp_path / "lang"
    cat.mkdir()
    (cat / "fr.lang").write_text(
        "# French, partly\nlogin.title = Connexion\n"
        "login.heading = Se connecter \u00e0 {{product}}\n",
        encoding="utf-8")
    (cat / "de.lang").write_text("login.submit = Los\n", encoding="utf-8")
    gw = start(gateway, redis_server, tmp_path,
               "pages:\n  default_language: de\n  catalogue_dir: %s\n" % cat)
    r = page(gw, "/.postern/login")
    assert lang_of(r) == "de" and ">Los</button>" in r.text
    assert ">Bei Postern anmelden</h1>" in r.text   # the rest built in
    r = page(gw, "/.postern/login", "fr-FR")
    assert lang_of(r) == "fr"
    assert "Se connecter \u00e0 Postern" in r.text
    assert ">Email</label>" in r.text       # a missing key: English
    r = page(gw, "/.postern/login", "it")
    assert lang_of(r) == "de"


LOGIN_OVERRIDE = """\
{{alert}}<h1 class="custom">{{t:login.heading}} (custom)</h1>
<form method="post" action="/.postern/login">
<input type="hidden" name="csrf" value="{{csrf}}">
<input type="hidden" name="rd" value="{{rd}}">
<input name="email" value="{{email}}"{{email_attrs}}>
<input name="password" type="password"{{password_attrs}}>
<button>{{t:login.submit}}</button></form>{{links}}
</main></body></html>
"""

ERROR_OVERRIDE = """\
<h1 id="oops">{{title}} / {{status}}</h1><p>{{message}}</p>{{details}}
<p>ref {{request_id}} in {{lang}} at {{product}}</p></main></body></html>
"""


def test_templates_dir_overrides_login_and_error(gateway, redis_server,
                                                  tmp_path):
    tpl = tmp_path / "pages"
    tpl.mkdir()
    (tpl / "login.html").write_text(LOGIN_OVERRIDE)
    (tpl / "error.html").write_text(ERROR_OVERRIDE)
    gw = start(gateway, redis_server, tmp_path,
               "pages:\n  templates_dir: %s\n" % tpl)
    r = page(gw, "/.postern/login", "de")
    assert '<h1 class="custom">Bei Postern anmelden (custom)</h1>' in r.text
    assert r.text.startswith("<!doctype html>")   # the built-in head
    # the override's form signs in like the built-in one
    s, r = login(gw)
    assert r.status_code in (302, 303), r.text
    r = page(gw, "/nowhere", host="nobody.example")
    assert r.status_code == 421
    assert ('<h1 id="oops">No app here / 421</h1>' in r.text)
    assert "ref %s in en at Postern" % r.headers["X-Request-Id"] in r.text
    # values stay escaped in an override
    r = page(gw, "/.postern/login?rd=%22%3E%3Cscript%3E")
    assert "<script>" not in r.text
    # the pages without an override are the built-in ones
    r = page(gw, "/.postern/logout")
    assert ">Sign out of Postern?</h1>" in r.text


@pytest.mark.parametrize("name,text,where,what", [
    ("login.html", "<p>\n  <b>{{csrf}}</b> {{password}}</p>", "2:19",
     "unknown key '{{password}}'"),
    ("error.html", "{{t:login.nope}}", "1:1", "unknown key '{{t:login.nope}}'"),
    ("error.html", "<p>{{title</p>", "1:4", "'{{' without its '}}'"),
    ("head.html", "<html>{{csrf}}", "1:7", "unknown key '{{csrf}}'"),
] + [(name, "<p>{{token}}\n {{back}}</p>", "2:2", "unknown key '{{back}}'")
     for name in ("reset.html", "reset_sent.html", "reset_password.html",
                  "magic.html", "magic_sent.html", "magic_confirm.html")] + [
    ("sso_error.html", "<p>{{back}}\n {{token}}</p>", "2:2",
     "unknown key '{{token}}'"),
    ("notme.html", "<p>{{form}}\n {{back}}</p>", "2:2",
     "unknown key '{{back}}'"),
    ("link_refused.html", "<p>{{again_text}}\n {{token}}</p>", "2:2",
     "unknown key '{{token}}'"),
    ("reset_done.html", "<p>{{alert}}\n {{t:recover.done}} {{csrf}}</p>",
     "2:21", "unknown key '{{csrf}}'"),
    ("reauth.html", "<p>{{signout}}\n {{token}}</p>", "2:2",
     "unknown key '{{token}}'"),
    ("backup_codes.html", "<p>{{codes}}\n {{email}}</p>", "2:2",
     "unknown key '{{email}}'"),
    ("mfa_setup.html", "<p>{{qr}}{{key}}\n {{codes}}</p>", "2:2",
     "unknown key '{{codes}}'"),
    ("mfa_code.html", "<p>{{backup_form}}\n {{email}}</p>", "2:2",
     "unknown key '{{email}}'"),
    ("account.html", "<p>{{sessions}}{{mfa}}\n{{password_form}} {{qr}}",
     "2:19", "unknown key '{{qr}}'"),
])
def test_override_with_unknown_key_refused(tmp_path, tls_cert, gateway,
                                           redis_server, name, text, where,
                                           what):
    from gwproc import write_config
    tpl = tmp_path / "pages"
    tpl.mkdir()
    (tpl / name).write_text(text)
    cfg, _ = write_config(tmp_path, tls_cert, ("127.0.0.1", 1), redis_server,
                          extra="pages:\n  templates_dir: pages\n")
    r = run_postern("check", "-c", str(cfg))
    assert r.returncode == 1
    assert "%s:%s: %s" % (tpl / name, where, what) in r.stderr, r.stderr


@pytest.mark.parametrize("text,where,what", [
    ("login.title = A\nlogin.title = B\n", "2:1",
     "message key 'login.title' given twice"),
    ("login.nope = A\n", "1:1", "unknown message key 'login.nope'"),
    ("login.heading = {{csrf}}\n", "1:17", "{{csrf}} is not a value"),
    ("login.title\n", "1:12", "expected '=' after the key"),
    ("login.title = \xff\n", "1:15", "invalid UTF-8"),
])
def test_bad_catalogue_refused(tmp_path, tls_cert, redis_server, text, where,
                               what):
    from gwproc import write_config
    cat = tmp_path / "lang"
    cat.mkdir()
    (cat / "fr.lang").write_bytes(text.encode("latin-1"))
    cfg, _ = write_config(tmp_path, tls_cert, ("127.0.0.1", 1), redis_server,
                          extra="pages:\n  catalogue_dir: lang\n")
    r = run_postern("check", "-c", str(cfg))
    assert r.returncode == 1
    assert "%s:%s: %s" % (cat / "fr.lang", where, what) in r.stderr, r.stderr


def test_bad_default_language_refused(tmp_path, tls_cert, redis_server):
    from gwproc import write_config
    cfg, _ = write_config(tmp_path, tls_cert, ("127.0.0.1", 1), redis_server,
                          extra="pages:\n  default_language: fr\n")
    r = run_postern("check", "-c", str(cfg))
    assert r.returncode == 1
    assert re.search(r"postern.yaml:\d+:\d+: pages.default_language: no "
                     r"language 'fr'", r.stderr), r.stderr


def test_reload_reads_a_changed_template(gateway, redis_server, tmp_path):
    tpl = tmp_path / "pages"
    tpl.mkdir()
    (tpl / "error.html").write_text(ERROR_OVERRIDE)
    gw = start(gateway, redis_server, tmp_path,
               "pages:\n  templates_dir: %s\n" % tpl)
    assert '<h1 id="oops">' in page(gw, "/x", host="nobody.example").text
    (tpl / "error.html").write_text(ERROR_OVERRIDE.replace("oops", "again"))
    gw.reload()
    r = page(gw, "/x", host="nobody.example")
    assert '<h1 id="again">No app here / 421</h1>' in r.text
    # a broken file on reload keeps the last good templates
    (tpl / "error.html").write_text("{{nope}}")
    gw.reload(expect="reload failed")
    assert '<h1 id="again">' in page(gw, "/x", host="nobody.example").text
    # and a removed file is the built-in page again
    (tpl / "error.html").unlink()
    gw.reload()
    r = page(gw, "/x", host="nobody.example")
    assert "<h1>No app here</h1>" in r.text


def test_account_and_two_step_pages_in_german(gw):
    """The account page's link back, the backup codes' buttons, the
    script's words, the downloaded file and a refused new password: German
    throughout, English for an English browser (the same page's other
    language, so the German is no accident of the build)."""
    import test_mfa as mfa
    mfa.wait_fresh_step()
    s, r = login(gw)
    assert r.status_code in (302, 303)
    s.headers["Accept-Language"] = "de"
    r = page(gw, "/.postern/account?rd=%2Freports", s=s)
    assert r.status_code == 200 and lang_of(r) == "de"
    assert '<p><a href="/reports">Zurück zu demo</a></p>' in r.text
    assert "Back to" not in r.text
    r = page(gw, "/.postern/2fa/setup", s=s)
    assert r.status_code == 200 and lang_of(r) == "de", r.text[:300]
    key = re.search(r'<code class="key">([A-Z2-7 ]+)</code>',
                    r.text).group(1).replace(" ", "")
    r = mfa.post(s, gw, "/.postern/2fa/setup", {"code": mfa.totp(key)},
                 csrf=mfa.csrf_of(r.text))
    assert r.status_code == 200 and lang_of(r) == "de", r.text[:300]
    for text in (r.text, mfa.post(s, gw, "/.postern/account/backup-codes",
                                  {}, csrf=mfa.csrf_of(page(
                                      gw, "/.postern/account",
                                      s=s).text)).text):
        assert 'id="copy" class="secondary">Kopieren</button>' in text
        assert 'data-done="Kopiert"' in text
        assert 'data-failed="Kopieren fehlgeschlagen: ' in text
        assert ">Als Text herunterladen</button>" in text
        for english in ("Copy", "Download as text", "Copied"):
            assert english not in text, english
    form = re.search(r'backup-codes/download">(.*?)</form>', text, re.S)
    fields = dict(re.findall(r'name="([^"]+)" value="([^"]*)"',
                             form.group(1)))
    data = {k: v for k, v in fields.items() if k != "csrf"}
    r = mfa.post(s, gw, "/.postern/account/backup-codes/download", data,
                 csrf=fields["csrf"])
    assert r.status_code == 200 and r.headers["Content-Language"] == "de"
    lines = r.text.splitlines()
    assert lines[:2] == ["Backup-Codes für %s" % gw.email,
                         "Jeder Code meldet Sie einmal an."], lines[:3]
    s.headers["Accept-Language"] = "en"
    r = mfa.post(s, gw, "/.postern/account/backup-codes/download", data,
                 csrf=fields["csrf"])
    assert r.text.splitlines()[:2] == ["Backup codes for %s" % gw.email,
                                       "Each code signs you in once."]
    assert 'data-done="Copied"' in mfa.post(
        s, gw, "/.postern/account/backup-codes", {}, csrf=mfa.csrf_of(
            page(gw, "/.postern/account", s=s).text)).text


@pytest.mark.parametrize("new,german,english", [
    ("password1234", "Das Passwort ist zu verbreitet",
     "the password is too common"),
    ("short 1!", "Das Passwort muss 12 bis",
     "the password must be 12 to"),
    ("Postern rules 9999", "Das Passwort darf den Produktnamen nicht",
     "the password must not contain the product name"),
    ("my i-name 12345 ok", "Namen der E-Mail-Adresse",
     "the password must not contain the email address's name"),
    ("example rules 999", "keinen Teil der Domain der E-Mail-Adresse",
     "a part of the email address's domain"),
])
def test_refused_new_password_in_german(gw, new, german, english):
    import test_mfa as mfa
    s, r = login(gw)
    assert r.status_code in (302, 303)
    name = gw.email.split("@")[0]
    new = new.replace("i-name", name)
    for lang, want, other in (("de", german, english),
                              ("en", english, german)):
        s.headers["Accept-Language"] = lang
        tok = mfa.csrf_of(page(gw, "/.postern/account", s=s).text)
        r = mfa.post(s, gw, "/.postern/account/password",
                     {"password": PASSWORD, "new_password": new,
                      "confirm": new}, csrf=tok)
        assert r.status_code == 400 and lang_of(r) == lang
        alert = re.search(r'role="alert">(.*?)</p>', r.text).group(1)
        assert want in html.unescape(alert), alert
        assert other not in html.unescape(r.text)


LINK_OVERRIDE = """<p id="mark">MARK {{name}} in {{lang}}</p>
<form method="post" novalidate>
<input type="hidden" name="csrf" value="{{csrf}}">
<b>{{t:recover.send}}</b> token={{token}} rd={{rd}} email={{email}}
</form></main></body></html>
"""


def test_templates_dir_overrides_the_link_pages(recgw, tmp_path):
    """Each reset and sign-in link page is its template: an override of
    each is the page (in the page's language), values escaped, and the
    link still signs in through the override's form."""
    from test_recover import ask, link_in
    import test_mfa as mfa
    tpl = tmp_path / "pages"
    tpl.mkdir()
    for name in ("reset.html", "reset_sent.html", "reset_password.html",
                 "magic.html", "magic_sent.html", "magic_confirm.html"):
        (tpl / name).write_text(LINK_OVERRIDE.replace("{{name}}", name))
    gw = recgw("  magic_links: true\npages:\n  templates_dir: %s\n" % tpl)

    def marked(r, name):
        assert r.status_code == 200, r.text[:300]
        assert "MARK %s in " % name in r.text, r.text[:600]
        assert "{{" not in r.text and "<h1>" not in r.text
        return r
    r = marked(page(gw, "/.postern/reset", "de"), "reset.html")
    assert "<b>Link senden</b>" in r.text and "in de</p>" in r.text
    r = marked(page(gw, "/.postern/reset?rd=%22%3E%3Cscript%3E"),
               "reset.html")
    assert "<script>" not in r.text and "<b>Send link</b>" in r.text
    marked(ask(gw, "/.postern/reset", gw.email), "reset_sent.html")
    _, token = link_in(gw.sink.wait_for(gw.email), "/.postern/reset")
    r = marked(page(gw, "/.postern/reset?token=" + token),
               "reset_password.html")
    assert "token=%s " % token in r.text
    marked(page(gw, "/.postern/magic"), "magic.html")
    r = marked(ask(gw, "/.postern/magic", gw.email), "magic_sent.html")
    b = r.browser
    _, token = link_in(gw.sink.wait_for(gw.email), "/.postern/magic")
    r = marked(mfa.page(b, gw, "/.postern/magic?token=" + token),
               "magic_confirm.html")
    r = mfa.post(b, gw, "/.postern/magic", {"token": token},
                 csrf=mfa.csrf_of(r.text))
    assert r.status_code == 303, r.text[:300]
    # the pages still built from blocks are unchanged
    r = page(gw, "/.postern/magic?token=" + "x" * 43)
    assert r.status_code == 400 and "<h1>" in r.text


def test_templates_dir_overrides_the_sso_failure_page(ssogw, tmp_path):
    tpl = tmp_path / "pages"
    tpl.mkdir()
    (tpl / "sso_error.html").write_text(
        '<p id="mark">SSO-MARK {{title}} / {{message}} '
        '<a href="{{back}}">{{t:back_to_signin}}</a></p>\n'
        '</main></body></html>\n')
    gw = ssogw(extra="pages:\n  templates_dir: %s\n" % tpl)
    url = gw.url + "/.postern/sso/corp/callback?state=%3Cb%3E&code=x"
    for lang, words in (("de", "Zur\u00fcck zur Anmeldung"),
                        ("en", "Back to sign-in")):
        r = requests.get(url, verify=False, timeout=10,
                         allow_redirects=False,
                         headers={"Accept": "text/html",
                                  "Accept-Language": lang})
        assert r.status_code == 400, r.text[:300]
        assert "SSO-MARK " in r.text and lang_of(r) == lang, r.text[:600]
        assert ">%s</a></p>" % words in r.text
        assert "<h1>" not in r.text and "<b>" not in r.text


def test_not_me_page_in_german_and_overridden(gateway, redis_server,
                                              tmp_path):
    import test_mfa as mfa
    gw = start(gateway, redis_server, tmp_path)
    s = requests.Session()
    s.headers["Accept-Language"] = "de"
    r = page(gw, "/.postern/not-me?token=" + "A" * 43, s=s)
    assert r.status_code == 200 and lang_of(r) == "de", r.text[:300]
    assert "<title>Das waren Sie nicht? - Postern</title>" in r.text
    assert "<h1>Das war ich nicht</h1>" in r.text
    assert "<p>Wenn Sie sich nicht in diesem Browser" in r.text
    assert 'class="danger">Diese Sitzung beenden</button>' in r.text
    assert ">Passwort zur\u00fccksetzen</a></p>" in r.text
    for english in ("This", "Reset your", "End that", "If you"):
        assert english not in r.text, english
    r = mfa.post(s, gw, "/.postern/not-me", {"token": "A" * 43},
                 csrf=mfa.csrf_of(r.text))
    assert r.status_code == 400 and lang_of(r) == "de", r.text[:300]
    assert re.search(r'role="alert">Dieser Link (ist ung\u00fcltig|'
                     r'wurde schon benutzt)', r.text), r.text
    assert "This" not in r.text and "<form" not in r.text
    r = page(gw, "/.postern/not-me?token=x", "en")
    assert "<h1>This wasn't me</h1>" in html.unescape(r.text)
    gw = start_with(gateway, redis_server, tmp_path, "notme.html",
                    '<p id="mark">NOTME-MARK {{t:notme.heading}} '
                    '[{{token}}]</p>\n{{alert}}{{form}}</main></body></html>\n')
    r = page(gw, "/.postern/not-me?token=%3Cb%3E", "de")
    assert r.status_code == 400
    assert "NOTME-MARK Das war ich nicht [" in r.text, r.text[:600]
    assert "<b>" not in r.text and "<h1>" not in r.text
    assert 'role="alert">Dieser Link ist ung\u00fcltig.' in r.text
    r = page(gw, "/.postern/not-me?token=" + "A" * 43, "de")
    assert "NOTME-MARK Das war ich nicht [%s]" % ("A" * 43) in r.text
    assert ">Diese Sitzung beenden</button>" in r.text


def test_templates_dir_overrides_the_refused_link_and_done_pages(recgw,
                                                                 tmp_path):
    """A link that cannot be used (expired or used, another browser) and
    the notice that a reset changed the password are templates too."""
    from test_recover import ask, link_in, use_reset
    import test_mfa as mfa
    tpl = tmp_path / "pages"
    tpl.mkdir()
    (tpl / "link_refused.html").write_text(
        '<p id="mark">REFUSED-MARK {{title}} / {{message}} '
        '<a href="{{again}}">{{again_text}}</a></p>{{alert}}\n'
        '</main></body></html>\n')
    (tpl / "reset_done.html").write_text(
        '<p id="mark">DONE-MARK {{t:recover.done}} in {{lang}}</p>'
        '{{alert}}\n</main></body></html>\n')
    gw = recgw("  magic_links: true\npages:\n  templates_dir: %s\n" % tpl)
    # expired or used: in both languages, for both kinds of link
    for path, lang, title in (("/.postern/magic", "de", "Anmeldung per E-Mail"),
                              ("/.postern/reset", "en", "Reset your password")):
        r = page(gw, path + "?token=" + "x" * 43, lang)
        assert r.status_code == 400 and lang_of(r) == lang, r.text[:300]
        assert "REFUSED-MARK " + title in r.text, r.text[:600]
        assert '<a href="%s">' % path in r.text
        assert "<h1>" not in r.text and "{{" not in r.text
    # another browser: its own words
    ask(gw, "/.postern/magic", gw.email)
    _, token = link_in(gw.sink.wait_for(gw.email), "/.postern/magic")
    r = mfa.page(requests.Session(), gw, "/.postern/magic?token=" + token)
    assert r.status_code == 403, r.text[:300]
    assert "REFUSED-MARK " in r.text and "in the browser where you" in \
        r.text, r.text[:600]
    # the password changed
    ask(gw, "/.postern/reset", gw.email)
    _, token = link_in(gw.sink.wait_for(gw.email), "/.postern/reset")
    r = use_reset(requests.Session(), gw, token)
    assert r.status_code == 200, r.text[:300]
    assert "DONE-MARK Your password was changed" in r.text, r.text[:600]
    assert "in en</p>" in r.text and "<h1>" not in r.text


def overridden(mfagw, tmp_path, name, text):
    """A two-step gateway whose templates_dir holds <name>: <text>."""
    tpl = tmp_path / "pages"
    tpl.mkdir()
    (tpl / name).write_text(text)
    return mfagw("pages:\n  templates_dir: %s\n" % tpl)


def test_templates_dir_overrides_the_reauth_page(mfagw, tmp_path):
    """The re-authentication page is reauth.html: the built-in one by
    default, an override (in the page's language, values escaped) whose
    form still confirms the password."""
    import test_mfa as mfa
    gw = mfagw()
    s, _ = mfa.sign_in(gw)
    r = mfa.page(s, gw, "/.postern/reauth?rd=/secure/fresh")
    assert r.status_code == 200, r.text[:300]
    assert "<strong>%s</strong></p>" % gw.email in r.text
    assert "<h2>Not you?</h2>" in r.text and "REAUTH-MARK" not in r.text
    gw = overridden(
        mfagw, tmp_path, "reauth.html",
        '<p id="mark">REAUTH-MARK {{t:mfa.reauth_title}} [{{email}}] '
        '[{{rd}}]</p>{{alert}}{{form}}{{signout}}</main></body></html>\n')
    s, _ = mfa.sign_in(gw)
    s.headers["Accept-Language"] = "de"
    r = mfa.page(s, gw, "/.postern/reauth?rd=/secure/fresh%3Fa%3D%3Cb%3E")
    assert r.status_code == 200 and lang_of(r) == "de", r.text[:300]
    assert "REAUTH-MARK " in r.text and "[%s]" % gw.email in r.text, \
        r.text[:600]
    assert "<b>" not in r.text and "<h1>" not in r.text
    assert "English" not in r.text and "Not you?" not in r.text
    tok = mfa.csrf_of(r.text)
    r = mfa.post(s, gw, "/.postern/reauth", {"password": PASSWORD + "x",
                                            "rd": "/secure/fresh"}, csrf=tok)
    assert r.status_code == 401 and "REAUTH-MARK " in r.text
    assert 'role="alert"' in r.text
    r = mfa.post(s, gw, "/.postern/reauth", {"password": PASSWORD,
                                            "rd": "/secure/fresh"}, csrf=tok)
    assert r.status_code == 303, r.text[:300]
    assert r.headers["Location"] == "/secure/fresh"


def german_setup(gw):
    """Signed in, a German browser's two-step setup page: (session, it)."""
    import test_mfa as mfa
    mfa.wait_fresh_step()
    s, r = login(gw)
    assert r.status_code in (302, 303)
    s.headers["Accept-Language"] = "de"
    return s, page(gw, "/.postern/2fa/setup", s=s)


def test_templates_dir_overrides_the_backup_codes_page(gateway, redis_server,
                                                       tmp_path):
    """The backup codes are backup_codes.html, after setup and after a
    renewal: the override is the page (in the page's language), the codes
    and their tools are the gateway's, new ones each time."""
    import test_mfa as mfa
    gw = start_with(gateway, redis_server, tmp_path, "backup_codes.html",
                    '<p id="mark">CODES-MARK {{t:mfa.codes_title}} '
                    'next={{next}}</p>{{alert}}{{codes}}{{tools}}'
                    '</main></body></html>\n')
    s, r = german_setup(gw)
    assert r.status_code == 200 and "CODES-MARK" not in r.text
    key = re.search(r'<code class="key">([A-Z2-7 ]+)</code>',
                    r.text).group(1).replace(" ", "")
    r = mfa.post(s, gw, "/.postern/2fa/setup", {"code": mfa.totp(key)},
                 csrf=mfa.csrf_of(r.text))
    renewed = mfa.post(s, gw, "/.postern/account/backup-codes", {},
                       csrf=mfa.csrf_of(page(gw, "/.postern/account",
                                             s=s).text))
    seen = []
    for r in (r, renewed):
        assert r.status_code == 200 and lang_of(r) == "de", r.text[:300]
        assert "CODES-MARK Ihre Backup-Codes next=/" in r.text, \
            r.text[:600]
        assert "<h1>" not in r.text and "{{" not in r.text
        assert ">Kopieren</button>" in r.text
        codes = re.findall(r"<li><code>([^<]+)</code></li>", r.text)
        assert len(codes) >= 8 and not set(codes) & set(seen), codes
        seen += codes


def test_templates_dir_overrides_the_two_step_setup_page(gateway,
                                                         redis_server,
                                                         tmp_path):
    """Two-step setup is mfa_setup.html: the override is the page (in the
    page's language) and its form still turns two-step on."""
    import test_mfa as mfa
    gw = start_with(gateway, redis_server, tmp_path, "mfa_setup.html",
                    '<p id="mark">SETUP-MARK {{t:mfa.setup_title}}</p>'
                    '{{alert}}{{qr}}{{key}}{{form}}</main></body></html>\n')
    s, r = german_setup(gw)
    assert r.status_code == 200 and lang_of(r) == "de", r.text[:300]
    assert "SETUP-MARK Zwei-Faktor-Anmeldung einrichten</p>" in r.text
    assert "<h1>" not in r.text and "<svg" in r.text, r.text[:600]
    key = re.search(r'<code class="key">([A-Z2-7 ]+)</code>',
                    r.text).group(1).replace(" ", "")
    tok = mfa.csrf_of(r.text)
    r = mfa.post(s, gw, "/.postern/2fa/setup", {"code": "000000"}, csrf=tok)
    assert r.status_code == 401 and "SETUP-MARK " in r.text, r.text[:300]
    assert 'role="alert"' in r.text
    r = mfa.post(s, gw, "/.postern/2fa/setup", {"code": mfa.totp(key)},
                 csrf=tok)
    assert r.status_code == 200 and "SETUP-MARK" not in r.text
    assert len(re.findall(r"<li><code>", r.text)) >= 8, r.text[:600]


def test_templates_dir_overrides_the_two_step_code_page(mfagw, tmp_path):
    """The sign-in's second step is mfa_code.html: the built-in one by
    default; an override (in the page's language, values escaped) whose
    forms still refuse a wrong code and accept a backup code."""
    import test_mfa as mfa
    gw = overridden(
        mfagw, tmp_path, "mfa_code.html",
        '<p id="mark">CODE-MARK {{t:mfa.title}} [{{rd}}]</p>{{alert}}'
        '{{form}}<p>{{t:mfa.lost_device}}</p>{{backup_form}}{{signout}}'
        '</main></body></html>\n')
    mfa.wait_fresh_step()
    s, _ = mfa.sign_in(gw)
    key, codes = mfa.enrol(gw, s)
    s2, r = mfa.sign_in(gw, rd="/app?a=<b>")
    assert r.status_code == 303, r.text[:300]
    s2.headers["Accept-Language"] = "de"
    r = mfa.page(s2, gw, r.headers["Location"])
    assert r.status_code == 200 and lang_of(r) == "de", r.text[:300]
    assert "CODE-MARK Zwei-Faktor-Anmeldung [/app?a=&lt;b&gt;]</p>" in \
        r.text, r.text[:800]
    assert "<h1>" not in r.text and "<b>" not in r.text
    assert ">Bestätigen</button>" in r.text and "Lost your" not in r.text
    tok = mfa.csrf_of(r.text)
    r = mfa.post(s2, gw, "/.postern/2fa", {"code": "000000", "rd": "/app"},
                 csrf=tok)
    assert r.status_code == 401 and "CODE-MARK " in r.text, r.text[:300]
    assert 'role="alert"' in r.text and "Dieser Code stimmt nicht" in r.text
    assert mfa.api(s2, gw, "/x").status_code == 401
    r = mfa.post(s2, gw, "/.postern/2fa", {"backup": codes[0], "rd": "/app"},
                 csrf=tok)
    assert r.status_code == 303 and r.headers["Location"] == "/app"
    assert mfa.api(s2, gw, "/x").status_code == 200


def test_templates_dir_overrides_the_account_page(mfagw, tmp_path):
    """The account overview is account.html: the built-in one by default;
    an override (in the page's language, values escaped) lists the
    sessions, whose sign-out form still ends another session, and keeps
    the password form's refusal on the page."""
    import test_mfa as mfa
    gw = mfagw()
    s, _ = mfa.sign_in(gw)
    r = mfa.page(s, gw, "/.postern/account")
    assert r.status_code == 200 and "<h1>Your account</h1>" in r.text
    assert "<h2>Where you&#39;re signed in</h2>" in r.text
    assert "ACCOUNT-MARK" not in r.text
    gw = overridden(
        mfagw, tmp_path, "account.html",
        '<p id="mark">ACCOUNT-MARK {{t:account.title}} [{{email}}] '
        '[{{rd}}]</p>{{alert}}{{back}}{{signout}}<div id="pw">'
        '{{password_form}}</div><div id="two">{{mfa}}</div>'
        '<div id="where">{{sessions}}</div></main></body></html>\n')
    other, _ = mfa.sign_in(gw)
    s, _ = mfa.sign_in(gw)
    s.headers["Accept-Language"] = "de"
    r = mfa.page(s, gw, "/.postern/account?rd=/x%3Fa%3D%3Cb%3E")
    assert r.status_code == 200 and lang_of(r) == "de", r.text[:300]
    assert "ACCOUNT-MARK Ihr Konto [%s] [/x?a=&lt;b&gt;]</p>" % gw.email \
        in r.text, r.text[:800]
    assert "<h1>" not in r.text and "<b>" not in r.text
    assert "Where you" not in r.text and "Passwort ändern" in r.text
    assert '<div id="two"><h2>Zwei-Faktor-Anmeldung</h2>' in r.text
    where = r.text.split('<div id="where">')[1]
    assert where.startswith('<ul class="sessions">')
    hashes = re.findall(r'name="session" value="([0-9a-f]{64})"', where)
    assert len(hashes) == 1, where[:800]     # the other one; not this one
    tok = mfa.csrf_of(r.text)
    r = mfa.post(s, gw, "/.postern/account/password",
                 {"password": "wrong current 99",
                  "new_password": "another long passphrase 42",
                  "confirm": "another long passphrase 42"}, csrf=tok)
    assert r.status_code == 401 and "ACCOUNT-MARK " in r.text
    assert 'role="alert"' in r.text and "Das Passwort ist falsch." in r.text
    assert mfa.api(other, gw, "/x").status_code == 200
    r = mfa.post(s, gw, "/.postern/account/sessions/revoke",
                 {"session": hashes[0]}, csrf=tok)
    assert r.status_code == 303
    assert mfa.api(other, gw, "/x").status_code == 401
    assert mfa.api(s, gw, "/x").status_code == 200
    r = mfa.page(s, gw, "/.postern/account")
    assert "ACCOUNT-MARK " in r.text
    assert 'name="session"' not in r.text   # only this device is left
