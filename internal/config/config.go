// Package config reads every setting of the worker, the simulator and the starter from the
// environment. One struct per process keeps `-h` output short and lets each binary fail at
// start-up, naming the variable, when a value is malformed.
package config

import (
	"errors"
	"fmt"
	"io"
	"maps"
	"net"
	"net/url"
	"os"
	"reflect"
	"regexp"
	"slices"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/kelseyhightower/envconfig"
	temporalenv "go.temporal.io/sdk/contrib/envconfig"

	"github.com/connect-onboarding/worker/internal/eventsign"
	"github.com/connect-onboarding/worker/internal/payloadcrypt"
	"github.com/connect-onboarding/worker/workflows/contract"
)

// Temporal says how to reach the Temporal service and which task queues to use. The
// connection itself (address, namespace, TLS, API key, gRPC metadata) is read by Temporal's
// own environment configuration, with the variables and the profile file the `temporal` CLI
// and every SDK read (TEMPORAL_ADDRESS, TEMPORAL_NAMESPACE, TEMPORAL_API_KEY,
// TEMPORAL_TLS_*, TEMPORAL_PROFILE, TEMPORAL_CONFIG_FILE): settings that work for the CLI
// work here. The defaults point at `temporal server start-dev`.
type Temporal struct {
	// Connection is what Temporal's environment configuration says, filled by Load.
	Connection TemporalConnection `ignored:"true"`
	Payloads

	OnboardingQueue string `envconfig:"TEMPORAL_TASK_QUEUE" default:"onboarding" desc:"task queue of workflows and non-Heroku activities"`
	HerokuQueue     string `envconfig:"TEMPORAL_HEROKU_TASK_QUEUE" default:"heroku" desc:"task queue of every activity that calls Heroku"`
	EventsQueue     string `envconfig:"TEMPORAL_EVENTS_TASK_QUEUE" default:"events" desc:"task queue of event streams and their deliveries to the ISV's endpoints"`
}

// TemporalConnection is a connection profile of Temporal's environment configuration. It
// never prints its API key or TLS material.
type TemporalConnection struct {
	Profile temporalenv.ClientConfigProfile
}

// Address and Namespace are where the connection goes.
func (c TemporalConnection) Address() string   { return c.Profile.Address }
func (c TemporalConnection) Namespace() string { return c.Profile.Namespace }

// String names the address and namespace only.
func (c TemporalConnection) String() string {
	return fmt.Sprintf("%s (namespace %s)", c.Profile.Address, c.Profile.Namespace)
}

// MarshalText keeps encoders to the address and namespace.
func (c TemporalConnection) MarshalText() ([]byte, error) { return []byte(c.String()), nil }

// Defaults of the connection when neither the environment nor a profile names them.
const (
	DefaultTemporalAddress   = "localhost:7233"
	DefaultTemporalNamespace = "default"
)

// temporalVariables are the connection variables Temporal's environment configuration reads
// (the ones a user sets most; TEMPORAL_GRPC_META_* and the *_DATA forms too), for Usage.
var temporalVariables = [][3]string{
	{"TEMPORAL_ADDRESS", DefaultTemporalAddress, "Temporal frontend host:port"},
	{"TEMPORAL_NAMESPACE", DefaultTemporalNamespace, "Temporal namespace"},
	{"TEMPORAL_API_KEY", "", "API key (Temporal Cloud); enables TLS (never logged)"},
	{"TEMPORAL_TLS", "", "true or false: TLS on or off (on with an API key or any TLS setting)"},
	{"TEMPORAL_TLS_CLIENT_CERT_PATH", "", "client certificate file (PEM) for mTLS"},
	{"TEMPORAL_TLS_CLIENT_KEY_PATH", "", "client key file (PEM) for mTLS"},
	{"TEMPORAL_TLS_SERVER_CA_CERT_PATH", "", "CA bundle (PEM) to verify the server; system roots when empty"},
	{"TEMPORAL_TLS_SERVER_NAME", "", "server name to verify, when it differs from the address"},
	{"TEMPORAL_PROFILE", "default", "profile of the config file to use (as the temporal CLI)"},
	{"TEMPORAL_CONFIG_FILE", "<user config dir>/temporalio/temporal.toml", "the temporal CLI's profile file"},
}

// renamedTemporalVariables were this project's own names before 1.0; each is refused with
// the name Temporal's configuration reads.
var renamedTemporalVariables = map[string]string{
	"TEMPORAL_TLS_CERT": "TEMPORAL_TLS_CLIENT_CERT_PATH",
	"TEMPORAL_TLS_KEY":  "TEMPORAL_TLS_CLIENT_KEY_PATH",
	"TEMPORAL_TLS_CA":   "TEMPORAL_TLS_SERVER_CA_CERT_PATH",
}

// LoadTemporalConnection reads the connection as the temporal CLI does: the profile file
// (TEMPORAL_CONFIG_FILE, TEMPORAL_PROFILE), then the environment over it, then the
// defaults of the dev server.
func LoadTemporalConnection() (TemporalConnection, error) {
	for _, old := range slices.Sorted(maps.Keys(renamedTemporalVariables)) {
		if _, set := os.LookupEnv(old); set {
			return TemporalConnection{}, fmt.Errorf("%s is no longer read: set %s (the name the temporal CLI and SDKs read)", old, renamedTemporalVariables[old])
		}
	}
	p, err := temporalenv.LoadClientConfigProfile(temporalenv.LoadClientConfigProfileOptions{})
	if err != nil {
		return TemporalConnection{}, fmt.Errorf("the Temporal connection (TEMPORAL_* variables, TEMPORAL_PROFILE, TEMPORAL_CONFIG_FILE): %w", err)
	}
	if p.Address == "" {
		p.Address = DefaultTemporalAddress
	}
	if p.Namespace == "" {
		p.Namespace = DefaultTemporalNamespace
	}
	return TemporalConnection{Profile: p}, nil
}

// Heroku says where the Heroku APIs are and how to authenticate. An empty PlatformURL means
// "no real Heroku configured": `make run` then starts the local simulator.
type Heroku struct {
	PlatformURL string        `envconfig:"HEROKU_API_URL" default:"https://api.heroku.com" desc:"Heroku Platform API base URL"`
	ConnectURL  string        `envconfig:"HEROKU_CONNECT_URL" default:"https://hc-central.heroku.com" desc:"Heroku Connect discovery (hc-central) base URL"`
	Token       Secret        `envconfig:"HEROKU_API_TOKEN" desc:"Heroku API token (never logged)"`
	Timeout     time.Duration `envconfig:"HEROKU_HTTP_TIMEOUT" default:"30s" desc:"timeout of one Heroku HTTP request"`
	// CallsPerHour is the account's Heroku budget; the worker turns it into the server-side
	// rate limit of the heroku task queue.
	CallsPerHour int `envconfig:"HEROKU_CALLS_PER_HOUR" default:"4500" desc:"Heroku API budget per hour for the whole account"`
}

// Log chooses the log level and format.
type Log struct {
	Level  string `envconfig:"LOG_LEVEL" default:"info" desc:"debug, info, warn or error"`
	Format string `envconfig:"LOG_FORMAT" default:"auto" desc:"json, console, or auto (console on a terminal)"`
}

// Worker is the configuration of the worker process.
type Worker struct {
	Temporal
	Heroku
	Log
	Events
	HTTPAddr    string        `envconfig:"WORKER_HTTP_ADDR" default:":9090" desc:"listen address of /healthz and /metrics"`
	StateKey    Secret        `envconfig:"RETURN_STATE_KEY" desc:"HMAC key that signs the customer return state; shared with starter serve (never logged)"`
	StopTimeout time.Duration `envconfig:"WORKER_STOP_TIMEOUT" default:"30s" desc:"how long SIGTERM waits for in-flight tasks"`
	// WebhookSecret verifies Heroku's app webhook deliveries to /webhooks/heroku; with it set,
	// the worker takes provisioning from webhooks instead of polls.
	WebhookSecret Secret        `envconfig:"HEROKU_WEBHOOK_SECRET" desc:"secret of the app webhooks (api:addon) Heroku delivers to /webhooks/heroku; set, provisioning is learned from them instead of polls (never logged)"`
	WebhookWait   time.Duration `envconfig:"WORKER_WEBHOOK_WAIT" default:"1m" desc:"with HEROKU_WEBHOOK_SECRET: how long a new add-on waits for its webhook before it is polled"`
	// CacheSize bounds the workflow states a worker keeps in memory: a waiting customer not
	// in it is rebuilt from its history on its next task.
	CacheSize int `envconfig:"WORKER_WORKFLOW_CACHE_SIZE" default:"500" desc:"workflow runs kept in memory (the rest replay their history when they next run)"`
	Deployment
	// Settings are the workflows' operational settings (contract.Settings holds each one's
	// variable, default and description).
	contract.Settings
}

// Deployment is the worker's place in Temporal's Worker Versioning: a deployment name and
// this build's ID, so a new build runs beside the old one and takes work only when an
// operator ramps it or makes it current (README, Upgrading).
type Deployment struct {
	Versioning    bool   `envconfig:"WORKER_VERSIONING" default:"true" desc:"poll as a Worker Deployment Version (WORKER_DEPLOYMENT_NAME, WORKER_BUILD_ID); false: an unversioned worker (make run's)"`
	Name          string `envconfig:"WORKER_DEPLOYMENT_NAME" default:"connect-onboarding" desc:"the Worker Deployment every build of this worker belongs to"`
	BuildID       string `envconfig:"WORKER_BUILD_ID" desc:"this build's ID; empty: the build's commit (with a hash of the executable when the tree had changes), or the executable's hash"`
	BecomeCurrent string `envconfig:"WORKER_BECOME_CURRENT" default:"when-none" desc:"when-none: this version becomes the deployment's current one when it has none (the first deploy); always: at every start (builds that replace each other); never: only an operator's command does"`
}

// Become-current policies.
const (
	BecomeCurrentWhenNone = "when-none"
	BecomeCurrentAlways   = "always"
	BecomeCurrentNever    = "never"
)

var (
	deploymentName = regexp.MustCompile(`^[A-Za-z0-9][A-Za-z0-9_-]{0,99}$`)
	buildID        = regexp.MustCompile(`^[A-Za-z0-9][A-Za-z0-9_+-]{0,127}$`)
)

// Validate checks the names Temporal would refuse later, at every poll.
func (d *Deployment) Validate() error {
	if !d.Versioning {
		return nil
	}
	var errs []error
	if !deploymentName.MatchString(d.Name) {
		errs = append(errs, fmt.Errorf("WORKER_DEPLOYMENT_NAME=%q must be 1 to 100 letters, digits, '-' or '_' (Temporal refuses '.' and ':')", d.Name))
	}
	if d.BuildID != "" && !buildID.MatchString(d.BuildID) {
		errs = append(errs, fmt.Errorf("WORKER_BUILD_ID=%q must be 1 to 128 letters, digits, '-', '_' or '+', starting with a letter or digit", d.BuildID))
	}
	if d.BecomeCurrent != BecomeCurrentWhenNone && d.BecomeCurrent != BecomeCurrentAlways && d.BecomeCurrent != BecomeCurrentNever {
		errs = append(errs, fmt.Errorf("WORKER_BECOME_CURRENT=%q must be %s, %s or %s", d.BecomeCurrent, BecomeCurrentWhenNone, BecomeCurrentAlways, BecomeCurrentNever))
	}
	return errors.Join(errs...)
}

// WorkflowSettings are the settings the workflows load: the environment's, on the heroku
// task queue, with the webhook wait only when webhooks are configured.
func (w *Worker) WorkflowSettings() contract.Settings {
	s := w.Settings
	s.HerokuTaskQueue = w.HerokuQueue
	s.EventsTaskQueue = w.EventsQueue
	s.WebhookWait = 0
	if w.WebhookSecret != "" {
		s.WebhookWait = w.WebhookWait
	}
	return s
}

// Secret is a string that never prints. fmt, zerolog and %v all see "[redacted]".
type Secret string

// String hides the value.
func (s Secret) String() string {
	if s == "" {
		return ""
	}
	return "[redacted]"
}

// MarshalText hides the value from encoders.
func (s Secret) MarshalText() ([]byte, error) { return []byte(s.String()), nil }

// List splits a comma-separated secret into its non-empty, trimmed parts: "," or " " holds
// none, so a template whose variables were all unset configures no token, not an empty one.
func (s Secret) List() []string {
	var out []string
	for _, t := range strings.Split(string(s), ",") {
		if t = strings.TrimSpace(t); t != "" {
			out = append(out, t)
		}
	}
	return out
}

// Reveal returns the value, for the one place that must send it.
func (s Secret) Reveal() string { return string(s) }

// Load fills dst (a pointer to one of the structs above) from the environment and checks it.
// Errors name the variable.
func Load(dst any) error {
	if err := envconfig.Process("", dst); err != nil {
		return cleanEnvError(err)
	}
	if v, ok := dst.(interface{ Validate() error }); ok {
		return v.Validate()
	}
	return nil
}

// envconfig's errors name the Go field; ours name the variable, which is what a user sets.
func cleanEnvError(err error) error {
	var pe *envconfig.ParseError
	if errors.As(err, &pe) {
		return fmt.Errorf("%s=%q is not a valid %s", pe.KeyName, pe.Value, pe.TypeName)
	}
	return err
}

// Validate checks the values envconfig cannot.
func (w *Worker) Validate() error {
	var errs []error
	errs = append(errs, w.Temporal.Validate(), w.Heroku.Validate(), w.Log.Validate(), w.Events.Validate(), w.Deployment.Validate())
	if w.StateKey != "" && len(w.StateKey) < 32 {
		errs = append(errs, fmt.Errorf("RETURN_STATE_KEY must be at least 32 characters"))
	}
	if w.StopTimeout < 0 {
		errs = append(errs, fmt.Errorf("WORKER_STOP_TIMEOUT must not be negative"))
	}
	if w.WebhookSecret != "" && len(w.WebhookSecret) < 16 {
		errs = append(errs, fmt.Errorf("HEROKU_WEBHOOK_SECRET must be at least 16 characters"))
	}
	if w.WebhookWait < time.Second || w.WebhookWait > time.Hour {
		errs = append(errs, fmt.Errorf("WORKER_WEBHOOK_WAIT must be between 1s and 1h"))
	}
	if w.CacheSize < 10 {
		errs = append(errs, fmt.Errorf("WORKER_WORKFLOW_CACHE_SIZE must be at least 10"))
	}
	if err := w.WorkflowSettings().Validate(); err != nil {
		errs = append(errs, fmt.Errorf("WORKER_* pace settings: %w", err))
	}
	return errors.Join(errs...)
}

// Validate reads the connection and checks the Temporal settings.
func (t *Temporal) Validate() error {
	conn, err := LoadTemporalConnection()
	if err != nil {
		return err
	}
	t.Connection = conn
	var errs []error
	if !strings.Contains(conn.Address(), ":") {
		errs = append(errs, fmt.Errorf("TEMPORAL_ADDRESS=%q must be host:port", conn.Address()))
	}
	if _, err := conn.Profile.ToClientOptions(temporalenv.ToClientOptionsRequest{}); err != nil {
		errs = append(errs, fmt.Errorf("the Temporal connection: %w", err))
	}
	if _, err := t.PayloadRing(); err != nil {
		errs = append(errs, err)
	}
	if t.OnboardingQueue == "" || t.HerokuQueue == "" || t.EventsQueue == "" {
		errs = append(errs, fmt.Errorf("TEMPORAL_TASK_QUEUE, TEMPORAL_HEROKU_TASK_QUEUE and TEMPORAL_EVENTS_TASK_QUEUE must not be empty"))
	}
	return errors.Join(errs...)
}

// Payloads holds the AES-256-GCM key ring of the payload codec: every process that talks to
// Temporal (and the codec server) needs the same ring to read what the others wrote.
type Payloads struct {
	PayloadKeys     Secret `envconfig:"PAYLOAD_KEYS" desc:"payload encryption keys, id:base64-key comma-separated, the first encrypts and all decrypt; payloads are stored in clear when neither this nor PAYLOAD_KEYS_FILE is set (never logged)"`
	PayloadKeysFile string `envconfig:"PAYLOAD_KEYS_FILE" desc:"file of payload encryption keys, one id:base64-key per line, after those of PAYLOAD_KEYS"`
	// AllowPlaintext reads payloads written in clear (a namespace from before its keys).
	AllowPlaintext bool `envconfig:"PAYLOAD_ALLOW_PLAINTEXT" default:"false" desc:"with keys: also read payloads in clear, while migrating a namespace written before them (off: refused)"`
}

// PayloadRing is the payload codec's key ring (empty when no key is configured).
func (p *Payloads) PayloadRing() (*payloadcrypt.Ring, error) {
	r, err := payloadcrypt.Load(p.PayloadKeys.Reveal(), p.PayloadKeysFile)
	if r != nil {
		r.AllowPlaintext = p.AllowPlaintext
	}
	return r, err
}

// CodecServer is the configuration of `worker codec-server`, Temporal's remote codec for the
// Web UI and the CLI.
type CodecServer struct {
	Payloads
	Log
	Addr string `envconfig:"CODEC_ADDR" default:"127.0.0.1:8081" desc:"listen address of the codec server"`
	// Tokens are the bearer tokens the codec server accepts; without any it serves loopback only.
	Tokens      Secret   `envconfig:"CODEC_TOKENS" desc:"bearer tokens the codec server accepts, comma-separated; required unless CODEC_ADDR is a loopback address (never logged)"`
	CORSOrigins []string `envconfig:"CODEC_CORS_ORIGINS" default:"http://localhost:8233,http://127.0.0.1:8233" desc:"origins of the Temporal Web UI allowed to call the codec server (comma-separated)"`
}

// Open reports whether the codec server may answer without a token: only when it has none
// and listens on loopback only.
func (c *CodecServer) Open() bool {
	host, _, err := net.SplitHostPort(c.Addr)
	return err == nil && len(c.Tokens.List()) == 0 && loopback(host)
}

// Validate checks the codec server settings.
func (c *CodecServer) Validate() error {
	errs := []error{c.Log.Validate()}
	ring, err := c.PayloadRing()
	switch {
	case err != nil:
		errs = append(errs, err)
	case ring.Empty():
		errs = append(errs, fmt.Errorf("PAYLOAD_KEYS or PAYLOAD_KEYS_FILE must be set: the codec server has nothing to decode with"))
	}
	host, _, err := net.SplitHostPort(c.Addr)
	if err != nil {
		errs = append(errs, fmt.Errorf("CODEC_ADDR=%q must be host:port", c.Addr))
	} else if len(c.Tokens.List()) == 0 && !loopback(host) {
		errs = append(errs, fmt.Errorf("CODEC_TOKENS must be set when CODEC_ADDR=%q is not a loopback address: anyone who reaches it could decrypt payloads", c.Addr))
	}
	for _, o := range c.CORSOrigins {
		if u, err := url.Parse(o); err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" || u.Path != "" {
			errs = append(errs, fmt.Errorf("CODEC_CORS_ORIGINS: %q must be an origin (scheme://host[:port])", o))
		}
	}
	return errors.Join(errs...)
}

func loopback(host string) bool {
	if host == "localhost" {
		return true
	}
	ip := net.ParseIP(host)
	return ip != nil && ip.IsLoopback()
}

// Validate checks the Heroku settings.
func (h *Heroku) Validate() error {
	var errs []error
	for name, raw := range map[string]string{"HEROKU_API_URL": h.PlatformURL, "HEROKU_CONNECT_URL": h.ConnectURL} {
		u, err := url.Parse(raw)
		if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
			errs = append(errs, fmt.Errorf("%s=%q must be an http(s) URL", name, raw))
		}
	}
	if h.Timeout <= 0 {
		errs = append(errs, fmt.Errorf("HEROKU_HTTP_TIMEOUT must be positive"))
	}
	if h.CallsPerHour <= 0 {
		errs = append(errs, fmt.Errorf("HEROKU_CALLS_PER_HOUR must be positive"))
	}
	return errors.Join(errs...)
}

// Validate checks the log settings.
func (l *Log) Validate() error {
	var errs []error
	switch strings.ToLower(l.Level) {
	case "debug", "info", "warn", "error":
	default:
		errs = append(errs, fmt.Errorf("LOG_LEVEL=%q must be one of debug, info, warn, error", l.Level))
	}
	switch strings.ToLower(l.Format) {
	case "json", "console", "auto":
	default:
		errs = append(errs, fmt.Errorf("LOG_FORMAT=%q must be one of json, console, auto", l.Format))
	}
	return errors.Join(errs...)
}

// Usage writes the table of variables of spec (a pointer to one of the structs above):
// name, default, description.
func Usage(w io.Writer, spec any) error {
	tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
	const format = `VARIABLE{{"\t"}}DEFAULT{{"\t"}}DESCRIPTION
{{range .}}{{usage_key .}}{{"\t"}}{{usage_default .}}{{"\t"}}{{usage_description .}}
{{end}}`
	if err := envconfig.Usagef("", spec, tw, format); err != nil {
		return err
	}
	if hasTemporal(spec) {
		for _, v := range temporalVariables {
			fmt.Fprintf(tw, "%s\t%s\t%s\n", v[0], v[1], v[2])
		}
	}
	return tw.Flush()
}

// Simulator is the configuration of herokusim, the local Heroku.
type Simulator struct {
	Log
	Addr              string        `envconfig:"SIM_ADDR" default:"127.0.0.1:5100" desc:"listen address of the simulator"`
	PublicURL         string        `envconfig:"SIM_PUBLIC_URL" desc:"URL API clients reach the simulator at (region URLs); the request's Host when empty"`
	PageURL           string        `envconfig:"SIM_PAGE_URL" desc:"URL the customer's browser reaches the simulator at (authorization pages); SIM_PUBLIC_URL, else http://SIM_ADDR, when empty"`
	Tokens            string        `envconfig:"SIM_TOKENS" default:"sim-token=isv@example.com" desc:"API tokens and their accounts, token=email,..."`
	Apps              string        `envconfig:"SIM_APPS" default:"acme-isv-app=acme-team" desc:"apps to create at start, app=team,..."`
	ProvisionDelay    time.Duration `envconfig:"SIM_PROVISION_DELAY" default:"2s" desc:"how long an add-on stays provisioning"`
	DeprovisionDelay  time.Duration `envconfig:"SIM_DEPROVISION_DELAY" default:"1s" desc:"how long a destroyed add-on stays deprovisioning"`
	DeactivationDelay time.Duration `envconfig:"SIM_DEACTIVATION_DELAY" default:"5s" desc:"how long a deactivated integration's add-ons stay alive after the 202"`
	AuthURLTTL        time.Duration `envconfig:"SIM_AUTH_URL_TTL" default:"24h" desc:"lifetime of an authorization URL"`
	SyncDelay         time.Duration `envconfig:"SIM_SYNC_DELAY" default:"2s" desc:"how long a new mapping takes from INITIAL to DATA_SYNCED"`
	RateCapacity      int           `envconfig:"SIM_RATE_CAPACITY" default:"4500" desc:"token bucket size per account (its tokens share it)"`
	RatePerMinute     float64       `envconfig:"SIM_RATE_PER_MINUTE" default:"75" desc:"token bucket refill per minute"`
	RetryAfter        bool          `envconfig:"SIM_RETRY_AFTER" default:"false" desc:"send Retry-After on 429 (Heroku documents none)"`
	Members           string        `envconfig:"SIM_MEMBERS" desc:"teams each account may touch, email=team|team,...; an account not listed may touch every app"`
	Lenient           bool          `envconfig:"SIM_LENIENT" default:"false" desc:"accept (and record) a sign-in as the wrong org or user"`
	StateFile         string        `envconfig:"SIM_STATE_FILE" desc:"file to keep state in across restarts; memory only when empty"`
	Faults            string        `envconfig:"SIM_FAULTS" desc:"faults to install at start, as the JSON array of POST /_sim/faults"`
}

// Validate checks the simulator settings.
func (s *Simulator) Validate() error {
	var errs []error
	errs = append(errs, s.Log.Validate())
	if !strings.Contains(s.Addr, ":") {
		errs = append(errs, fmt.Errorf("SIM_ADDR=%q must be host:port", s.Addr))
	}
	if _, err := ParsePairs(s.Tokens); err != nil || s.Tokens == "" {
		errs = append(errs, fmt.Errorf("SIM_TOKENS must be token=email pairs separated by commas"))
	}
	if _, err := ParsePairs(s.Apps); err != nil {
		errs = append(errs, fmt.Errorf("SIM_APPS must be app=team pairs separated by commas"))
	}
	if _, err := ParsePairs(s.Members); err != nil {
		errs = append(errs, fmt.Errorf("SIM_MEMBERS must be email=team|team pairs separated by commas"))
	}
	if s.RateCapacity <= 0 || s.RatePerMinute <= 0 {
		errs = append(errs, fmt.Errorf("SIM_RATE_CAPACITY and SIM_RATE_PER_MINUTE must be positive"))
	}
	return errors.Join(errs...)
}

// ParsePairs reads "k=v,k2=v2" (empty gives an empty map).
func ParsePairs(s string) (map[string]string, error) {
	out := map[string]string{}
	for _, p := range strings.Split(s, ",") {
		p = strings.TrimSpace(p)
		if p == "" {
			continue
		}
		k, v, ok := strings.Cut(p, "=")
		if !ok || k == "" || v == "" {
			return nil, fmt.Errorf("%q is not key=value", p)
		}
		out[k] = v
	}
	return out, nil
}

// Starter is the configuration of the starter command (CLI and `serve`).
type Starter struct {
	Temporal
	Log
	Events
	// ServeAddr is where `starter serve` listens.
	ServeAddr string `envconfig:"STARTER_ADDR" default:"127.0.0.1:8080" desc:"listen address of starter serve"`
	// APITokens are bearer tokens of full access (comma-separated).
	APITokens Secret `envconfig:"STARTER_API_TOKENS" desc:"bearer tokens of full access (every scope on every integration) accepted by the HTTP API, comma-separated (never logged); for development, scoped keys go in STARTER_API_KEYS_FILE"`
	// APIKeysFile holds scoped API keys, as hashes (starter keys new prints a line).
	APIKeysFile string `envconfig:"STARTER_API_KEYS_FILE" desc:"file of scoped API keys, one 'NAME sha256:HEX SCOPE,...' per line (starter keys new prints one)"`
	// StateKey signs the customer return state (HMAC-SHA256); the worker needs the same key.
	StateKey Secret `envconfig:"RETURN_STATE_KEY" desc:"HMAC key of the customer return state; shared with the worker (never logged)"`
}

// Events is the configuration of lifecycle events, the same in the worker (which signs
// deliveries and puts connect links in events) and the starter (which reveals endpoint
// secrets and answers connect links).
type Events struct {
	// SecretKey derives every endpoint's signing secret (internal/eventsign).
	SecretKey Secret `envconfig:"EVENTS_SECRET_KEY" desc:"base64 of at least 32 random bytes from which every event endpoint's signing secret is derived; the worker and the starter need the same (never logged)"`
	// PublicURL is where customers' browsers reach starter serve: the base of return URLs
	// and connect links.
	PublicURL string `envconfig:"STARTER_PUBLIC_URL" default:"http://localhost:8080" desc:"URL browsers reach starter serve at (the return address given to Heroku, and the base of customers' connect links)"`
	// AllowLoopback lets the worker deliver to http://localhost endpoints.
	AllowLoopback bool `envconfig:"EVENTS_ALLOW_LOOPBACK" default:"false" desc:"deliver events to endpoints on a loopback address, http too (development)"`
	// AllowPrivate lets the worker deliver to endpoints on private networks.
	AllowPrivate bool `envconfig:"EVENTS_ALLOW_PRIVATE_NETWORKS" default:"false" desc:"deliver events to endpoints whose address is on a private network (10/8, 172.16/12, 192.168/16, fc00::/7); link-local and metadata addresses never"`
}

// Validate checks the events settings.
func (e *Events) Validate() error {
	var errs []error
	if u, err := url.Parse(e.PublicURL); err != nil || u.Host == "" || (u.Scheme != "http" && u.Scheme != "https") {
		errs = append(errs, fmt.Errorf("STARTER_PUBLIC_URL=%q must be an http(s) URL", e.PublicURL))
	}
	if _, err := eventsign.ParseKey(string(e.SecretKey)); err != nil {
		errs = append(errs, err)
	}
	return errors.Join(errs...)
}

// Key is the parsed EVENTS_SECRET_KEY (nil when unset); Validate has checked it.
func (e *Events) Key() eventsign.Key {
	k, _ := eventsign.ParseKey(string(e.SecretKey))
	return k
}

// ConnectLinkBase is the prefix of customers' connect links: STARTER_PUBLIC_URL/connect/.
func (e *Events) ConnectLinkBase() string { return strings.TrimRight(e.PublicURL, "/") + "/connect/" }

// Validate checks the starter settings.
func (s *Starter) Validate() error {
	errs := []error{s.Temporal.Validate(), s.Log.Validate(), s.Events.Validate()}
	if s.StateKey != "" && len(s.StateKey) < 32 {
		errs = append(errs, fmt.Errorf("RETURN_STATE_KEY must be at least 32 characters"))
	}
	return errors.Join(errs...)
}

// hasTemporal reports whether spec (a pointer to a struct) embeds Temporal.
func hasTemporal(spec any) bool {
	v := reflect.Indirect(reflect.ValueOf(spec))
	if v.Kind() != reflect.Struct {
		return false
	}
	_, ok := v.Type().FieldByName("Connection")
	return ok
}
