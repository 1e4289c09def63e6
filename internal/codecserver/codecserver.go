// Package codecserver serves Temporal's remote codec protocol (POST …/encode and …/decode)
// so the Web UI and `temporal --codec-endpoint` show payloads decrypted, without the key
// leaving the ISV's side. A caller proves itself with a bearer token (the CLI's
// --codec-auth, or the UI's access token) or with the session cookie /login sets for a
// browser; browsers are let in only from the configured UI origins (CORS).
package codecserver

import (
	"crypto/hmac"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/base64"
	"fmt"
	"html"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/rs/zerolog"
	"go.temporal.io/sdk/converter"
)

// CookieName is the browser session cookie /login sets.
const CookieName = "codec_session"

// maxBody bounds a request: Temporal's own gRPC messages stop at 4 MB.
const maxBody = 4 << 20

// sessionTTL is how long a browser session lasts before /login again.
const sessionTTL = 12 * time.Hour

// Options configure the handler.
type Options struct {
	Codec converter.PayloadCodec
	// Tokens accepted as "Authorization: Bearer …" and at /login.
	Tokens []string
	// Open lets every caller in without a token: only for a server with no tokens that
	// listens on loopback only (config.CodecServer.Open). Without tokens and not open,
	// nobody is let in.
	Open bool
	// Origins the Web UI is served from; browsers from any other are refused.
	Origins []string
	Log     zerolog.Logger
	Now     func() time.Time // time.Now when nil
}

type server struct {
	Options
	codec http.Handler
}

// Handler returns the codec server's routes: /encode, /decode (under any prefix, as the
// protocol allows), /login and /healthz.
func Handler(o Options) http.Handler {
	if o.Now == nil {
		o.Now = time.Now
	}
	s := &server{Options: o, codec: converter.NewPayloadCodecHTTPHandler(o.Codec)}
	mux := http.NewServeMux()
	mux.HandleFunc("GET /healthz", func(w http.ResponseWriter, _ *http.Request) { _, _ = w.Write([]byte("ok\n")) })
	mux.HandleFunc("GET /login", s.loginPage)
	mux.HandleFunc("POST /login", s.login)
	mux.HandleFunc("/", s.serveCodec)
	return mux
}

func (s *server) serveCodec(w http.ResponseWriter, r *http.Request) {
	if !strings.HasSuffix(r.URL.Path, "/encode") && !strings.HasSuffix(r.URL.Path, "/decode") {
		http.NotFound(w, r)
		return
	}
	if origin := r.Header.Get("Origin"); origin != "" {
		if !slices.Contains(s.Origins, origin) {
			s.Log.Warn().Str("origin", origin).Msg("codec request from an origin not in CODEC_CORS_ORIGINS refused")
			http.Error(w, "origin not allowed (CODEC_CORS_ORIGINS)", http.StatusForbidden)
			return
		}
		h := w.Header()
		h.Set("Access-Control-Allow-Origin", origin)
		h.Set("Access-Control-Allow-Credentials", "true")
		h.Set("Access-Control-Allow-Methods", "POST, OPTIONS")
		h.Set("Access-Control-Allow-Headers", "Content-Type, X-Namespace, Authorization")
		h.Set("Access-Control-Max-Age", "600")
		h.Add("Vary", "Origin")
	}
	if r.Method == http.MethodOptions {
		w.WriteHeader(http.StatusNoContent) // a preflight carries no credentials
		return
	}
	if r.Method != http.MethodPost {
		w.Header().Set("Allow", "POST, OPTIONS")
		http.Error(w, "POST only", http.StatusMethodNotAllowed)
		return
	}
	if !s.authorized(r) {
		s.Log.Warn().Str("path", r.URL.Path).Str("remote", r.RemoteAddr).Msg("codec request without a valid token refused")
		w.Header().Set("WWW-Authenticate", `Bearer realm="codec"`)
		http.Error(w, "a bearer token (CODEC_TOKENS) or a session from /login is required", http.StatusUnauthorized)
		return
	}
	r.Body = http.MaxBytesReader(w, r.Body, maxBody)
	s.codec.ServeHTTP(w, r)
}

// authorized: an open (loopback, tokenless) server, a bearer token that matches one, or a
// live session.
func (s *server) authorized(r *http.Request) bool {
	if s.Open && len(s.Tokens) == 0 {
		return true
	}
	if len(s.Tokens) == 0 {
		return false
	}
	if auth := r.Header.Get("Authorization"); auth != "" {
		scheme, tok, ok := strings.Cut(auth, " ")
		return ok && strings.EqualFold(scheme, "Bearer") && s.tokenOK(strings.TrimSpace(tok))
	}
	if c, err := r.Cookie(CookieName); err == nil {
		return s.sessionOK(c.Value)
	}
	return false
}

// tokenOK compares in constant time against every token (no early exit on a match).
func (s *server) tokenOK(tok string) bool {
	ok := 0
	for _, t := range s.Tokens {
		ok |= subtle.ConstantTimeCompare([]byte(tok), []byte(t))
	}
	return ok == 1 && tok != ""
}

// A session is "expiry.mac", mac = HMAC-SHA256(token, expiry) for one of the tokens: the
// cookie never holds a token, and dropping a token from CODEC_TOKENS ends its sessions.
func sessionMAC(token string, exp int64) string {
	m := hmac.New(sha256.New, []byte(token))
	fmt.Fprintf(m, "codec-session:%d", exp)
	return base64.RawURLEncoding.EncodeToString(m.Sum(nil))
}

func (s *server) sessionOK(v string) bool {
	expS, mac, ok := strings.Cut(v, ".")
	exp, err := strconv.ParseInt(expS, 10, 64)
	if !ok || err != nil || s.Now().Unix() > exp {
		return false
	}
	match := 0
	for _, t := range s.Tokens {
		match |= subtle.ConstantTimeCompare([]byte(mac), []byte(sessionMAC(t, exp)))
	}
	return match == 1
}

const loginForm = `<!doctype html><html><head><meta charset="utf-8"><title>Codec server sign-in</title></head>
<body style="font-family:sans-serif;max-width:36em;margin:3em auto">
<h1>Codec server</h1><p>%s</p>
<form method="post" action="/login"><label>Token <input type="password" name="token" id="token" autocomplete="off"></label>
<button type="submit" id="signin">Sign in</button></form>
<p>The session lets the Temporal Web UI decode payloads in this browser for 12 hours.</p></body></html>`

func (s *server) loginPage(w http.ResponseWriter, _ *http.Request) {
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	w.Header().Set("X-Frame-Options", "DENY")
	msg := "Give one of the codec server's tokens (CODEC_TOKENS)."
	if len(s.Tokens) == 0 {
		msg = "This codec server takes no token (it listens on loopback only)."
	}
	_, _ = fmt.Fprintf(w, loginForm, html.EscapeString(msg))
}

func (s *server) login(w http.ResponseWriter, r *http.Request) {
	r.Body = http.MaxBytesReader(w, r.Body, 4<<10)
	if err := r.ParseForm(); err != nil {
		http.Error(w, "bad form", http.StatusBadRequest)
		return
	}
	tok := r.PostForm.Get("token")
	var match string
	for _, t := range s.Tokens {
		if subtle.ConstantTimeCompare([]byte(tok), []byte(t)) == 1 {
			match = t
		}
	}
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	if match == "" {
		s.Log.Warn().Str("remote", r.RemoteAddr).Msg("codec sign-in with a wrong token")
		w.WriteHeader(http.StatusUnauthorized)
		_, _ = fmt.Fprintf(w, loginForm, "That token is not one of CODEC_TOKENS.")
		return
	}
	exp := s.Now().Add(sessionTTL).Unix()
	// SameSite=Strict: the UI on another port of the same host is the same site, and sends
	// it with its credentialed requests; no other site's page can.
	http.SetCookie(w, &http.Cookie{Name: CookieName, Value: strconv.FormatInt(exp, 10) + "." + sessionMAC(match, exp), Path: "/",
		MaxAge: int(sessionTTL.Seconds()), HttpOnly: true, SameSite: http.SameSiteStrictMode, Secure: secureRequest(r)})
	_, _ = w.Write([]byte(`<!doctype html><html><body style="font-family:sans-serif;max-width:36em;margin:3em auto"><h1 id="signed-in">Signed in</h1><p>The Temporal Web UI in this browser can decode payloads now.</p></body></html>`))
}

// secureRequest reports whether the browser reached the codec server over TLS: directly, or
// through a proxy that terminated it (X-Forwarded-Proto, or the standard Forwarded header).
// A forged header only makes the cookie stricter.
func secureRequest(r *http.Request) bool {
	if r.TLS != nil || strings.EqualFold(r.Header.Get("X-Forwarded-Proto"), "https") {
		return true
	}
	for _, part := range strings.Split(strings.ToLower(r.Header.Get("Forwarded")), ";") {
		if strings.TrimSpace(part) == "proto=https" {
			return true
		}
	}
	return false
}
