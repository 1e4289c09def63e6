package onboarding_test

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http/httptest"
	"os"
	"path/filepath"
	"time"

	"go.temporal.io/sdk/client"
	"go.temporal.io/sdk/testsuite"

	"github.com/connect-onboarding/worker/activities"
	"github.com/connect-onboarding/worker/internal/dev/herokusim"
	"github.com/connect-onboarding/worker/internal/dev/testenv"
	"github.com/connect-onboarding/worker/internal/heroku"
	"github.com/connect-onboarding/worker/internal/logo/logotest"
	"github.com/connect-onboarding/worker/internal/runworker"
	"github.com/connect-onboarding/worker/starter/onboarding"
	"github.com/connect-onboarding/worker/workflows/contract"
)

// A backend starts a customer's onboarding and sends the customer to the authorization URL.
// Start is Update-with-Start: one round trip, and calling it again for the same customer
// reaches the same workflow.
func ExampleClient_Start() {
	ctx := context.Background()
	temporalClient, stop := exampleStack() // in production: client.Dial, or the worker's own settings
	defer stop()

	c := onboarding.New(temporalClient, "", "") // default task queues
	res, err := c.Start(ctx, onboarding.Input{
		ISVSlug: "acme", CustomerID: "cust-42", Mode: onboarding.ModeProvision, App: "acme-isv-app",
		Salesforce: onboarding.Salesforce{OrgID: "00D000000000062", Username: "int@cust42.example"},
		ReturnURL:  "https://isv.example/connect/return",
	})
	var bad *onboarding.InvalidInputError
	switch {
	case errors.As(err, &bad): // bad.Fields: each field and the rule it broke; nothing was created
		fmt.Println("invalid:", bad.Fields)
	case errors.Is(err, onboarding.ErrIntegrationInactive):
		fmt.Println("the integration cannot take customers")
	case err != nil:
		fmt.Println("error:", err)
	default: // send the customer to res.AuthorizationURL (expires res.ExpiresAt)
		fmt.Println(res.Stage, "URL", res.Attempt, "valid for", time.Until(res.ExpiresAt).Round(time.Hour))
	}
	// Output: awaiting_authorization URL 1 valid for 24h0m0s
}

// Bad input is refused before anything is started or any Heroku call is made, each field
// with its rule.
func ExampleClient_Start_invalidInput() {
	c := onboarding.New(nil, "", "") // refused before Temporal is asked
	_, err := c.Start(context.Background(), onboarding.Input{ISVSlug: "acme", CustomerID: "jane@customer.example",
		Mode: onboarding.ModeProvision, App: "acme-isv-app",
		Salesforce: onboarding.Salesforce{OrgID: "00D000000000062", Username: "not a username"}})
	var bad *onboarding.InvalidInputError
	if errors.As(err, &bad) {
		for _, f := range bad.Fields {
			fmt.Println(f.Field)
		}
	}
	// Output:
	// customer_id
	// salesforce.sf_username
}

// exampleStack runs what a backend's client talks to: the Temporal dev server (the pinned
// CLI in bin/), herokusim with the integration "acme" registered, and a worker in this
// process.
func exampleStack() (client.Client, func()) {
	ctx := context.Background()
	root, _ := filepath.Abs(filepath.Join("..", ".."))
	copts := testenv.ClientOptions("")
	srv, err := testsuite.StartDevServer(ctx, testsuite.DevServerOptions{ClientOptions: &copts,
		ExistingPath: filepath.Join(root, "bin", "temporal"), LogLevel: "error", Stdout: io.Discard, Stderr: io.Discard,
		SearchAttributes: contract.SearchAttributeTypes()})
	if err != nil {
		fmt.Fprintln(os.Stderr, "the dev server (run make tools):", err)
		os.Exit(1)
	}
	cfg := herokusim.DefaultConfig()
	cfg.ProvisionDelay = 50 * time.Millisecond
	cfg.Apps = map[string]string{"acme-isv-app": "acme-team"}
	sim, err := herokusim.New(cfg)
	if err != nil {
		panic(err)
	}
	hs := httptest.NewServer(sim)
	sim.SetPublicURL(hs.URL)
	hc, err := heroku.New(heroku.Options{PlatformURL: hs.URL, ConnectURL: hs.URL, Token: testenv.Token})
	if err != nil {
		panic(err)
	}
	if _, err := hc.CreateIntegration(ctx, heroku.IntegrationCreate{Slug: "acme", Name: "Acme Sync", Team: "acme-team",
		ContactEmail: "dev@acme.example", Description: "Acme", DocsURL: "https://acme.example/docs",
		Logo: heroku.Logo{Filename: "logo.png", Data: logotest.PNG(200, 200)}}); err != nil {
		panic(err)
	}
	c := srv.Client()
	w, err := runworker.Start(c, &activities.Activities{Heroku: hc, Temporal: c, Settings: testenv.FastSettings(), Payloads: copts.DataConverter},
		runworker.Options{})
	if err != nil {
		panic(err)
	}
	if _, err := onboarding.New(c, "", "").AdoptPartner(ctx, "acme"); err != nil {
		panic(err)
	}
	return c, func() { w.Stop(); hs.Close(); _ = sim.Close(); _ = srv.Stop() }
}
