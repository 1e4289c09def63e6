package devstack

import (
	"context"
	"fmt"
	"github.com/connect-onboarding/worker/internal/eventsign"
	"os"
	"sort"
	"strings"

	"github.com/connect-onboarding/worker/internal/config"
	"github.com/connect-onboarding/worker/internal/heroku"
	"github.com/connect-onboarding/worker/internal/herokuhooks"
)

// DevWebhookSecret signs the simulator's webhook deliveries to the worker of a development
// stack. It guards nothing real: production sets its own HEROKU_WEBHOOK_SECRET.
const DevWebhookSecret = "dev-stack-webhook-secret-not-for-production"

// DevEventsKey is the EVENTS_SECRET_KEY of a development stack (make run, make cluster)
// when the environment sets none: endpoint secrets derive from it. Never for production.
const DevEventsKey = "ZGV2LXN0YWNrLWV2ZW50cy1rZXktbm90LWZvci1wcm9k"

// subscribeWebhooks makes every simulated app deliver its api:addon events to the worker, as
// an operator does on Heroku with `heroku webhooks:add -i api:addon -l notify -u URL -s
// SECRET -a APP`. A subscription kept in the simulator's state file is not made twice.
func subscribeWebhooks(ctx context.Context, s *Stack, simEnv []string, workerHTTP string) error {
	hc, err := heroku.New(heroku.Options{PlatformURL: s.SimURL, ConnectURL: s.SimURL, Token: s.SimToken})
	if err != nil {
		return err
	}
	url := "http://" + workerHTTP + herokuhooks.Path
	for _, app := range simApps(simEnv) {
		hooks, err := hc.AppWebhooks(ctx, app)
		if err != nil {
			return fmt.Errorf("list webhooks of %s: %w", app, err)
		}
		have := false
		for _, h := range hooks {
			have = have || h.URL == url
		}
		if have {
			continue
		}
		in := heroku.WebhookCreate{Include: []string{"api:addon"}, Level: "notify", URL: url, Secret: DevWebhookSecret}
		if _, _, err := hc.CreateAppWebhook(ctx, app, in); err != nil {
			return fmt.Errorf("subscribe %s's webhooks: %w", app, err)
		}
	}
	return nil
}

// simApps are the apps the simulator creates: SIM_APPS from the stack's settings, the
// environment or the default.
func simApps(simEnv []string) []string {
	var spec string
	var cfg config.Simulator
	if err := config.Load(&cfg); err == nil {
		spec = cfg.Apps
	}
	if v, ok := os.LookupEnv("SIM_APPS"); ok {
		spec = v
	}
	for _, kv := range simEnv {
		if v, ok := strings.CutPrefix(kv, "SIM_APPS="); ok {
			spec = v
		}
	}
	pairs, _ := config.ParsePairs(spec)
	apps := make([]string, 0, len(pairs))
	for app := range pairs {
		apps = append(apps, app)
	}
	sort.Strings(apps)
	return apps
}

// EventsEnv is what a development stack's workers need for lifecycle events: the
// development key (unless the environment sets EVENTS_SECRET_KEY) and receivers on
// loopback allowed (make run's sink, the demo's).
func EventsEnv() []string {
	env := []string{"EVENTS_ALLOW_LOOPBACK=true"}
	if os.Getenv("EVENTS_SECRET_KEY") == "" {
		env = append(env, "EVENTS_SECRET_KEY="+DevEventsKey)
	}
	return env
}

// EventsKey is the stack's events key: the environment's, else the development one.
func EventsKey() (eventsign.Key, error) {
	if k := os.Getenv("EVENTS_SECRET_KEY"); k != "" {
		return eventsign.ParseKey(k)
	}
	return eventsign.ParseKey(DevEventsKey)
}
